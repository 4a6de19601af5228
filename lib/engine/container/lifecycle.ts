// stop, kill, wait, restart, rm, prune: what happens to a container after it started.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';
import type { Layout } from '../paths.js';
import { withLock } from '../util/fs.js';
import { containerFiles, listContainerIds, readConfig, readState, removeContainerDir, writeState, type ContainerState } from './store.js';
import { currentState, isRunning, processAlive } from './status.js';
import { startContainer } from './start.js';
import { openCgroup, removeCgroup } from './cgroup.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, TERM, 15 -> 15. */
export function parseSignal(spec: string): number {
  const s = spec.toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n >= 1 && n <= 64) return n;
  } else {
    const n = osConstants.signals[(s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals];
    if (n !== undefined) return n;
  }
  throw new EngineError('bad_signal', `invalid signal: ${spec}`, { hint: 'use a name like SIGTERM, TERM or KILL, or a number' });
}

/** Mark the state so that a restart policy leaves the container alone (docker's manual stop). */
function markStopRequested(paths: Layout, id: string): void {
  const s = readState(paths, id);
  writeState(paths, id, { ...s, stopRequested: true });
}

/**
 * Send a signal to the container's first process. With its own PID namespace, SIGKILL to that
 * process ends every process of the container (pid_namespaces(7)). Under the container's lock,
 * so that a restart policy's decision and a stop never cross (see handleExit).
 */
export async function killContainer(paths: Layout, id: string, signal: number): Promise<void> {
  await withLock(containerFiles(paths, id).lock, () => {
    const s = currentState(paths, id);
    if (!isRunning(s)) throw new EngineError('not_running', `container ${readConfig(paths, id).name} is not running`, { exitCode: 1 });
    markStopRequested(paths, id);
    // Restarting: no process right now, and the restart is called off by the mark above.
    // (A pid of 0 would signal our own process group: never send it.)
    if (s.status === 'restarting' || s.pid <= 0) return;
    explain('kill', `kill(${s.pid}, ${signal})`);
    try {
      process.kill(s.pid, signal);
    } catch {
      // exited meanwhile
    }
  });
}

/** Wait until the container is no longer running; resolves with its state then. */
export async function waitContainer(paths: Layout, id: string, timeoutMs = Infinity): Promise<ContainerState> {
  const until = Date.now() + timeoutMs;
  for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
    const s = currentState(paths, id);
    if (!isRunning(s)) return s;
    if (Date.now() >= until) return s;
    await sleep(delay);
  }
}

// #region lesson-11-stop
/** The image's StopSignal, then after `timeout` seconds SIGKILL; resolves once it is gone. */
export async function stopContainer(paths: Layout, id: string, timeoutSec = 10, signal?: string): Promise<void> {
  const s = currentState(paths, id);
  const config = readConfig(paths, id);
  if (!isRunning(s)) {
    // Exited a moment ago, its restart maybe on the way: call the restart off.
    if (config.restartPolicy.name !== 'no') await withLock(containerFiles(paths, id).lock, () => markStopRequested(paths, id));
    return;
  }
  const sig = parseSignal(signal ?? config.stopSignal ?? 'SIGTERM');
  await killContainer(paths, id, sig);
  let after = await waitContainer(paths, id, timeoutSec * 1000);
  if (isRunning(after)) {
    await killContainer(paths, id, osConstants.signals.SIGKILL);
    // Every process of its cgroup, not only the first: nothing of the container survives.
    await openCgroup(config)?.killAll('SIGKILL');
    after = await waitContainer(paths, id, 10_000);
    if (isRunning(after)) throw new EngineError('stop_failed', `container ${config.name} did not stop after SIGKILL`, { exitCode: 1 });
  }
  await waitForMonitor(after);
}
// #endregion lesson-11-stop

/** The monitor writes the exit record, then exits; wait for it so that its mounts are gone too. */
async function waitForMonitor(s: ContainerState): Promise<void> {
  if (!s.shimPid) return;
  for (let i = 0; i < 100 && shimAlive(s.shimPid); i++) await sleep(20);
}

function shimAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('mini-docker-shim');
  } catch {
    return false;
  }
}

