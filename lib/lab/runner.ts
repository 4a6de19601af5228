// `container-lab lesson N`: run a lesson's steps in order, in a directory of its own, with a
// pause (Enter) between steps, and undo everything it made when it ends or is interrupted.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { c, out, err, indent, mark, pause, spinner } from './ui.js';
import { withCleanup, sleepSync, type CleanupStack } from './cleanup.js';
import { lessonEntry, loadLesson } from './catalog.js';
import { ProgressStore } from './progress.js';
import { makeLabDir, removeLabDir } from './tempdir.js';
import { referenceEngine } from './paths.js';
import { descendants, comm, isAlive, stateOf, waitFor } from './proc.js';
import { LabError } from './errors.js';
import type { Lesson, LessonContext, RunStep, ShellResult, Step, Verdict } from './lesson.js';

export interface RunOptions {
  /** No terminal: no pauses, questions answered, checks still enforced. */
  yes: boolean;
  progress?: ProgressStore;
  /** Start over even if the lesson is in progress. */
  restart?: boolean;
}

class StepFailed extends Error {}
class Quit extends Error {}

/** Run lesson n; resolves to the process exit code (0 done, 1 a check failed, 2 quit early). */
export async function runLesson(n: number, opts: RunOptions): Promise<number> {
  const lesson = await loadLesson(lessonEntry(n));
  if (n > 0 && process.getuid?.() !== 0) {
    throw new LabError(`lesson ${n} creates namespaces and mounts on the real kernel: run it as root`, `sudo container-lab lesson ${n}`);
  }
  if (!opts.yes && !(process.stdin.isTTY && process.stdout.isTTY)) {
    throw new LabError(`lesson ${n} pauses between steps and needs a terminal`, `run it in a terminal, or without one: container-lab lesson ${n} --yes`);
  }
  const progress = opts.progress ?? new ProgressStore();
  let start = 0;
  const saved = progress.get(lesson.id);
  if (!opts.restart && saved?.status === 'in-progress' && saved.step > 0 && saved.step < lesson.steps.length && !opts.yes) {
    const { select } = await import('@inquirer/prompts');
    const where = await prompt(() =>
      select({
        message: `Lesson ${n} is in progress (next: step ${saved.step + 1} of ${lesson.steps.length}).`,
        choices: [
          { name: `Resume at step ${saved.step + 1}`, value: saved.step },
          { name: 'Start over', value: 0 },
        ],
      }),
    );
    start = where;
  }

  out(c.bold.magenta(`\nLesson ${n} · ${lesson.title}`));
  out(c.dim(`${lesson.summary}\nThe chapter: container-lab read ${n}   ·   graded checks: container-lab grade --lessons ${n}\n`));

  return withCleanup(async (stack) => {
    const ctx = await makeContext(lesson, stack, opts.yes);
    out(c.dim('Commands below use these variables:'));
    for (const k of ['LAB', 'ROOTFS', 'MINI_DOCKER_ROOT']) if (ctx.vars[k]) out(c.dim(`  ${k}=${ctx.vars[k]}`));
    out(c.dim('  mini-docker is this project\'s engine (bin/mini-docker), with a data root of the lesson\'s own.\n'));

    if (start > 0) {
      const sp = spinner(`catching up: redoing the set-up of steps 1-${start} quietly`);
      try {
        for (let i = 0; i < start; i++) await replayQuietly(lesson.steps[i]!, ctx);
      } finally {
        sp.stop();
      }
    }

    let checksPassed = 0;
    for (let i = start; i < lesson.steps.length; i++) {
      const step = lesson.steps[i]!;
      if (!opts.yes && i > start && step.kind !== 'question') {
        if ((await pause()) === 'quit') {
          out(c.dim(`Stopped at step ${i + 1}. container-lab lesson ${n} resumes here.`));
          return 2;
        }
      }
      out(c.dim(`── ${i + 1}/${lesson.steps.length} ${'─'.repeat(40)}`));
      try {
        for (;;) {
          try {
            const ok = await runStep(step, ctx, opts.yes);
            if (ok && step.kind === 'check') checksPassed++;
            break;
          } catch (e) {
            if (!(e instanceof StepFailed) || opts.yes) throw e;
            const choice = await askAfterFailure();
            if (choice === 'retry') continue;
            if (choice === 'quit') throw new Quit();
            break;
          }
        }
      } catch (e) {
        if (e instanceof Quit) {
          out(c.dim(`Stopped at step ${i + 1}. container-lab lesson ${n} resumes here.`));
          return 2;
        }
        if (e instanceof StepFailed) {
          err(c.red(`\nLesson ${n} stopped: step ${i + 1} failed (see above).`));
          progress.set(lesson.id, { status: 'in-progress', step: i, steps: lesson.steps.length });
          return 1;
        }
        throw e;
      }
      progress.set(lesson.id, { status: 'in-progress', step: i + 1, steps: lesson.steps.length });
    }
    progress.set(lesson.id, { status: 'done', step: lesson.steps.length, steps: lesson.steps.length });
    const checks = lesson.steps.filter((s) => s.kind === 'check').length;
    out(c.green.bold(`\n${mark.pass()} Lesson ${n} done`) + c.dim(checks ? ` (${checksPassed} of ${checks} checks passed this run)` : ''));
    out(c.dim(`Cleaning up what the lesson made... then: container-lab grade --lessons ${n}, or the next lesson.`));
    return 0;
  });
}

