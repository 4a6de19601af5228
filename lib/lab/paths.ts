// Where the lab finds its parts (the book, the compiled lessons, the engine's sources) and where
// it keeps a learner's things (progress, temporary directories).
import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's top directory: this file is dist/lib/lab/paths.js. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

export const bookDir = join(repoRoot, 'book');

/** Lessons are TypeScript compiled with the rest; the lab loads them from here at run time. */
export const lessonsDistDir = join(repoRoot, 'dist', 'lessons');

/** Every temporary directory the lab makes starts with this, so `container-lab reset` finds them. */
export const TMP_PREFIX = 'container-lab-';

export function labTmpBase(): string {
  return tmpdir();
}

/** The reference engine's command: bin/mini-docker (a launcher), or bin/mini-docker.js. */
export function referenceEngine(): string {
  for (const name of ['mini-docker', 'mini-docker.js']) {
    const p = join(repoRoot, 'bin', name);
    if (existsSync(p)) return p;
  }
  return join(repoRoot, 'bin', 'mini-docker.js');
}

/** $XDG_DATA_HOME/container-lab, else ~/.local/share/container-lab (the XDG base directory spec). */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME && env.XDG_DATA_HOME.startsWith('/') ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'container-lab');
}
