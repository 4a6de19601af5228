// start: a created (or exited) container's process, in the order the kernel needs
// (ARCHITECTURE.md, "Starting a container"): resolve its rootfs -> spawn the shim with the plan
// -> (the child waits) write id maps from outside -> "go" -> the child mounts, pivots, execs.
// In the foreground the engine waits and relays; detached, the shim stays as the monitor.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { EngineError } from '../errors.js';
import { explain, explaining } from '../log.js';
import type { Layout } from '../paths.js';
import { cloneFlagsFor } from '../namespaces/namespaces.js';
import { writeIdMaps } from '../namespaces/idmap.js';
import { rootfsOps } from '../rootfs/mounts.js';
import { overlayFits, overlayMountOp } from '../storage/overlay.js';
import type { Op, ShimPlan } from '../runtime/ops.js';
import { startShim, type ShimHandle } from '../runtime/shim.js';
import { CLONE } from '../../../native/libc.js';
import type { ContainerConfig } from './config.js';
import { resolveUser, type ResolvedUser } from './user.js';
import { containerFiles, processStartTime, readConfig, readState, writeState } from './store.js';
import { currentState, isRunning } from './status.js';
import { readRootfsFile, rootfsForConfig } from './rootfs-source.js';
import { freshCgroup } from './cgroup.js';

export interface StartOptions {
  /** foreground: wait and return the exit code; detached: return once the command runs. */
  mode: 'foreground' | 'detached';
  /** What the container's process gets as fds 0, 1, 2 in the foreground (default: ours). */
  stdio?: StdioOptions;
  /** Called once the command runs, e.g. to forward signals to the shim. */
  onStarted?(handle: ShimHandle): void;
  /** The engine's command the monitor runs after the exit (restart policies, --rm). */
  exitHook?: string[];
  restartCount?: number;
}

/** mkdir -p of the working directory, component by component, inside the new root. */
function workdirOps(root: string, workingDir: string): Op[] {
  const ops: Op[] = [];
  let p = root;
  for (const part of workingDir.split('/').filter(Boolean)) {
    p = `${p}/${part}`;
    ops.push({ op: 'mkdir', path: p, mode: 0o755 });
  }
  return ops;
}

// #region lesson-08-plan
/** The whole start of a container, as the list of operations the shim carries out. */
export function buildPlan(config: ContainerConfig, rootDir: string, overlay: Op | undefined, user: ResolvedUser, etc: { path: string; source: string }[]): ShimPlan {
  const ns = new Set(config.namespaces);
  const host: Op[] = [
    // The shim's own mount namespace: the rootfs overlay is mounted there, never on the host,
    // and the kernel unmounts it when the last process of the container is gone.
    { op: 'unshare', flags: CLONE.NEWNS },
    { op: 'private', path: '/' },
  ];
  if (overlay) host.push(overlay);
  const fs = rootfsOps({ rootfs: rootDir, chroot: config.chroot, ownNetNs: ns.has('net'), ownIpcNs: ns.has('ipc'), etcFiles: etc });
  host.push(...fs.prepare, ...workdirOps(rootDir, config.workingDir));
  const child: Op[] = [];
  // In a new user namespace the process starts unmapped: become the namespace's root first, so
  // what it mounts and creates is owned by a mapped id (runc does the same).
  // #region lesson-06-become-root
  if (ns.has('user')) child.push({ op: 'setgid', gid: 0 }, { op: 'setuid', uid: 0 });
  // #endregion lesson-06-become-root
  child.push(...fs.mount);
  if (config.tty) child.push({ op: 'console' }); // a pty of the container's own devpts
  // #region lesson-04-sethostname
  if (ns.has('uts')) child.push({ op: 'sethostname', name: config.hostname });
  // #endregion lesson-04-sethostname
  // #region lesson-07-lo-up
  if (ns.has('net')) child.push({ op: 'ifup', name: 'lo' });
  // #endregion lesson-07-lo-up
  child.push(
    { op: 'chdir', path: config.workingDir },
    { op: 'setgroups', gids: user.groups },
    { op: 'setgid', gid: user.gid },
    { op: 'setuid', uid: user.uid },
    ...config.env.map((kv): Op => ({ op: 'env', kv })),
    { op: 'exec', argv: [...config.entrypoint, ...config.cmd] },
  );
  return { cloneFlags: cloneFlagsFor(ns), host, child, tty: config.tty, stdin: config.openStdin, debug: explaining() };
}
// #endregion lesson-08-plan


