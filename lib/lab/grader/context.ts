// The GradeContext a check gets: how to run the engine (always as `ENGINE run --rm ... --rootfs
// DIR CMD`, the docker-compatible subset that podman shares) and random parameters.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { sleepSync, type CleanupStack } from '../cleanup.js';
import { findShellWithToken, isAlive, startTimeOf, stateOf, waitFor } from '../proc.js';
import { shellQuote } from './words.js';
import type { EngineResult, GradeContext, Running } from './check.js';
import { GradeImage } from './image.js';

export interface EngineSpec {
  /** The command and its fixed arguments, e.g. ["podman"] or ["/path/bin/mini-docker.js"]. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** How reports name it. */
  label: string;
  /**
   * The engine's working directory: the grader's own, removed when grading ends, so that what an
   * engine leaves in its cwd goes with it (podman's conmon writes a file "oom" there when the OOM
   * killer ends a container). Default: the grader's cwd.
   */
  cwd?: string;
}

/** A check cannot go on (the engine did not start a container...): it fails with this. */
export class CheckAbort extends Error {}

interface Spawned {
  child: ChildProcess;
  command: string;
  result: Promise<EngineResult>;
  stdout(): string;
  kill(): void;
}

export function spawnEngine(engine: EngineSpec, args: string[], opts: { input?: string | 'keep-open'; timeoutMs: number }): Spawned {
  const [cmd, ...fixed] = engine.argv;
  const argv = [...fixed, ...args];
  const command = [engine.label, ...args].map(shellQuote).join(' ');
  // Its own process group (detached), so that a timeout can stop the engine and what it spawned.
  const child = spawn(cmd!, argv, { detached: true, env: engine.env, cwd: engine.cwd, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => {}); // the engine exited before reading its input
  if (typeof opts.input === 'string' && opts.input !== 'keep-open') child.stdin!.end(opts.input);
  const kill = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const result = new Promise<EngineResult>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${(e as NodeJS.ErrnoException).code === 'ENOENT' ? `${cmd}: command not found` : e.message}`, command, timedOut });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr, command, timedOut });
    });
  });
  return { child, command, result, stdout: () => stdout, kill };
}

/**
 * `image`: the grading's image (loaded once for all checks); without it, a check that asks for the
 * image loads it for itself.
 */
export function makeGradeContext(engine: EngineSpec, rootfs: string, tmp: string, stack: CleanupStack, image?: GradeImage): GradeContext {
  const source = (img?: string) => (img ? [img] : ['--rootfs', rootfs]);
  const runArgs = (flags: string[], cmd: string[], interactive: boolean, img?: string) => ['run', '--rm', ...(interactive ? ['-i'] : []), ...flags, ...source(img), ...cmd];
  const images = image ?? new GradeImage(engine, tmp, stack);
  return {
    rootfs,
    tmp,
    token: (prefix = 'lab') => `${prefix}${randomBytes(5).toString('hex')}`,
    randomInt: (min, max) => randomInt(min, max + 1),
    defer: (what, undo) => stack.defer(what, undo),

    async run(flags, cmd, opts = {}) {
      const s = spawnEngine(engine, runArgs(flags, cmd, opts.input !== undefined, opts.image), { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
      stack.defer(`the engine process of ${s.command}`, s.kill);
      return s.result;
    },

    async engine(args, opts = {}) {
      const s = spawnEngine(engine, args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 30_000 });
      stack.defer(`the engine process of ${s.command}`, s.kill);
      return s.result;
    },

    image: () => images.get(),

    async detach(flags, cmd, opts = {}) {
      const at = flags.indexOf('--name');
      const name = at >= 0 && flags[at + 1] ? flags[at + 1]! : `lab-${randomBytes(5).toString('hex')}`;
      let seen: { pid: number; start?: string } | undefined;
      const pid = async () => {
        const r = await spawnEngine(engine, ['inspect', '--format', '{{.State.Pid}}', name], { timeoutMs: 30_000 }).result;
        const p = Number(r.stdout.trim());
        if (r.code !== 0 || !Number.isInteger(p) || p <= 0) return undefined;
        seen = { pid: p, start: startTimeOf(p) };
        return p;
      };
      // Removed by the engine; if the engine cannot, its process (the one we saw, not a reuse of
      // the pid) is killed so that nothing of the check keeps running.
      stack.defer(`the detached container ${name}`, async () => {
        await pid();
        // kill (SIGKILL) first: podman's rm -f would give a container that ignores SIGTERM 10 s.
        if (seen && isAlive(seen.pid)) await spawnEngine(engine, ['kill', name], { timeoutMs: 30_000 }).result;
        await spawnEngine(engine, ['rm', '-f', name], { timeoutMs: 30_000 }).result;
        if (seen && isAlive(seen.pid) && stateOf(seen.pid) !== 'Z' && startTimeOf(seen.pid) === seen.start) {
          try {
            process.kill(seen.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      });
      const args = ['run', '-d', ...(at >= 0 ? [] : ['--name', name]), ...flags, ...source(opts.image), ...cmd];
      const s = spawnEngine(engine, args, { timeoutMs: opts.timeoutMs ?? 30_000 });
      stack.defer(`the engine process of ${s.command}`, s.kill);
      const result = await s.result;
      return { name, id: result.stdout.trim().split('\n').pop()?.trim() ?? '', result, pid };
    },

    async start(flags, script, opts = {}) {
      const ready = `ready${randomBytes(5).toString('hex')}`;
      const full = `${script}\necho ${ready}\nread _ignored\n${opts.after ?? 'exit 0'}`;
      const s = spawnEngine(engine, runArgs(flags, ['sh', '-c', full], true, opts.image), { input: 'keep-open', timeoutMs: opts.timeoutMs ?? 60_000 });
      let pid: number | undefined;
      let exited: EngineResult | undefined;
      void s.result.then((r) => (exited = r));
      const gone = (p: number) => !isAlive(p) || stateOf(p) === 'Z';
      stack.defer(`the container of ${s.command}`, () => {
        s.child.stdin?.end();
        if (pid && !gone(pid)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
        const end = Date.now() + 3000;
        while (s.child.exitCode === null && s.child.signalCode === null && isAlive(s.child.pid!) && stateOf(s.child.pid!) !== 'Z' && Date.now() < end) sleepSync(25);
        s.kill();
      });
      const ok = await waitFor(() => (exited ? 'exited' : s.stdout().includes(ready) ? 'ready' : undefined), opts.timeoutMs ?? 20_000);
      if (ok !== 'ready') {
        const r = exited ?? { code: -1, stdout: s.stdout(), stderr: '', command: s.command, timedOut: true };
        throw new CheckAbort(
          exited
            ? `the container did not get to the end of its start script: \`${s.command}\` exited ${r.code}; stdout: ${r.stdout.trim() || '(nothing)'}; stderr: ${r.stderr.trim() || '(nothing)'}`
            : `the container did not get ready within ${(opts.timeoutMs ?? 20_000) / 1000}s: \`${s.command}\``,
        );
      }
      const found = await waitFor(() => {
        const ps = findShellWithToken(ready);
        return ps.length === 1 ? ps[0] : undefined;
      }, 5000);
      if (!found) throw new CheckAbort(`the container runs, but no process \`sh -c "...${ready}..."\` is visible from the host`);
      pid = found;
      const strip = (text: string) => text.replace(`${ready}\n`, '');
      const running: Running = {
        pid: found,
        stdout: () => strip(s.stdout()),
        closeStdin: () => void s.child.stdin?.end(),
        signalEngine: (sig) => {
          try {
            process.kill(s.child.pid!, sig);
          } catch {
            // gone
          }
        },
        async exited(timeoutMs) {
          let timer: NodeJS.Timeout | undefined;
          const r = await Promise.race([s.result, new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), timeoutMs)))]);
          clearTimeout(timer);
          return r && { ...r, stdout: strip(r.stdout) };
        },
        async stop(graceMs = 5000) {
          s.child.stdin?.end();
          const t = setTimeout(() => {
            if (!gone(found)) {
              try {
                process.kill(found, 'SIGKILL');
              } catch {
                // gone
              }
            }
          }, graceMs);
          const r = await s.result;
          clearTimeout(t);
          return { ...r, stdout: strip(r.stdout) };
        },
      };
      return running;
    },
  };
}
