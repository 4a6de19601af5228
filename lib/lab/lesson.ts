// A lesson is a list of steps, each one of five kinds (plus `act` for the lab's own set-up):
//   explain   a short piece of markdown
//   run       a real shell command (through zx), printed before it runs, its output shown
//   show      the kernel's answer: a command that reads /proc, mountinfo, hostname...
//   check     decides whether the effect is there: a pass, or a diagnosis saying what is wrong
//   question  multiple choice, with the explanation of the right answer
// lessons/NN-topic/lesson.ts default-exports defineLesson({...}); the runner does the rest.

/** What a step can use: the lesson's directory, variables for its commands, its cleanup stack. */
export interface LessonContext {
  /** The lesson's own temporary directory ($LAB). */
  readonly tmp: string;
  /** Exported to every command: ROOTFS, LAB, MINI_DOCKER_ROOT, and what steps add (PID...). */
  readonly vars: Record<string, string>;
  /** Free-form values steps leave for later steps. */
  readonly state: Record<string, unknown>;
  /** True when running without a terminal (--yes). */
  readonly yes: boolean;
  /** Undo something the step made, when the lesson ends or is interrupted. */
  defer(what: string, undo: () => void | Promise<void>): void;
  /** Run a shell command quietly (not shown), with the lesson's variables. */
  sh(command: string, opts?: { timeoutMs?: number; input?: string }): Promise<ShellResult>;
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they came, interleaved. */
  all: string;
}

export type Verdict = { ok: true; detail?: string } | { ok: false; diagnosis: string };

type Dyn<T> = T | ((ctx: LessonContext) => T);

export interface ExplainStep {
  kind: 'explain';
  markdown: string;
}

export interface RunStep {
  kind: 'run' | 'show';
  /** What the command shows, in a few words (a show step's heading). */
  title?: string;
  command: Dyn<string>;
  /** Exit codes that count as success (default 0); 'any' for commands meant to fail. */
  expect?: number | number[] | 'any';
  /** Seconds before the command is stopped (default 120). */
  timeout?: number;
  /**
   * Start the command and leave it running (until the lesson ends): once one of its
   * descendants has the command name `comm`, its PID is put in the variable `as`.
   */
  background?: { as: string; comm: string };
  /** Called with the result, e.g. to keep a value for later steps. */
  then?: (ctx: LessonContext, result: ShellResult) => void | Promise<void>;
}

export interface CheckStep {
  kind: 'check';
  title: string;
  run: (ctx: LessonContext) => Verdict | Promise<Verdict>;
}

export interface QuestionStep {
  kind: 'question';
  message: string;
  choices: { name: string; correct?: boolean }[];
  explanation: string;
}

export interface ActStep {
  kind: 'act';
  title: string;
  run: (ctx: LessonContext) => void | string | Promise<void | string>;
}

export type Step = ExplainStep | RunStep | CheckStep | QuestionStep | ActStep;

export interface LessonDef {
  title: string;
  /** One line for the menu. */
  summary: string;
  /** Make a busybox root filesystem in $ROOTFS before the first step. */
  rootfs?: boolean;
  steps: Step[];
}

/** What the runner works with: the definition plus what the lesson's directory name says. */
export interface Lesson extends LessonDef {
  id: string;
  number: number;
  /** book/NN-topic.md */
  chapter: string;
}

export function defineLesson(def: LessonDef): LessonDef {
  if (!def.steps.length) throw new Error(`lesson "${def.title}" has no steps`);
  for (const s of def.steps) {
    if (s.kind === 'question' && s.choices.filter((c) => c.correct).length !== 1) {
      throw new Error(`lesson "${def.title}": the question "${s.message}" needs exactly one correct choice`);
    }
  }
  return def;
}

export const explain = (markdown: string): ExplainStep => ({ kind: 'explain', markdown: markdown.replace(/^\n+/, '').replace(/\s+$/, '') });

export const run = (command: Dyn<string>, opts: Omit<RunStep, 'kind' | 'command'> = {}): RunStep => ({ kind: 'run', command, ...opts });

export const show = (title: string, command: Dyn<string>, opts: Omit<RunStep, 'kind' | 'command' | 'title'> = {}): RunStep => ({ kind: 'show', title, command, ...opts });

export const check = (title: string, fn: CheckStep['run']): CheckStep => ({ kind: 'check', title, run: fn });

export const question = (q: Omit<QuestionStep, 'kind'>): QuestionStep => ({ kind: 'question', ...q });

export const act = (title: string, fn: ActStep['run']): ActStep => ({ kind: 'act', title, run: fn });

export const pass = (detail?: string): Verdict => ({ ok: true, detail });
export const fail = (diagnosis: string): Verdict => ({ ok: false, diagnosis });
