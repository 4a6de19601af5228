// Finds the lessons at run time: every dist/lessons/NN-topic/ with a lesson.js (lib/ never
// imports lessons/, so a lesson is added by adding its directory).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { lessonsDistDir } from './paths.js';
import { LabError } from './errors.js';
import type { Lesson, LessonDef } from './lesson.js';

export interface LessonEntry {
  number: number;
  /** "04-uts-ipc": the directory name, used in progress and check ids. */
  id: string;
  dir: string;
}

export function lessonEntries(dir = lessonsDistDir): LessonEntry[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /^\d\d-[\w-]+$/.test(n) && (existsSync(join(dir, n, 'lesson.js')) || existsSync(join(dir, n, 'checks.js'))))
    .map((n) => ({ number: Number(n.slice(0, 2)), id: n, dir: join(dir, n) }))
    .sort((a, b) => a.number - b.number);
}

export function lessonEntry(n: number, dir = lessonsDistDir): LessonEntry {
  const e = lessonEntries(dir).find((l) => l.number === n);
  if (!e) {
    const have = lessonEntries(dir).map((l) => l.number);
    throw new LabError(
      `there is no lesson ${n}`,
      have.length ? `lessons: ${have.join(', ')} (container-lab lists them)` : `no compiled lessons in ${dir}: build first (npx tsc -p tsconfig.json)`,
    );
  }
  return e;
}

async function importDefault<T>(file: string): Promise<T | undefined> {
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { default?: T };
  return mod.default;
}

export async function loadLesson(entry: LessonEntry): Promise<Lesson> {
  const def = await importDefault<LessonDef>(join(entry.dir, 'lesson.js'));
  if (!def || !Array.isArray(def.steps)) throw new LabError(`${entry.dir}/lesson.js does not export a lesson (export default defineLesson({...}))`);
  return { ...def, id: entry.id, number: entry.number, chapter: `book/${entry.id}.md` };
}

export async function loadLessons(dir = lessonsDistDir): Promise<Lesson[]> {
  return Promise.all(lessonEntries(dir).map(loadLesson));
}

/** Parse "4", "1-8", "1,3,5-6" into lesson numbers. */
export function parseLessonList(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new LabError(`"${spec}" is not a list of lessons`, 'write e.g. 4, 1-8 or 1,3,5-6');
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new LabError(`"${part}": the range goes backwards`, `write ${b}-${a}`);
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

export function parseLessonNumber(s: string): number {
  if (!/^\d+$/.test(s)) throw new LabError(`"${s}" is not a lesson number`, 'give the number, e.g. container-lab lesson 4');
  return Number(s);
}

export async function importFromLesson<T>(entry: LessonEntry, file: string): Promise<T | undefined> {
  return importDefault<T>(join(entry.dir, file));
}