async function askAfterFailure(): Promise<'retry' | 'continue' | 'quit'> {
  const { select } = await import('@inquirer/prompts');
  return prompt(() =>
    select({
      message: 'What now?',
      choices: [
        { name: 'Try the step again', value: 'retry' as const },
        { name: 'Go on anyway', value: 'continue' as const },
        { name: 'Stop here (resume later)', value: 'quit' as const },
      ],
    }),
  );
}

/** An inquirer prompt whose Ctrl-C behaves like Ctrl-C elsewhere: clean up, then exit. */
export async function prompt<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (e) {
    if ((e as Error)?.name === 'ExitPromptError') {
      process.kill(process.pid, 'SIGINT');
      return new Promise<T>(() => {}); // the SIGINT handler cleans up and exits
    }
    throw e;
  }
}

async function makeContext(lesson: Lesson, stack: CleanupStack, yes: boolean): Promise<LessonContext> {
  const tmp = makeLabDir(`lesson${String(lesson.number).padStart(2, '0')}`);
  stack.defer(`the lesson directory ${tmp}`, () => removeLabDir(tmp));
  mkdirSync(join(tmp, 'bin'));
  symlinkSync(referenceEngine(), join(tmp, 'bin', 'mini-docker'));
  const engineRoot = join(tmp, 'engine-root');
  mkdirSync(engineRoot, { mode: 0o755 });
  const vars: Record<string, string> = {
    LAB: tmp,
    MINI_DOCKER_ROOT: engineRoot,
    PATH: `${join(tmp, 'bin')}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}`,
  };
  const ctx: LessonContext = {
    tmp,
    vars,
    state: {},
    yes,
    defer: (what, undo) => stack.defer(what, undo),
    sh: (command, o = {}) => shell(command, vars, tmp, (o.timeoutMs ?? 120_000), o.input),
  };
  if (lesson.rootfs) {
    const { makeBusyboxRootfs } = await import('./rootfs.js');
    vars.ROOTFS = makeBusyboxRootfs(join(tmp, 'rootfs'));
  }
  return ctx;
}

async function shell(command: string, vars: Record<string, string>, cwd: string, timeoutMs: number, input?: string): Promise<ShellResult> {
  const { $ } = await import('zx/core');
  const o = await $({
    nothrow: true,
    quiet: true,
    verbose: false,
    env: { ...process.env, ...vars },
    cwd,
    timeout: timeoutMs,
    timeoutSignal: 'SIGKILL',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  })`bash -c ${command}`;
  const code = o.exitCode ?? (o.signal ? 128 + (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 } as Record<string, number>)[o.signal] ?? 0) : 1);
  return { code, stdout: o.stdout, stderr: o.stderr, all: o.stdall };
}

function textOf(v: string | ((ctx: LessonContext) => string), ctx: LessonContext): string {
  return typeof v === 'function' ? v(ctx) : v;
}

function expected(step: RunStep, code: number): boolean {
  const e = step.expect ?? 0;
  if (e === 'any') return true;
  return Array.isArray(e) ? e.includes(code) : e === code;
}

