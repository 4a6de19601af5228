// The learner's own engine: `container-lab init DIR` copies the engine's layout and replaces each
// lesson's regions with TODO stubs (lessons/NN-topic/stubs.ts); `diff N` compares the learner's
// regions with the reference; `skip N` puts the reference in. Graded out of the box, such an
// engine passes lesson 1 and fails from lesson 2 on.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { lessonEntries, importFromLesson } from './catalog.js';
import { LabError } from './errors.js';
import { repoRoot, TMP_PREFIX } from './paths.js';
import { parseRegions, rawRegionBody, replaceRegion } from './regions.js';
import { ProgressStore } from './progress.js';
import { c, out, err } from './ui.js';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';

/** What the scaffold copies from the project: the engine, its CLI and the native boundary. */
const COPIED = ['lib/engine', 'lib/cli', 'native', 'scripts/build-shim.mjs', 'bin/mini-docker', 'bin/mini-docker.js'];
const MARKER_FILE = '.container-lab.json';

export interface LessonStubs {
  lesson: number;
  stubs: Record<string, string>;
}

export async function allStubs(): Promise<LessonStubs[]> {
  const out: LessonStubs[] = [];
  for (const e of lessonEntries()) {
    const stubs = await importFromLesson<Record<string, string>>(e, 'stubs.js');
    if (stubs) out.push({ lesson: e.number, stubs });
  }
  return out;
}

async function stubsOf(n: number): Promise<Record<string, string>> {
  const s = (await allStubs()).find((x) => x.lesson === n);
  if (!s) throw new LabError(`lesson ${n} has no code to write in the scaffold`, 'lessons with code: ' + (await allStubs()).map((x) => x.lesson).join(', '));
  return s.stubs;
}

/** Every region in an engine tree (lib/engine, lib/cli, native): name -> file (relative). */
export function regionFiles(top: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of ['lib/engine', 'lib/cli', 'native']) {
    const abs = join(top, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs, { recursive: true }) as string[]) {
      if (!/\.(ts|c)$/.test(f) || f.endsWith('.d.ts') || f.includes('node_modules')) continue;
      const rel = join(dir, f);
      const src = readFileSync(join(top, rel), 'utf8');
      if (!src.includes('#region')) continue;
      for (const name of parseRegions(src, rel).keys()) found.set(name, rel);
    }
  }
  return found;
}

function build(dir: string): boolean {
  const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
  out(c.dim(`  compiling: tsc -p ${join(dir, 'tsconfig.json')}`));
  const t = spawnSync(tsc, ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', cwd: dir });
  if (t.status !== 0) {
    // tsc still writes JavaScript on type errors: report them, and go on if the CLI was emitted.
    err(c.yellow(t.stdout.trim().split('\n').slice(0, 20).join('\n')));
    if (!existsSync(join(dir, 'dist', 'lib', 'cli'))) return false;
  }
  out(c.dim('  compiling the native shim: node scripts/build-shim.mjs'));
  const s = spawnSync(process.execPath, ['scripts/build-shim.mjs', '--force'], { encoding: 'utf8', cwd: dir });
  if (s.status !== 0) {
    err(s.stderr);
    return false;
  }
  return true;
}

function learnerDir(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(join(abs, MARKER_FILE))) {
    throw new LabError(`${abs} is not a learner's engine made by container-lab init`, 'give its directory with --dir DIR, or make one: container-lab init DIR');
  }
  return abs;
}

