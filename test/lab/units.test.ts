// Pure parts of the lab: lists of lessons, engine words, the progress store, the cleanup stack,
// report formats, the lesson model, and the catalog of compiled lessons.
import t from 'tap';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parseLessonList, lessonEntries, loadLessons } from '../../lib/lab/catalog.js';
import { splitWords, shellQuote } from '../../lib/lab/grader/words.js';
import { ProgressStore, progressFile } from '../../lib/lab/progress.js';
import { CleanupStack } from '../../lib/lab/cleanup.js';
import { dataDir } from '../../lib/lab/paths.js';
import { toJson, toTap, toJunit, summaryLines } from '../../lib/lab/grader/report.js';
import { defineChecks } from '../../lib/lab/grader/check.js';
import { defineLesson, explain, question } from '../../lib/lab/lesson.js';
import type { CheckResult, GradeReport } from '../../lib/lab/grader/grade.js';
import { tempDir, removeTemp } from './helpers.js';

t.test('lesson lists', async (t) => {
  t.same(parseLessonList('4'), [4]);
  t.same(parseLessonList('1-3,7, 5-5'), [1, 2, 3, 5, 7]);
  t.throws(() => parseLessonList('3-1'), /backwards/);
  t.throws(() => parseLessonList('x'), /not a list of lessons/);
});

t.test('engine command words', async (t) => {
  t.same(splitWords('podman --runtime runc'), ['podman', '--runtime', 'runc']);
  t.same(splitWords(`"/my dir/engine" --x 'a b' c\\ d`), ['/my dir/engine', '--x', 'a b', 'c d']);
  t.throws(() => splitWords('"open'), /unclosed/);
  t.equal(shellQuote("it's"), `'it'\\''s'`);
  t.equal(shellQuote('/a/b-c.d'), '/a/b-c.d');
});

t.test('progress lives in the XDG data dir and survives restarts', async (t) => {
  const dir = tempDir('progress');
  t.teardown(() => removeTemp(dir));
  t.equal(dataDir({ XDG_DATA_HOME: '/x/y' }), '/x/y/container-lab');
  t.equal(dataDir({ HOME: '/home/u' }), '/home/u/.local/share/container-lab');
  t.equal(dataDir({ XDG_DATA_HOME: 'relative', HOME: '/h' }), '/h/.local/share/container-lab', 'a relative XDG_DATA_HOME is ignored (spec)');
  const file = progressFile({ XDG_DATA_HOME: dir });
  const a = new ProgressStore(file);
  t.equal(a.status('04-uts-ipc'), 'not-started');
  a.set('04-uts-ipc', { status: 'in-progress', step: 3, steps: 16 });
  a.set('05-pid', { status: 'done', step: 14, steps: 14 });
  const b = new ProgressStore(file);
  t.equal(b.get('04-uts-ipc')?.step, 3);
  t.equal(b.status('05-pid'), 'done');
  b.reset('05-pid');
  t.equal(new ProgressStore(file).status('05-pid'), 'not-started');
  t.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);
  b.reset();
  t.same(new ProgressStore(file).all(), {});
});

t.test('the cleanup stack undoes in reverse order, past a failing undo', async (t) => {
  const s = new CleanupStack();
  const order: string[] = [];
  s.defer('a', () => void order.push('a'));
  s.defer('b', () => {
    throw new Error('b failed');
  });
  s.defer('c', async () => void order.push('c'));
  await s.run();
  t.same(order, ['c', 'a']);
  t.equal(s.size, 0);
});

const results: CheckResult[] = [
  { lesson: 4, lessonTitle: 'UTS & IPC', id: '04-a', title: 'has <xml> & "quotes" # and a hash', points: 3, earned: 3, status: 'pass', ms: 12 },
  { lesson: 4, lessonTitle: 'UTS & IPC', id: '04-b', title: 'fails', points: 2, earned: 0, status: 'fail', diagnosis: 'line one\nline: two', hint: 'do this', ms: 30 },
  { lesson: 5, lessonTitle: 'PID', id: '05-a', title: 'skipped', points: 1, earned: 0, status: 'skip', reason: 'needs 04-b, which failed', ms: 0 },
];
const report: GradeReport = { engine: 'eng "x"', lessons: [4, 5], startedAt: 'now', finishedAt: 'later', results };

