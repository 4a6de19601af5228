// The book: one chapter per lesson in book/NN-topic.md. A chapter quotes the engine through
//   <!-- include lib/engine/rootfs/mounts.ts#lesson-03-pivot-root -->
//   ```ts
//   ...the region's exact text...
//   ```
// so that prose and code never drift: checkChapter() reports an excerpt that no longer matches
// its region, and expandIncludes() puts the current code in before the chapter is shown.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { bookDir, repoRoot } from './paths.js';
import { readRegions, type Region } from './regions.js';
import { LabError } from './errors.js';

const INCLUDE = /^<!--\s*include\s+(\S+?)#([\w.-]+)\s*-->\s*$/;
const FENCE = /^(```+|~~~+)\s*([\w+-]*)\s*$/;

export interface Chapter {
  number: number;
  slug: string;
  file: string;
}

export function chapters(dir = bookDir): Chapter[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^(\d\d)-([\w-]+)\.md$/.exec(f))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ number: Number(m[1]), slug: m[2]!, file: join(dir, m[0]) }))
    .sort((a, b) => a.number - b.number);
}

export function chapterFor(n: number, dir = bookDir): Chapter {
  const ch = chapters(dir).find((c) => c.number === n);
  if (!ch) {
    const have = chapters(dir).map((c) => c.number).join(', ');
    throw new LabError(`there is no chapter ${n} in ${dir}`, have ? `chapters: ${have}` : 'the book/ directory is empty');
  }
  return ch;
}

export interface Include {
  /** 0-based line of the include marker. */
  line: number;
  path: string;
  region: string;
  /** The fenced block after the marker: its lines (without fences), and where it ends. */
  block?: { lang: string; start: number; end: number; text: string };
}

export function findIncludes(md: string): Include[] {
  const lines = md.split('\n');
  const found: Include[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = INCLUDE.exec(lines[i]!);
    if (!m) continue;
    const inc: Include = { line: i, path: m[1]!, region: m[2]! };
    const open = FENCE.exec(lines[i + 1] ?? '');
    if (open) {
      const fence = open[1]!;
      let j = i + 2;
      while (j < lines.length && lines[j]!.trim() !== fence) j++;
      if (j < lines.length) inc.block = { lang: open[2] ?? '', start: i + 1, end: j, text: lines.slice(i + 2, j).join('\n') };
    }
    found.push(inc);
  }
  return found;
}

const regionCache = new Map<string, Map<string, Region>>();

function regionOf(inc: Include, root: string): Region {
  const path = join(root, inc.path);
  let regions = regionCache.get(path);
  if (!regions) {
    if (!existsSync(path)) throw new LabError(`the included file ${inc.path} does not exist`);
    regions = readRegions(path, inc.path);
    regionCache.set(path, regions);
  }
  const r = regions.get(inc.region);
  if (!r) throw new LabError(`${inc.path} has no region ${inc.region} (it has: ${[...regions.keys()].join(', ') || 'none'})`);
  return r;
}

/** Lines compared without shared indentation, trailing blanks, or leading/trailing empty lines. */
function normalise(text: string): string {
  return dedent(text.split('\n').map((l) => l.replace(/\s+$/, '')).join('\n').replace(/^\n+|\n+$/g, ''));
}

export interface ExcerptProblem {
  file: string;
  line: number;
  ref: string;
  problem: string;
}

/** Every include of a chapter whose code block is missing or differs from the region's text. */
export function checkChapter(file: string, root = repoRoot): ExcerptProblem[] {
  const md = readFileSync(file, 'utf8');
  const problems: ExcerptProblem[] = [];
  for (const inc of findIncludes(md)) {
    const ref = `${inc.path}#${inc.region}`;
    const at = { file, line: inc.line + 1, ref };
    let region: Region;
    try {
      region = regionOf(inc, root);
    } catch (e) {
      problems.push({ ...at, problem: (e as Error).message });
      continue;
    }
    if (!inc.block) {
      problems.push({ ...at, problem: 'the include marker must be followed by a fenced code block (```) holding the excerpt' });
      continue;
    }
    if (normalise(inc.block.text) !== normalise(region.text)) {
      problems.push({ ...at, problem: `the excerpt differs from the code in ${inc.path} (region ${inc.region}, lines ${region.start + 2}-${region.end})` + firstDifference(inc.block.text, region.text) });
    }
  }
  return problems;
}