export async function restartContainer(paths: Layout, id: string, timeoutSec: number, exitHook?: string[]): Promise<void> {
  await stopContainer(paths, id, timeoutSec);
  await startContainer(paths, id, { mode: 'detached', exitHook });
}

/** rm: a running container needs force; everything the container made goes with it. */
export async function removeContainer(paths: Layout, id: string, opts: { force?: boolean } = {}): Promise<void> {
  const s = currentState(paths, id);
  const config = readConfig(paths, id);
  if (isRunning(s)) {
    if (!opts.force) {
      throw new EngineError('running', `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`, {
        exitCode: 1, hint: `mini-docker stop ${config.name}, or mini-docker rm -f ${config.name}`,
      });
    }
    await killContainer(paths, id, osConstants.signals.SIGKILL);
    await openCgroup(config)?.killAll('SIGKILL');
    const after = await waitContainer(paths, id, 10_000);
    if (isRunning(after)) throw new EngineError('stop_failed', `container ${config.name} did not die after SIGKILL`, { exitCode: 1 });
    await waitForMonitor(after);
  } else if (s.shimPid && processAlive(s.pid, s.pidStartTime) === false) {
    await waitForMonitor(s);
  }
  await destroyContainer(paths, id);
}

/** Everything a container made on the host: its cgroup, then its directory. */
export async function destroyContainer(paths: Layout, id: string): Promise<void> {
  let config;
  try {
    config = readConfig(paths, id);
  } catch {
    return; // removed meanwhile by someone else (rm -f racing run --rm): nothing left to do
  }
  try {
    await removeCgroup(config);
  } finally {
    removeContainerDir(paths, id);
  }
}

/** container prune: every container that is not running. */
export async function pruneContainers(paths: Layout): Promise<{ removed: string[]; bytes: number }> {
  const removed: string[] = [];
  let bytes = 0;
  for (const id of listContainerIds(paths)) {
    try {
      if (isRunning(currentState(paths, id))) continue;
      bytes += dirSize(containerFiles(paths, id).upper);
      await removeContainer(paths, id);
      removed.push(id);
    } catch {
      // removed by someone else meanwhile
    }
  }
  return { removed, bytes };
}

function dirSize(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const st = lstatSync(`${d}/${n}`);
      if (st.isDirectory()) walk(`${d}/${n}`);
      else total += st.size;
    }
  };
  try {
    walk(dir);
  } catch {
    // no upper dir (a --rootfs container)
  }
  return total;
}

/**
 * Run by the monitor after the container exited (its "onexit"): --rm removes, a restart policy
 * starts it again after docker's back-off (100 ms, doubling, reset after 10 s of running).
 */
export async function handleExit(paths: Layout, id: string, exitHook: string[]): Promise<void> {
  let config;
  try {
    config = readConfig(paths, id);
  } catch {
    return; // removed meanwhile
  }
  const s = currentState(paths, id);
  if (isRunning(s)) return;
  if (config.autoRemove) {
    await destroyContainer(paths, id);
    return;
  }
  const p = config.restartPolicy;
  const lock = containerFiles(paths, id).lock;
  // Decide under the container's lock, and again after the back-off: a stop in between (which
  // marks stopRequested under the same lock) calls the restart off.
  const plan = await withLock(lock, () => {
    const s = currentState(paths, id);
    if (isRunning(s)) return undefined;
    const count = s.restartCount ?? 0;
    const wanted =
      !s.stopRequested &&
      (p.name === 'always' || p.name === 'unless-stopped' ||
        (p.name === 'on-failure' && s.exitCode !== 0 && (p.maximumRetryCount === 0 || count < p.maximumRetryCount)));
    if (!wanted) return undefined;
    const ranFor = s.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : 0;
    writeState(paths, id, { ...s, status: 'restarting' });
    return { s, count, backoff: ranFor >= 10_000 ? 100 : Math.min(100 * 2 ** count, 60_000) };
  });
  if (!plan) return;
  await sleep(plan.backoff);
  await withLock(lock, async () => {
    if (readState(paths, id).stopRequested) {
      writeState(paths, id, { ...plan.s, stopRequested: true });
      return;
    }
    writeState(paths, id, plan.s);
    await startContainer(paths, id, { mode: 'detached', exitHook, restartCount: plan.count + 1 });
  });
}
