// `container-lab` with no arguments: pick a lesson, then read it, run it, or reset it.
import { loadLessons } from './catalog.js';
import { ProgressStore, type LessonStatus } from './progress.js';
import { c, out } from './ui.js';
import { prompt } from './runner.js';
import type { Lesson } from './lesson.js';

const MARKS: Record<LessonStatus, () => string> = {
  done: () => c.green('✔ done'),
  'in-progress': () => c.yellow('◐ in progress'),
  skipped: () => c.blue('» skipped'),
  'not-started': () => c.dim('○ not started'),
};

/**
 * The first lesson (from 1 on) not yet done or skipped: lessons after it are shown locked. The
 * lock is advice, not a wall: a locked lesson still opens, for those who know what they skip.
 */
function firstOpen(lessons: Lesson[], progress: ProgressStore): number | undefined {
  return lessons.find((l) => l.number >= 1 && !['done', 'skipped'].includes(progress.status(l.id)))?.number;
}

function statusLine(l: Lesson, progress: ProgressStore, open?: number): string {
  const p = progress.get(l.id);
  const status = p?.status ?? 'not-started';
  const where = status === 'in-progress' && p ? c.dim(` (step ${p.step + 1}/${p.steps})`) : '';
  const locked = status === 'not-started' && open !== undefined && l.number > open ? c.dim(`  🔒 after lesson ${open}`) : '';
  return `${String(l.number).padStart(2)}  ${l.title.padEnd(46)} ${MARKS[status]()}${where}${locked}`;
}

export async function printLessonList(): Promise<void> {
  const progress = new ProgressStore();
  const lessons = await loadLessons();
  const open = firstOpen(lessons, progress);
  for (const l of lessons) out(statusLine(l, progress, open));
}

export async function openMenu(): Promise<number> {
  const lessons = await loadLessons();
  if (!lessons.length) {
    out('No lessons found: build the project first (npx tsc -p tsconfig.json).');
    return 1;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    await printLessonList();
    out(c.dim('\n(no terminal for the menu: use container-lab lesson N [--yes], container-lab read N)'));
    return 0;
  }
  const { select } = await import('@inquirer/prompts');
  const progress = new ProgressStore();
  out(c.bold.magenta('container-lab') + c.dim(' · build a container engine on the real kernel\n'));
  let last: number | undefined;
  for (;;) {
    const picked = await prompt(() =>
      select<number | 'quit'>({
        message: 'Lessons',
        pageSize: 14,
        default: last,
        choices: [...lessons.map((l) => ({ name: statusLine(l, progress, firstOpen(lessons, progress)), value: l.number, description: l.summary })), { name: '    Quit', value: 'quit' as const }],
      }),
    );
    if (picked === 'quit') return 0;
    last = picked;
    const lesson = lessons.find((l) => l.number === picked)!;
    const action = await prompt(() =>
      select<'read' | 'run' | 'reset' | 'back'>({
        message: `Lesson ${lesson.number} · ${lesson.title}`,
        choices: [
          { name: 'Read the chapter', value: 'read' },
          { name: progress.status(lesson.id) === 'in-progress' ? 'Run the lesson (resume)' : 'Run the lesson', value: 'run' },
          { name: 'Reset its progress', value: 'reset' },
          { name: 'Back', value: 'back' },
        ],
      }),
    );
    if (action === 'read') {
      const { readChapter } = await import('./read.js');
      await readChapter(lesson.number, { pager: true });
    } else if (action === 'run') {
      const { runLesson } = await import('./runner.js');
      await runLesson(lesson.number, { yes: false, progress });
      out('');
    } else if (action === 'reset') {
      progress.reset(lesson.id);
      out(c.dim(`Lesson ${lesson.number}: progress forgotten.`));
    }
  }
}
