// The book quotes the engine through region markers: every excerpt must match its region.
import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBook, checkChapter, expandIncludes, chapters, renderChapter } from '../../lib/lab/book.js';
import { parseRegions, replaceRegion, rawRegionBody } from '../../lib/lab/regions.js';
import { tempDir, removeTemp, lab } from './helpers.js';

t.test('every excerpt in book/ matches the code it quotes', async (t) => {
  const problems = checkBook();
  t.same(problems.map((p) => `${p.file}:${p.line} ${p.ref}: ${p.problem}`), [], 'run container-lab check-book for details');
  t.ok(chapters().length >= 9, 'chapters 00-08 exist');
});

t.test('regions: TypeScript and C markers, nesting, errors', async (t) => {
  const ts = ['a', '// #region outer', 'x', '  // #region inner', '  y', '  // #endregion inner', 'z', '// #endregion outer'].join('\n');
  const r = parseRegions(ts, 'f.ts');
  t.equal(r.get('outer')!.text, 'x\n  y\nz', 'nested markers are left out of the outer text');
  t.equal(r.get('inner')!.text, '  y');
  t.equal(rawRegionBody(ts, 'outer'), 'x\n  // #region inner\n  y\n  // #endregion inner\nz');
  t.equal(replaceRegion(ts, 'inner', '  // TODO'), ts.replace('  y', '  // TODO'));
  const c = parseRegions('int a;\n/* #region lesson-08-x */\nint b;\n/* #endregion lesson-08-x */\n', 'f.c');
  t.equal(c.get('lesson-08-x')!.text, 'int b;');
  t.throws(() => parseRegions('// #region a\n', 'f.ts'), /never closed/);
  t.throws(() => parseRegions('// #endregion a\n', 'f.ts'), /without a #region/);
  t.throws(() => parseRegions('// #region a\n// #endregion b\n', 'f.ts'), /closes #region a/);
});

t.test('a stale excerpt is reported by check and replaced by read', async (t) => {
  const dir = tempDir('book');
  t.teardown(() => removeTemp(dir));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'f.ts'), 'const a = 1;\n// #region r1\nexport const b = 2;\n// #endregion r1\n');
  const md = '# T\n\n<!-- include src/f.ts#r1 -->\n```ts\nexport const b = 3;\n```\n\n<!-- include src/f.ts#missing -->\n```ts\n```\n';
  writeFileSync(join(dir, '01-t.md'), md);
  const problems = checkChapter(join(dir, '01-t.md'), dir);
  t.equal(problems.length, 2);
  t.match(problems[0]!.problem, /differs from the code/);
  t.match(problems[0]!.problem, /book: export const b = 3;\n\s+code: export const b = 2;/);
  t.match(problems[1]!.problem, /has no region missing/);
  const expanded = expandIncludes(md, '01-t.md', dir);
  t.match(expanded.md, /export const b = 2;/, 'the current code is shown');
  t.notMatch(expanded.md, /b = 3/);
  t.match(expanded.md, /From `src\/f.ts`/);
  writeFileSync(join(dir, '02-t.md'), '<!-- include src/f.ts#r1 -->\nno block here\n');
  t.match(checkChapter(join(dir, '02-t.md'), dir)[0]!.problem, /must be followed by a fenced code block/);
});

t.test('a chapter renders for the terminal, with its excerpts', async (t) => {
  const { text, problems } = await renderChapter(3, 80);
  t.same(problems, []);
  t.match(text, /Mount namespace and pivot_root/);
  t.match(text, /function procAndSys/);
  t.notMatch(text, /<!--/, 'include markers do not show');
});

t.test('container-lab read and check-book from the command line', async (t) => {
  const home = tempDir('read');
  t.teardown(() => removeTemp(home));
  const r = await lab(['read', '8', '--no-pager'], home);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Why Node needs a native shim/);
  t.match(r.stdout, /clone\(child_main/);
  const nopipe = await lab(['read', '8'], home);
  t.equal(nopipe.code, 0, 'without a terminal it prints instead of paging');
  t.equal(nopipe.stdout, r.stdout);
  const check = await lab(['check-book'], home);
  t.equal(check.code, 0, check.stderr);
  const bad = await lab(['read', '42'], home);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /there is no chapter 42/);
  t.notMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');
});
