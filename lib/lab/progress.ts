// What the learner has done, per user, in $XDG_DATA_HOME/container-lab/progress.json:
// each lesson is not started, in progress (with the next step), done, or skipped.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { dataDir } from './paths.js';

export type LessonStatus = 'not-started' | 'in-progress' | 'done' | 'skipped';

export interface LessonProgress {
  status: Exclude<LessonStatus, 'not-started'>;
  /** Index of the next step to run. */
  step: number;
  steps: number;
  updatedAt: string;
}

interface ProgressFile {
  version: 1;
  lessons: Record<string, LessonProgress>;
}

export function progressFile(env = process.env): string {
  return join(dataDir(env), 'progress.json');
}

export class ProgressStore {
  constructor(readonly file = progressFile()) {}

  private read(): ProgressFile {
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as ProgressFile;
      if (data && data.version === 1 && typeof data.lessons === 'object') return data;
    } catch {
      // missing or unreadable: start afresh (a corrupt file is replaced on the next save)
    }
    return { version: 1, lessons: {} };
  }

  private write(data: ProgressFile): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
    renameSync(tmp, this.file);
  }

  get(id: string): LessonProgress | undefined {
    return this.read().lessons[id];
  }

  status(id: string): LessonStatus {
    return this.get(id)?.status ?? 'not-started';
  }

  all(): Record<string, LessonProgress> {
    return this.read().lessons;
  }

  set(id: string, p: Omit<LessonProgress, 'updatedAt'>): void {
    const data = this.read();
    data.lessons[id] = { ...p, updatedAt: new Date().toISOString() };
    this.write(data);
  }

  /** Forget one lesson, or (no id) all of them. */
  reset(id?: string): void {
    if (id === undefined) {
      rmSync(this.file, { force: true });
      return;
    }
    const data = this.read();
    delete data.lessons[id];
    this.write(data);
  }
}