function firstDifference(book: string, code: string): string {
  const a = normalise(book).split('\n');
  const b = normalise(code).split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `\n    first difference, excerpt line ${i + 1}:\n      book: ${a[i] ?? '(ends)'}\n      code: ${b[i] ?? '(ends)'}`;
  }
  return '';
}

/**
 * Rewrite a chapter's excerpts from the current code (for an author who changed a region on
 * purpose: review the diff). Returns how many blocks changed.
 */
export function fixChapter(file: string, root = repoRoot): number {
  regionCache.clear();
  const md = readFileSync(file, 'utf8');
  const lines = md.split('\n');
  let changed = 0;
  for (const inc of findIncludes(md).reverse()) {
    const region = regionOf(inc, root);
    if (inc.block && normalise(inc.block.text) === normalise(region.text)) continue;
    const lang = inc.block?.lang || (inc.path.endsWith('.c') ? 'c' : 'ts');
    const block = ['```' + lang, ...dedent(region.text).split('\n'), '```'];
    if (inc.block) lines.splice(inc.block.start, inc.block.end - inc.block.start + 1, ...block);
    else lines.splice(inc.line + 1, 0, ...block);
    changed++;
  }
  if (changed) writeFileSync(file, lines.join('\n'));
  return changed;
}

export function checkBook(dir = bookDir, root = repoRoot): ExcerptProblem[] {
  regionCache.clear();
  return chapters(dir).flatMap((ch) => checkChapter(ch.file, root));
}

/**
 * The chapter as it is shown: each include's block holds the region's current code, and the
 * marker becomes a caption naming the file. Returns the problems it found as well.
 */
export function expandIncludes(md: string, file: string, root = repoRoot): { md: string; problems: ExcerptProblem[] } {
  regionCache.clear();
  const lines = md.split('\n');
  const problems: ExcerptProblem[] = [];
  const incs = findIncludes(md);
  for (const inc of incs.reverse()) {
    const ref = `${inc.path}#${inc.region}`;
    let region: Region | undefined;
    try {
      region = regionOf(inc, root);
    } catch (e) {
      problems.push({ file, line: inc.line + 1, ref, problem: (e as Error).message });
    }
    const caption = `*From \`${inc.path}\`${region ? ` (lines ${region.start + 2}-${region.end})` : ''}:*`;
    if (!region) {
      lines[inc.line] = caption;
      continue;
    }
    const lang = inc.block?.lang || (inc.path.endsWith('.c') ? 'c' : 'ts');
    if (inc.block && normalise(inc.block.text) !== normalise(region.text)) {
      problems.push({ file, line: inc.line + 1, ref, problem: 'the excerpt in the book is out of date: showing the current code' });
    }
    const block = ['```' + lang, ...dedent(region.text).split('\n'), '```'];
    const removeTo = inc.block ? inc.block.end : inc.line;
    lines.splice(inc.line, removeTo - inc.line + 1, caption, '', ...block);
  }
  return { md: lines.join('\n'), problems: problems.reverse() };
}

/** Remove the indentation all lines share (a region inside a function starts indented). */
function dedent(text: string): string {
  const lines = text.split('\n');
  const widths = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length);
  const w = widths.length ? Math.min(...widths) : 0;
  return lines.map((l) => l.slice(w)).join('\n');
}

/** Render a chapter for the terminal (excerpts expanded to the current code). */
export async function renderChapter(n: number, width?: number): Promise<{ text: string; problems: ExcerptProblem[]; chapter: Chapter }> {
  const chapter = chapterFor(n);
  const { md, problems } = expandIncludes(readFileSync(chapter.file, 'utf8'), chapter.file);
  const { renderMarkdown } = await import('./markdown.js');
  return { text: await renderMarkdown(md, width), problems, chapter };
}

/** Print text, through `less -R` when it is longer than the terminal and stdout is one. */
export async function page(text: string): Promise<void> {
  const rows = process.stdout.rows || 24;
  if (!process.stdout.isTTY || text.split('\n').length < rows - 1) {
    process.stdout.write(text);
    return;
  }
  await new Promise<void>((resolve) => {
    const less = spawn('less', ['-R'], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, LESS: process.env.LESS ?? 'FRX' } });
    less.on('error', () => {
      process.stdout.write(text); // no less on this machine: print it all
      resolve();
    });
    less.stdin.on('error', () => {}); // the reader quit before the end (EPIPE)
    less.stdin.end(text);
    less.on('close', () => resolve());
  });
}