/** Start a container's process. Foreground: resolves to its exit code. Detached: to undefined. */
export async function startContainer(paths: Layout, id: string, opts: StartOptions): Promise<number | undefined> {
  const config = readConfig(paths, id);
  const state = currentState(paths, id);
  if (isRunning(state)) throw new EngineError('already_running', `container ${config.name} is already running`, { exitCode: 1 });
  const rootfs = await rootfsForConfig(paths, config);
  const user = resolveUser(config.user, readRootfsFile(rootfs, 'etc/passwd'), readRootfsFile(rootfs, 'etc/group'));
  const f = containerFiles(paths, config.id);
  const rootDir = rootfs.lowerdirs ? f.merged : rootfs.dir;
  let overlay: Op | undefined;
  if (rootfs.lowerdirs) {
    const dirs = { lower: rootfs.lowerdirs, upper: f.upper, work: f.work, merged: f.merged };
    if (!overlayFits(dirs)) throw new EngineError('too_many_layers', 'the image has too many layers for one overlay mount');
    overlay = overlayMountOp(dirs);
  }
  // Files the engine provides in /etc exist only if the image has an /etc to hold them.
  const etc = (rootfs.lowerdirs ?? [rootDir]).some((d) => existsSync(join(d, 'etc')))
    ? [{ path: '/etc/hostname', source: f.hostname }, { path: '/etc/hosts', source: f.hosts }]
    : [];
  const plan = buildPlan(config, rootDir, overlay, user, etc);
  const detached = opts.mode === 'detached';
  plan.detach = detached ? { log: f.log } : undefined;
  plan.exitFile = f.exit;
  if (detached && opts.exitHook && (config.autoRemove || config.restartPolicy.name !== 'no')) plan.onExit = [...opts.exitHook, id];
  rmSync(f.exit, { force: true });
  const cgroup = await freshCgroup(config);

  const handle = await startShim(plan, { stdio: detached ? ['ignore', 'ignore', 'ignore'] : opts.stdio, title: config.id.slice(0, 12), detached });
  // From outside, while the child waits: its cgroup (the limits hold before any of its code
  // runs), then its id maps.
  try {
    // #region lesson-09-join-cgroup
    cgroup.addProcess(handle.pid);
    // #endregion lesson-09-join-cgroup
    // #region lesson-06-write-maps
    if (config.namespaces.includes('user')) writeIdMaps(handle.pid, config.uidMap, config.gidMap);
    // #endregion lesson-06-write-maps
  } catch (e) {
    handle.abort();
    await handle.exited;
    recordExit(paths, config.id, 125, (e as Error).message);
    throw new EngineError('setup_failed', `setting up pid ${handle.pid} from outside failed: ${(e as Error).message}`, { cause: e });
  }
  writeState(paths, config.id, {
    status: 'running', pid: handle.pid, pidStartTime: processStartTime(handle.pid), shimPid: handle.shim.pid,
    exitCode: 0, startedAt: new Date().toISOString(), restartCount: opts.restartCount ?? state.restartCount ?? 0,
  });
  explain('go', `container ${config.id.slice(0, 12)}: pid ${handle.pid} may exec`);
  try {
    await handle.go();
  } catch (e) {
    recordExit(paths, config.id, (e as EngineError).exitCode ?? 125, (e as Error).message);
    throw e;
  }
  opts.onStarted?.(handle);
  if (detached) {
    handle.release();
    return undefined;
  }
  const code = await handle.exited;
  let oomKilled = false;
  try {
    oomKilled = cgroup.oomKilled();
  } catch {
    // its cgroup went with an rm -f meanwhile
  }
  recordExit(paths, config.id, code, undefined, oomKilled);
  return code;
}

export function recordExit(paths: Layout, id: string, code: number, error?: string, oomKilled = false): void {
  let prev;
  try {
    prev = readState(paths, id);
  } catch {
    return; // removed while it ran (rm -f): there is no state left to record into
  }
  writeState(paths, id, { ...prev, status: 'exited', pid: 0, exitCode: code, error, oomKilled, finishedAt: new Date().toISOString() });
}