export async function initCommand(dir: string, opts: { build: boolean }): Promise<number> {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length) throw new LabError(`${target} exists and is not empty`, 'give a new directory: container-lab init ~/my-engine');
  const stubs = await allStubs();
  const where = regionFiles(repoRoot);
  mkdirSync(target, { recursive: true });
  for (const p of COPIED) {
    if (existsSync(join(repoRoot, p))) cpSync(join(repoRoot, p), join(target, p), { recursive: true, filter: (src) => !/\/native\/.*\/build(\/|$)/.test(src) });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(target, 'node_modules'));
  writeFileSync(join(target, 'package.json'), JSON.stringify({ name: 'my-mini-docker', private: true, type: 'module', scripts: { build: 'tsc -p tsconfig.json && node scripts/build-shim.mjs' } }, null, 2) + '\n');
  const tsconfig = JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8')) as { include: string[] };
  tsconfig.include = ['lib/**/*.ts', 'native/**/*.ts'];
  writeFileSync(join(target, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n');

  const stubbed: string[] = [];
  for (const { lesson, stubs: regions } of stubs) {
    for (const [name, stub] of Object.entries(regions)) {
      const file = where.get(name);
      if (!file) {
        err(c.yellow(`container-lab: region ${name} (lesson ${lesson}) is not in the engine's sources: that part stays as the reference`));
        continue;
      }
      const path = join(target, file);
      writeFileSync(path, replaceRegion(readFileSync(path, 'utf8'), name, stub, file));
      stubbed.push(`lesson ${lesson}: ${name} (${file})`);
    }
  }
  writeFileSync(join(target, MARKER_FILE), JSON.stringify({ reference: repoRoot, created: new Date().toISOString() }, null, 2) + '\n');
  out(`${c.green('✔')} wrote a starter engine in ${target}`);
  out(c.dim('The parts you write, marked TODO:'));
  for (const s of stubbed) out(c.dim(`  ${s}`));
  if (opts.build && !build(target)) {
    err(c.red('the build failed (see above)'));
    return 1;
  }
  const bin = join(target, 'bin', existsSync(join(target, 'bin', 'mini-docker')) ? 'mini-docker' : 'mini-docker.js');
  out(`\nNext:\n  cd ${target}\n  ${opts.build ? '' : 'npm run build   # compile (again after every change)\n  '}container-lab grade --engine ${bin} --lessons 1-2\n  container-lab diff 2 --dir ${target}    # the reference answer, when stuck\n  container-lab skip 2 --dir ${target}    # or fill it in and go on`);
  return 0;
}

export async function diffCommand(n: number, dir: string): Promise<number> {
  const top = learnerDir(dir);
  const names = Object.keys(await stubsOf(n));
  const ref = regionFiles(repoRoot);
  const mine = regionFiles(top);
  const tmp = mkdtempSync(join(tmpdir(), `${TMP_PREFIX}diff-`));
  let same = 0;
  try {
    for (const name of names) {
      const rf = ref.get(name);
      const mf = mine.get(name);
      if (!rf) continue;
      if (!mf) {
        out(c.yellow(`${name}: not found in your engine (its markers were removed?): the reference is in ${rf}`));
        continue;
      }
      const a = join(tmp, 'yours');
      const b = join(tmp, 'reference');
      writeFileSync(a, rawRegionBody(readFileSync(join(top, mf), 'utf8'), name, mf) + '\n');
      writeFileSync(b, rawRegionBody(readFileSync(join(repoRoot, rf), 'utf8'), name, rf) + '\n');
      const d = spawnSync('diff', ['-u', '--label', `yours: ${mf} (${name})`, '--label', `reference: ${rf} (${name})`, a, b], { encoding: 'utf8' });
      if (d.status === 0) {
        same++;
        out(`${c.green('✔')} ${name}: yours matches the reference`);
        continue;
      }
      for (const line of d.stdout.split('\n')) {
        out(line.startsWith('+') ? c.green(line) : line.startsWith('-') ? c.red(line) : line.startsWith('@@') ? c.cyan(line) : line);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (same === names.length) out(c.dim(`Lesson ${n}: nothing differs. (Different code can be right too: the grader decides.)`));
  return 0;
}

export async function skipCommand(n: number, dir: string, opts: { build: boolean }): Promise<number> {
  const top = learnerDir(dir);
  const names = Object.keys(await stubsOf(n));
  const ref = regionFiles(repoRoot);
  const mine = regionFiles(top);
  for (const name of names) {
    const rf = ref.get(name);
    const mf = mine.get(name);
    if (!rf || !mf) {
      err(c.yellow(`${name}: not found in ${!rf ? 'the reference' : 'your engine'}; skipped`));
      continue;
    }
    const answer = rawRegionBody(readFileSync(join(repoRoot, rf), 'utf8'), name, rf);
    writeFileSync(join(top, mf), replaceRegion(readFileSync(join(top, mf), 'utf8'), name, answer, mf));
    out(`${c.green('✔')} ${name} (${relative(top, join(top, mf))}): the reference answer is in`);
  }
  const progress = new ProgressStore();
  const entry = lessonEntries().find((e) => e.number === n);
  if (entry && progress.status(entry.id) !== 'done') progress.set(entry.id, { status: 'skipped', step: 0, steps: 0 });
  if (opts.build && !build(top)) return 1;
  return 0;
}
