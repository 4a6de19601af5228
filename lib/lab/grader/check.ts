// A graded check, as lessons/NN-topic/checks.ts declares it. Checks are black-box: they reach an
// engine only through its CLI (GradeContext.run/start, which spawn `ENGINE run --rm ...`) and
// the kernel (/proc, mountinfo, ip), so they grade this project's engine, a learner's, or podman.

export type Outcome =
  | { status: 'pass'; detail?: string }
  | { status: 'fail'; diagnosis: string }
  | { status: 'skip'; reason: string };

/** What the host must offer for a check to be possible (else: SKIP, with the reason). */
export type HostCapability = 'host:cc-static' | 'host:ipcmk' | 'host:nsenter' | 'host:loop-device';

export interface CheckDef {
  /** "05-pid-one": the lesson's number, then a name. */
  id: string;
  title: string;
  points: number;
  /** Shown when the check fails: where to look, what to do. */
  hint: string;
  /**
   * Checks that must pass first (earlier ones of this lesson, or of earlier lessons: a lesson
   * builds on the ones before), and host capabilities. A needed check that is not part of the
   * run (grade --lessons 6 alone) is not waited for.
   */
  needs?: (string | HostCapability)[];
  /** Seconds before the check is stopped (default 60). */
  timeout?: number;
  run(g: GradeContext): Promise<Outcome>;
}

export interface LessonChecks {
  lesson: number;
  title: string;
  checks: CheckDef[];
}

export interface EngineResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The command line, for diagnoses. */
  command: string;
  timedOut: boolean;
}

/** A container left running by GradeContext.start(): its shell waits for its stdin to close. */
export interface Running {
  /** The container's process as the host numbers it. */
  pid: number;
  /** Output so far. */
  stdout(): string;
  /** Send a signal to the engine's CLI process (docker's --sig-proxy forwards it). */
  signalEngine(sig: NodeJS.Signals): void;
  /** Close the container's stdin without waiting: a script started with `after` goes on with it. */
  closeStdin(): void;
  /** Wait for the engine to exit by itself; undefined if it has not within `timeoutMs`. */
  exited(timeoutMs: number): Promise<EngineResult | undefined>;
  /** Close the container's stdin and wait for the engine to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<EngineResult>;
}

/** A container started by GradeContext.detach(). */
export interface Detached {
  /** How to name it to the engine: its --name. */
  name: string;
  /** What `run -d` printed last: the container's ID, for docker and podman. */
  id: string;
  /** The `run -d` command's result (it must have returned for there to be one). */
  result: EngineResult;
  /** `ENGINE inspect --format '{{.State.Pid}}' NAME`: the container's process on the host, if running. */
  pid(): Promise<number | undefined>;
}

export interface GradeContext {
  /** The busybox root filesystem the grader made; every container runs on it (--rootfs). */
  readonly rootfs: string;
  /** A directory of the grader's on the host, outside the rootfs. */
  readonly tmp: string;
  /** A fresh random word: "lab" + 10 hex digits, or prefix + them. */
  token(prefix?: string): string;
  randomInt(min: number, max: number): number;
  /**
   * `ENGINE run --rm FLAGS --rootfs ROOTFS CMD...` (and -i when there is input); with `image`
   * (from image()), `ENGINE run --rm FLAGS IMAGE CMD...`.
   */
  run(flags: string[], cmd: string[], opts?: { input?: string; timeoutMs?: number; image?: string }): Promise<EngineResult>;
  /**
   * `ENGINE run --rm -i FLAGS --rootfs ROOTFS sh -c "SCRIPT; echo READY; read; AFTER"`: returns
   * once the script has run and the container waits, with its PID found on the host. Without
   * `after` the container exits 0 when its stdin closes; with it, it runs `after` then.
   */
  start(flags: string[], script: string, opts?: { timeoutMs?: number; after?: string; image?: string }): Promise<Running>;
  /**
   * Any other command of the engine's CLI, as is: `ENGINE ARGS...` (pause NAME, update -m 64m
   * NAME, inspect --format ... NAME, run without --rm...). Default time limit 30 s.
   */
  engine(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<EngineResult>;
  /**
   * The busybox sandbox image, loaded into the engine once per grading (`ENGINE load -i FILE`, an
   * OCI archive named localhost/container-lab-busybox:RANDOM) and removed when grading ends
   * (`ENGINE rmi`): its name, for the `image` option of run, start and detach. Throws (the check
   * fails) when the engine cannot load it.
   */
  image(): Promise<string>;
  /**
   * `ENGINE run -d --name NAME FLAGS --rootfs ROOTFS CMD...` (IMAGE with `image`): a detached
   * container, removed with `ENGINE rm -f NAME` when the check ends (and its process killed, if
   * the engine leaves it running). Flags with a --name of their own replace the random NAME.
   */
  detach(flags: string[], cmd: string[], opts?: { image?: string; timeoutMs?: number }): Promise<Detached>;
  /** Undo something the check made (runs even if the check fails or times out). */
  defer(what: string, undo: () => void | Promise<void>): void;
}

export function defineChecks(def: LessonChecks): LessonChecks {
  const prefix = String(def.lesson).padStart(2, '0') + '-';
  const ids = new Set<string>();
  for (const c of def.checks) {
    if (!c.id.startsWith(prefix)) throw new Error(`check ${c.id} of lesson ${def.lesson} must start with ${prefix}`);
    if (ids.has(c.id)) throw new Error(`check id ${c.id} appears twice`);
    for (const n of c.needs ?? []) {
      if (n.startsWith('host:') || ids.has(n)) continue;
      if (!(Number(n.slice(0, 2)) < def.lesson)) throw new Error(`check ${c.id} needs ${n}, which must be an earlier check of this lesson or a check of an earlier lesson`);
    }
    ids.add(c.id);
  }
  return def;
}

export const passed = (detail?: string): Outcome => ({ status: 'pass', detail });
export const failed = (diagnosis: string): Outcome => ({ status: 'fail', diagnosis });
export const skipped = (reason: string): Outcome => ({ status: 'skip', reason });

/** A short quote of an engine's output for a diagnosis. */
export function quote(text: string, max = 400): string {
  const t = text.trim();
  if (!t) return '(nothing)';
  return t.length > max ? t.slice(0, max) + '…' : t;
}

/** "exit 3, stdout: ..., stderr: ..." */
export function described(r: EngineResult): string {
  if (r.timedOut) return `\`${r.command}\` did not finish in time`;
  return `\`${r.command}\` exited ${r.code}; stdout: ${quote(r.stdout, 200)}; stderr: ${quote(r.stderr, 300)}`;
}