/** Runs one step; throws StepFailed when a command or a check did not do what it should. */
async function runStep(step: Step, ctx: LessonContext, yes: boolean): Promise<boolean> {
  switch (step.kind) {
    case 'explain': {
      const { renderMarkdown } = await import('./markdown.js');
      out(await renderMarkdown(step.markdown));
      return true;
    }
    case 'run':
    case 'show': {
      const cmd = textOf(step.command, ctx);
      if (step.kind === 'show') out(c.cyan.bold(`The kernel's answer: ${step.title ?? ''}`));
      else if (step.title) out(c.bold(step.title));
      out(c.cyan('$ ') + c.bold(cmd));
      if (step.background) return startBackground(step, cmd, ctx);
      const sp = spinner(cmd.length > 60 ? cmd.slice(0, 57) + '...' : cmd);
      let r: ShellResult;
      try {
        r = await ctx.sh(cmd, { timeoutMs: (step.timeout ?? 120) * 1000 });
      } finally {
        sp.stop();
      }
      out(indent(r.all));
      if (!expected(step, r.code)) {
        const want = step.expect === undefined ? 0 : step.expect;
        out(`${mark.fail()} ${c.red(`the command exited with ${r.code}, expected ${Array.isArray(want) ? want.join(' or ') : want}`)}`);
        throw new StepFailed();
      }
      if (r.code !== 0) out(c.dim(`  (exit status ${r.code}, as expected)`));
      await step.then?.(ctx, r);
      return true;
    }
    case 'check': {
      out(c.bold(`Check: ${step.title}`));
      let v: Verdict;
      try {
        v = await step.run(ctx);
      } catch (e) {
        v = { ok: false, diagnosis: `the check itself failed: ${(e as Error).message}` };
      }
      if (v.ok) {
        out(`${mark.pass()} ${c.green('pass')}${v.detail ? c.dim(' · ' + v.detail) : ''}`);
        return true;
      }
      out(`${mark.fail()} ${c.red('not yet')}\n${indent(v.diagnosis, '    ')}`);
      throw new StepFailed();
    }
    case 'question': {
      const right = step.choices.findIndex((ch) => ch.correct);
      let answer = right;
      if (yes) {
        out(c.bold(`Question: ${step.message}`));
        out(c.dim(`  (answered for you: ${step.choices[right]!.name})`));
      } else {
        const { select } = await import('@inquirer/prompts');
        answer = await prompt(() => select({ message: step.message, choices: step.choices.map((ch, i) => ({ name: ch.name, value: i })) }));
      }
      const { renderMarkdown } = await import('./markdown.js');
      out(answer === right ? `${mark.pass()} ${c.green('Right.')}` : `${mark.fail()} ${c.yellow(`Not quite: the answer is "${step.choices[right]!.name}".`)}`);
      out(await renderMarkdown(step.explanation));
      return answer === right;
    }
    case 'act': {
      out(c.bold(step.title));
      const sp = spinner(step.title);
      let note: string | void;
      try {
        note = await step.run(ctx);
      } catch (e) {
        sp.stop();
        out(`${mark.fail()} ${c.red((e as Error).message)}`);
        if ((e as LabError).hint) out(c.dim(`  ${(e as LabError).hint}`));
        throw new StepFailed();
      }
      sp.stop();
      out(`${mark.pass()} ${note ? c.dim(note) : c.dim('done')}`);
      return true;
    }
  }
}

/** On resume: redo what earlier steps set up (commands, background containers), silently. */
async function replayQuietly(step: Step, ctx: LessonContext): Promise<void> {
  if (step.kind === 'act') {
    await step.run(ctx);
  } else if (step.kind === 'run') {
    const cmd = textOf(step.command, ctx);
    if (step.background) {
      await startBackground(step, cmd, ctx, true);
      return;
    }
    const r = await ctx.sh(cmd, { timeoutMs: (step.timeout ?? 120) * 1000 });
    await step.then?.(ctx, r);
  }
}

/** Start a long-running command in its own process group; its container's PID goes in a variable. */
async function startBackground(step: RunStep, cmd: string, ctx: LessonContext, quiet = false): Promise<boolean> {
  const bg = step.background!;
  const log = join(ctx.tmp, `background-${bg.as}.log`);
  const fd = openSync(log, 'w');
  const child = spawn('bash', ['-c', cmd], { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, ...ctx.vars }, cwd: ctx.tmp });
  closeSync(fd);
  const leader = child.pid!;
  let target: number | undefined;
  ctx.defer(`the background command "${cmd}"`, () => stopBackground(leader, target));
  let exited = false;
  child.on('exit', () => (exited = true));
  target = await waitFor(() => (exited ? false : descendants(leader).find((p) => comm(p) === bg.comm)), 10_000);
  if (!target) {
    const logText = readFileSync(log, 'utf8');
    if (!quiet) out(`${mark.fail()} ${c.red(`no "${bg.comm}" process appeared within 10s`)}\n${indent(logText)}`);
    throw new StepFailed();
  }
  ctx.vars[bg.as] = String(target);
  if (!quiet) out(`${mark.info()} running in the background; the container's process is ${c.bold(`${bg.as}=${target}`)} ${c.dim('(as the host numbers it)')}`);
  return true;
}

/** Stop a background container: SIGKILL its process (init ignores SIGTERM), then wait for the engine. */
export function stopBackground(leader: number, target?: number): void {
  const gone = (p: number) => !isAlive(p) || stateOf(p) === 'Z';
  if (target && !gone(target)) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const end = Date.now() + 5000;
  while (!gone(leader) && Date.now() < end) sleepSync(50);
  if (!gone(leader)) {
    try {
      process.kill(-leader, 'SIGKILL');
    } catch {
      // already gone
    }
    sleepSync(100);
  }
}
