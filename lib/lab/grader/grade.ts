// Grading: run the checks of the chosen lessons against an engine, in order, each with its own
// cleanup stack and time limit; a check whose needs are not met is skipped with the reason.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CleanupStack, withCleanup } from '../cleanup.js';
import { importFromLesson, lessonEntries } from '../catalog.js';
import { LabError } from '../errors.js';
import { referenceEngine } from '../paths.js';
import { makeBusyboxRootfs } from '../rootfs.js';
import { makeLabDir, removeLabDir } from '../tempdir.js';
import { CheckAbort, makeGradeContext, type EngineSpec } from './context.js';
import { missingCapability } from './host.js';
import { GradeImage } from './image.js';
import { splitWords } from './words.js';
import { described, type CheckDef, type HostCapability, type LessonChecks, type Outcome } from './check.js';

export interface CheckResult {
  lesson: number;
  lessonTitle: string;
  id: string;
  title: string;
  points: number;
  earned: number;
  status: Outcome['status'];
  detail?: string;
  diagnosis?: string;
  hint?: string;
  reason?: string;
  ms: number;
}

export interface GradeReport {
  engine: string;
  lessons: number[];
  startedAt: string;
  finishedAt: string;
  results: CheckResult[];
}

export interface GradeOptions {
  /** The engine's command line; default this project's mini-docker. */
  engine?: string;
  lessons: number[];
  /** Only these check ids. */
  only?: string[];
  onPlan?(total: number, engine: string): void;
  onResult?(r: CheckResult, index: number): void;
}

export async function loadChecks(lessons: number[]): Promise<LessonChecks[]> {
  const entries = lessonEntries();
  const out: LessonChecks[] = [];
  for (const n of lessons) {
    const e = entries.find((x) => x.number === n);
    if (!e) throw new LabError(`there is no lesson ${n}`, `lessons: ${entries.map((x) => x.number).join(', ')}`);
    const checks = await importFromLesson<LessonChecks>(e, 'checks.js');
    if (checks) out.push(checks);
  }
  return out;
}

export function engineSpec(engine: string | undefined, dataRoot: string): EngineSpec {
  const env = { ...process.env, MINI_DOCKER_ROOT: dataRoot };
  if (!engine) return { argv: [referenceEngine()], env, label: 'mini-docker' };
  let argv: string[];
  try {
    argv = splitWords(engine);
  } catch (e) {
    throw new LabError(`--engine: ${(e as Error).message}`);
  }
  if (!argv.length) throw new LabError('--engine is empty', 'give a command, e.g. --engine podman or --engine ./my-engine/bin/mini-docker.js');
  // A relative path names a file from here: the engine runs in the grader's directory (cwd).
  if (argv[0]!.includes('/')) argv[0] = resolve(argv[0]!);
  return { argv, env, label: engine };
}

export async function grade(opts: GradeOptions): Promise<GradeReport> {
  const suites = await loadChecks(opts.lessons);
  const selected = suites.map((s) => ({ ...s, checks: s.checks.filter((c) => !opts.only || opts.only.includes(c.id)) })).filter((s) => s.checks.length);
  const total = selected.reduce((n, s) => n + s.checks.length, 0);
  if (!total) throw new LabError(`no checks to run for lessons ${opts.lessons.join(', ')}${opts.only ? ` with ids ${opts.only.join(', ')}` : ''}`);
  const startedAt = new Date().toISOString();

  return withCleanup(async (stack) => {
    const dir = makeLabDir('grade');
    stack.defer(`the grading directory ${dir}`, () => removeLabDir(dir));
    const rootfs = makeBusyboxRootfs(join(dir, 'rootfs'));
    const dataRoot = join(dir, 'engine-root');
    mkdirSync(dataRoot, { mode: 0o755 });
    const host = join(dir, 'host');
    mkdirSync(host, { mode: 0o755 });
    const engine = { ...engineSpec(opts.engine, dataRoot), cwd: host };
    opts.onPlan?.(total, engine.label);

    const preflight = await preflightEngine(engine, rootfs, host);
    // Loaded on first use by a check, removed from the engine's store when grading ends.
    const image = new GradeImage(engine, host, stack);
    const results: CheckResult[] = [];
    let index = 0;
    const byId = new Map<string, CheckResult>();
    for (const suite of selected) {
      for (const check of suite.checks) {
        const started = Date.now();
        const outcome = preflight ? { status: 'fail' as const, diagnosis: preflight } : await runCheck(check, byId, engine, rootfs, host, image);
        const r = toResult(suite, check, outcome, Date.now() - started);
        byId.set(check.id, r);
        results.push(r);
        opts.onResult?.(r, ++index);
      }
    }
    return { engine: engine.label, lessons: opts.lessons, startedAt, finishedAt: new Date().toISOString(), results };
  });
}

/** Can the engine run a container at all? If not, every check fails with this reason. */
async function preflightEngine(engine: EngineSpec, rootfs: string, host: string): Promise<string | undefined> {
  const stack = new CleanupStack();
  try {
    const g = makeGradeContext(engine, rootfs, host, stack);
    const r = await g.run([], ['true']);
    if (r.code === 0) return undefined;
    return `the engine cannot run even \`true\` in a container: ${described(r)}`;
  } finally {
    await stack.run();
  }
}

function unmetNeed(check: CheckDef, byId: Map<string, CheckResult>, host: string): string | undefined {
  for (const need of check.needs ?? []) {
    if (need.startsWith('host:')) {
      const why = missingCapability(need as HostCapability, host);
      if (why) return why;
      continue;
    }
    const before = byId.get(need);
    if (before && before.status !== 'pass') return `needs ${need}, which ${before.status === 'fail' ? 'failed' : 'was skipped'}`;
  }
  return undefined;
}

async function runCheck(check: CheckDef, byId: Map<string, CheckResult>, engine: EngineSpec, rootfs: string, host: string, image: GradeImage): Promise<Outcome> {
  const unmet = unmetNeed(check, byId, host);
  if (unmet) return { status: 'skip', reason: unmet };
  const stack = new CleanupStack();
  const g = makeGradeContext(engine, rootfs, host, stack, image);
  const limit = (check.timeout ?? 60) * 1000;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check.run(g),
      new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => resolve({ status: 'fail', diagnosis: `the check did not finish within ${limit / 1000}s (a container that never exits?)` }), limit);
      }),
    ]);
  } catch (e) {
    if (e instanceof CheckAbort) return { status: 'fail', diagnosis: e.message };
    return { status: 'fail', diagnosis: `the check could not run: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
    await stack.run();
  }
}

function toResult(suite: LessonChecks, check: CheckDef, o: Outcome, ms: number): CheckResult {
  return {
    lesson: suite.lesson,
    lessonTitle: suite.title,
    id: check.id,
    title: check.title,
    points: check.points,
    earned: o.status === 'pass' ? check.points : 0,
    status: o.status,
    detail: o.status === 'pass' ? o.detail : undefined,
    diagnosis: o.status === 'fail' ? o.diagnosis : undefined,
    hint: o.status === 'fail' ? check.hint : undefined,
    reason: o.status === 'skip' ? o.reason : undefined,
    ms,
  };
}
