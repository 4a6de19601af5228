// Shared by the kernel tests: a private data root per test, a busybox rootfs, the CLI as a
// child process, and cleanup that runs even when a test fails.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, rmdirSync, symlinkSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const MINI_DOCKER = join(REPO, 'bin/mini-docker');
export const IPCMK = join(REPO, 'native/tools/build/ipcmk');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

/** Run mini-docker with its own data root. */
export function md(root: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(MINI_DOCKER, args, {
      env: { ...process.env, MINI_DOCKER_ROOT: root, MINI_DOCKER_CGROUP_PARENT: cgroupParentFor(root), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** Each data root has its cgroups under a parent of its own, removed with it. */
export function cgroupParentFor(root: string): string {
  return `mdtest-${basename(root)}`;
}

/** The directories of a test's cgroup parent in every mounted hierarchy (v1 and v2). */
export function cgroupDirs(root: string): string[] {
  const parent = cgroupParentFor(root);
  const dirs: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const d = join('/sys/fs/cgroup', h, parent);
    if (existsSync(d)) dirs.push(d);
  }
  if (existsSync(join('/sys/fs/cgroup', parent))) dirs.push(join('/sys/fs/cgroup', parent));
  return dirs;
}

/** A fresh data root under /tmp, removed (with anything still running in it) at teardown. */
export function tempRoot(t: Teardown, prefix = 'mdtest-'): string {
  const root = mkdtempSync(join('/tmp', prefix));
  chmodSync(root, 0o711); // as the engine makes its data root: user-namespaced containers pass through
  t.teardown(() => cleanupRoot(root));
  return root;
}

/** Kill what a data root's containers still run (checking pid start times), then remove it. */
export function cleanupRoot(root: string): void {
  const dir = join(root, 'containers');
  for (const id of existsSync(dir) ? readdirSync(dir) : []) {
    try {
      const st = JSON.parse(readFileSync(join(dir, id, 'state.json'), 'utf8'));
      for (const [pid, start] of [[st.pid, st.pidStartTime], [st.shimPid, undefined]] as [number, string | undefined][]) {
        if (pid > 0 && (start === undefined || startTime(pid) === start)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
    } catch {
      // no state: nothing ran
    }
  }
  // Cgroups left by a failed test: kill what is in them, then rmdir (children first).
  for (const dir of cgroupDirs(root)) {
    for (const child of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const c = join(dir, child.name);
      try {
        for (const pid of readFileSync(join(c, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(c);
          break;
        } catch {
          spawnSync('sleep', ['0.05']);
        }
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      // not empty: the leak check will say so
    }
  }
  rmSync(root, { recursive: true, force: true });
}

function startTime(pid: number): string | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** A busybox root filesystem in a plain directory, for --rootfs runs (plus the static ipcmk). */
export function busyboxRootfs(t: Teardown): string {
  const dir = mkdtempSync(join('/tmp', 'mdtest-rootfs-'));
  chmodSync(dir, 0o755); // a user-namespaced root must be able to reach it
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'root', 'tmp', 'usr/bin']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = spawnSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).stdout.split('\n').filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  if (existsSync(IPCMK)) {
    copyFileSync(IPCMK, join(dir, 'usr/bin/ipcmk'));
    chmodSync(join(dir, 'usr/bin/ipcmk'), 0o755);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}

/** The host's mount table, as lines of /proc/self/mountinfo. */
export function hostMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean);
}

/** Container ids under a data root. */
export function containerIds(root: string): string[] {
  try {
    return readdirSync(join(root, 'containers')).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}
