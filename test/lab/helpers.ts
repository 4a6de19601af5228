// Shared by the lab and grader tests: run the container-lab CLI as a person would (a separate
// process), in temporary directories named mdtest-* (the test runner's leak check looks for them).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
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

/**
 * The engine's cgroup parent for what runs with `home` (its basename, mdtest-...): the tests'
 * containers never share the host's "mini-docker" parent, and what they leave is easy to find.
 */
export function cgroupParentOf(home: string): string {
  return basename(home);
}

/** container-lab ARGS, with its temporary directories, its progress and its cgroups under `home`'s names. */
export function lab(args: string[], home: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [labBin, ...args], {
      env: { ...process.env, NO_COLOR: '1', TMPDIR: home, XDG_DATA_HOME: join(home, 'xdg'), MINI_DOCKER_CGROUP_PARENT: cgroupParentOf(home), ...opts.env },
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

/** cgroup directories named `name` (a parent) in any hierarchy: v1's /sys/fs/cgroup/C/name, v2's /sys/fs/cgroup/name. */
export function cgroupsNamed(name: string): string[] {
  const found: string[] = [];
  for (const h of ['', ...readdirSync('/sys/fs/cgroup')]) {
    const d = join('/sys/fs/cgroup', h, name);
    try {
      readdirSync(d);
      found.push(d);
    } catch {
      // not there
    }
  }
  return found;
}

/** Loop devices whose backing file is under `dir` (losetup -a). */
export function loopDevicesUnder(dir: string): string[] {
  const r = spawnSync('losetup', ['-a'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').filter((l) => l.includes(dir));
}

/** One check of the grader's JSON report, as the grader tests read it. */
export interface JsonCheck {
  id: string;
  status: 'pass' | 'fail' | 'skip';
  detail?: string;
  hint?: string;
  diagnosis?: string;
  reason?: string;
}