t.test('report formats', async (t) => {
  const tap = toTap(report);
  t.match(tap, /^TAP version 14\n# container-lab grade · engine: eng "x"\n1\.\.3\n/);
  t.match(tap, /ok 1 - 04-a has <xml> & "quotes" \\# and a hash\n/, 'a # in a description is escaped');
  t.match(tap, /not ok 2 - 04-b fails\n  ---\n  lesson: 4\n  points: 0 of 2\n  diagnosis: \|-\n    line one\n    line: two\n  hint: do this\n  \.\.\.\n/);
  t.match(tap, /ok 3 - 05-a skipped # SKIP needs 04-b, which failed\n/);
  const json = JSON.parse(toJson(report));
  t.same(json.score, { earned: 3, points: 6, passed: 1, failed: 1, skipped: 1 });
  t.equal(json.lessons[0].checks.length, 2);
  const xml = toJunit(report);
  t.match(xml, /name="04-a: has &lt;xml&gt; &amp; &quot;quotes&quot; # and a hash"/);
  t.match(xml, /<testsuites name="container-lab grade" tests="3" failures="1" skipped="1"/);
  t.match(summaryLines(results).at(-1)!, /score: 3\/6 points · 1 passed, 1 failed, 1 skipped/);
});

t.test('definitions are validated', async (t) => {
  t.throws(() => defineChecks({ lesson: 4, title: 'x', checks: [{ id: '05-a', title: 'a', points: 1, hint: 'h', run: async () => ({ status: 'pass' }) }] }), /must start with 04-/);
  t.throws(() => defineChecks({ lesson: 4, title: 'x', checks: [{ id: '04-a', title: 'a', points: 1, hint: 'h', needs: ['04-b'], run: async () => ({ status: 'pass' }) }] }), /earlier check/);
  t.doesNotThrow(() => defineChecks({ lesson: 6, title: 'x', checks: [{ id: '06-a', title: 'a', points: 1, hint: 'h', needs: ['05-pid-one', 'host:nsenter'], run: async () => ({ status: 'pass' }) }] }));
  t.throws(() => defineLesson({ title: 'x', summary: 's', steps: [question({ message: 'q', choices: [{ name: 'a' }, { name: 'b' }], explanation: 'e' })] }), /exactly one correct/);
  t.doesNotThrow(() => defineLesson({ title: 'x', summary: 's', steps: [explain('hi')] }));
});

t.test('the compiled lessons are found and well-formed', async (t) => {
  const entries = lessonEntries();
  t.same(entries.map((e) => e.number).slice(0, 9), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const lessons = await loadLessons();
  for (const l of lessons) {
    t.ok(l.title && l.summary, `${l.id} has a title and a summary`);
    t.ok(l.steps.some((s) => s.kind === 'check'), `${l.id} checks something`);
    t.ok(l.steps.some((s) => s.kind === 'question'), `${l.id} asks something`);
    t.equal(l.chapter, `book/${l.id}.md`);
    t.ok(readFileSync(join(import.meta.dirname ?? '.', '..', '..', '..', l.chapter), 'utf8').length > 500, `${l.chapter} exists`);
  }
});

t.test('graded checks never import the engine (black-box only)', async (t) => {
  const top = join(import.meta.dirname ?? '.', '..', '..', '..');
  for (const e of lessonEntries()) {
    const src = join(top, 'lessons', e.id, 'checks.ts');
    let text = '';
    try {
      text = readFileSync(src, 'utf8');
    } catch {
      continue;
    }
    t.notMatch(text, /from ['"][./]*lib\/engine|native\/libc/, `${e.id}/checks.ts talks to an engine only through its CLI and the kernel`);
  }
  const lib = join(top, 'lib');
  const grep = (await import('node:child_process')).spawnSync('grep', ['-rlE', `from ['"][./]*lessons/`, lib], { encoding: 'utf8' });
  t.equal(grep.stdout.trim(), '', 'lib/ never imports lessons/');
});
