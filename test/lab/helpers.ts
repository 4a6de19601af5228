// Shared by the lab and grader tests: run the container-lab CLI as a person would (a separate
// process), in temporary directories named mdtest-* (the test runner's leak check looks for them).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's top directory (this file is dist/test/lab/helpers.js). */
export const top = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const labBin = join(top, 'bin', 'container-lab.js');

/** A temporary directory others may pass through (a container's root in a user namespace must). */
export function tempDir(label: string): string {
  const d = mkdtempSync(join('/tmp', `mdtest-${label}-`));
  chmodSync(d, 0o755);
  return d;
}

/** Unmount what is left under dir (there should be nothing) and remove it. */
export function removeTemp(dir: string): void {
  spawnSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l`]);
  rmSync(dir, { recursive: true, force: true });
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** container-lab ARGS, with its temporary directories and its progress under `home`. */
export function lab(args: string[], home: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [labBin, ...args], {
      env: { ...process.env, NO_COLOR: '1', TMPDIR: home, XDG_DATA_HOME: join(home, 'xdg'), ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** What the lab left in a temporary base directory: its own dirs (container-lab-*). */
export function labLeftovers(base: string): string[] {
  return readdirSync(base).filter((n) => n.startsWith('container-lab-'));
}

export function mountsMentioning(text: string): string[] {
  return spawnSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(text));
}
