// container-lab init writes a learner's engine: graded out of the box it passes lesson 1 and not
// the lessons after; `skip` fills in the reference regions, and then it passes everything.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTemp, lab } from './helpers.js';

const home = tempDir('scaffold');
t.teardown(() => removeTemp(home));
const mine = join(home, 'my-engine');

interface Check {
  id: string;
  status: string;
}
async function grade(): Promise<Map<number, Check[]>> {
  const file = join(home, `g-${Date.now()}.json`);
  const r = await lab(['grade', '--engine', join(mine, 'bin', 'mini-docker'), '--format', 'json', '--out', file], home);
  if (r.code > 1) throw new Error(r.stderr);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { lessons: { lesson: number; checks: Check[] }[] };
  return new Map(json.lessons.map((l) => [l.lesson, l.checks]));
}

t.test('init writes the engine with TODO stubs and builds it', async (t) => {
  const r = await lab(['init', mine], home);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.ok(existsSync(join(mine, 'dist', 'lib', 'cli')), 'compiled');
  t.ok(existsSync(join(mine, 'native', 'shim', 'build', 'mini-docker-shim')), 'the shim is compiled');
  const mounts = readFileSync(join(mine, 'lib/engine/rootfs/mounts.ts'), 'utf8');
  t.match(mounts, /TODO lesson 2/);
  t.match(mounts, /\/\/ #region lesson-03-pivot-root/, 'markers stay, for diff and skip');
  t.notMatch(mounts, /op: 'pivot_root', root: r \}\] :/, 'the answer is gone');
  t.match(r.stdout, /lesson 5: lesson-05-pid-ns/);
  const again = await lab(['init', mine], home);
  t.equal(again.code, 1);
  t.match(again.stderr, /exists and is not empty/);
});

t.test('out of the box it passes lesson 1 and no lesson after it', async (t) => {
  const byLesson = await grade();
  t.ok(byLesson.get(1)!.every((c) => c.status === 'pass'), 'lesson 1 passes');
  for (const [n, checks] of byLesson) {
    if (n < 2) continue;
    t.notOk(checks.every((c) => c.status === 'pass'), `lesson ${n} does not pass`);
  }
  for (const n of [2, 3, 4, 5, 7]) t.ok(byLesson.get(n)!.some((c) => c.status === 'fail'), `lesson ${n} fails a check`);
});

t.test('diff shows the reference; skip fills it in; then everything passes', async (t) => {
  const d = await lab(['diff', '5', '--dir', mine], home);
  t.equal(d.code, 0);
  t.match(d.stdout, /^-\s+\/\/ TODO lesson 5/m);
  t.match(d.stdout, /^\+\s+if \(req\.pid !== 'host'\) ns\.push\('pid'\);/m);
  for (const n of [2, 3, 4, 5, 6]) {
    const s = await lab(['skip', String(n), '--dir', mine, '--no-build'], home);
    t.equal(s.code, 0, s.stderr);
  }
  const last = await lab(['skip', '7', '--dir', mine], home);
  t.equal(last.code, 0, last.stderr);
  const same = await lab(['diff', '5', '--dir', mine], home);
  t.match(same.stdout, /yours matches the reference/);
  const byLesson = await grade();
  const notPassing = [...byLesson.values()].flat().filter((c) => c.status !== 'pass');
  t.same(notPassing, [], 'every check passes');
  const progress = JSON.parse(readFileSync(join(home, 'xdg', 'container-lab', 'progress.json'), 'utf8'));
  t.equal(progress.lessons['05-pid'].status, 'skipped');
});

t.test('diff and skip refuse a directory that is not a scaffold', async (t) => {
  const r = await lab(['diff', '3', '--dir', home], home);
  t.equal(r.code, 1);
  t.match(r.stderr, /not a learner's engine made by container-lab init/);
  writeFileSync(join(home, 'x'), '');
  t.ok(readdirSync(home).length);
});
