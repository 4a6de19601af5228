// `container-lab read N` and `container-lab check-book`.
import { relative } from 'node:path';
import { chapters, checkBook, fixChapter, page, renderChapter, type ExcerptProblem } from './book.js';
import { repoRoot } from './paths.js';
import { c, err, out } from './ui.js';

function describe(p: ExcerptProblem): string {
  return `${relative(repoRoot, p.file)}:${p.line}: ${p.ref}: ${p.problem}`;
}

export async function readChapter(n: number, opts: { pager: boolean }): Promise<number> {
  const { text, problems } = await renderChapter(n);
  for (const p of problems) err(c.yellow(`container-lab: ${describe(p)}`));
  if (opts.pager) await page(text);
  else process.stdout.write(text);
  return 0;
}

export function checkBookCommand(opts: { fix?: boolean } = {}): number {
  if (opts.fix) {
    for (const ch of chapters()) {
      const n = fixChapter(ch.file);
      if (n) out(`${relative(repoRoot, ch.file)}: ${n} excerpt(s) rewritten from the code`);
    }
  }
  const problems = checkBook();
  if (!problems.length) {
    out(`${c.green('✔')} every excerpt in book/ matches the code it quotes`);
    return 0;
  }
  for (const p of problems) err(`${c.red('✘')} ${describe(p)}`);
  err(`\n${problems.length} excerpt(s) out of date: copy the region's current text into the chapter's code block.`);
  return 1;
}
