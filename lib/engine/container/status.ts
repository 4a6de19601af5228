// A container's true state: what state.json recorded, checked against the kernel. The monitor
// (or a foreground shim) leaves exit.json when the process ends; a pid is only taken for the
// container's while its start time matches, so a recycled pid is never mistaken for it.
import { existsSync, readFileSync } from 'node:fs';
import type { Layout } from '../paths.js';
import { containerFiles, processStartTime, readConfig, readState, writeState, type ContainerState } from './store.js';
import { openCgroup } from './cgroup.js';

interface ExitRecord {
  exitCode: number;
  finishedAt: string;
}

function readExit(path: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

// #region lesson-11-state
/**
 * Is this pid still the process that started at `startTime`? A zombie is not: once its monitor
 * is gone, a container's process may be left unreaped by whoever inherited it.
 */
export function processAlive(pid: number, startTime: string | undefined): boolean {
  if (pid <= 0 || startTime === undefined || processStartTime(pid) !== startTime) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return false;
  }
}

export function currentState(paths: Layout, id: string): ContainerState {
  const s = readState(paths, id);
  if (s.status !== 'running' && s.status !== 'paused') return s;
  const f = containerFiles(paths, id);
  const exit = existsSync(f.exit) ? readExit(f.exit) : undefined;
  if (exit && (!s.startedAt || exit.finishedAt >= s.startedAt)) return settle(paths, id, s, exit);
  if (processAlive(s.pid, s.pidStartTime)) return s;
  if (exit === undefined && existsSync(f.exit)) {
    // being renamed into place right now: read once more
    const again = readExit(f.exit);
    if (again) return settle(paths, id, s, again);
  }
  // Gone, and nobody recorded how: its monitor was killed before it.
  return {
    ...s, status: 'exited', pid: 0, exitCode: 255,
    error: 'the container\'s process ended while its monitor was not running: exit code unknown',
    finishedAt: s.finishedAt ?? new Date().toISOString(),
  };
}
// #endregion lesson-11-state

/**
 * The first to see the monitor's exit record writes it into state.json once, with what only the
 * cgroup still knows: whether the OOM killer ended it.
 */
function settle(paths: Layout, id: string, s: ContainerState, exit: ExitRecord): ContainerState {
  let oomKilled = false;
  try {
    oomKilled = openCgroup(readConfig(paths, id))?.oomKilled() ?? false;
  } catch {
    // no cgroup (removed meanwhile)
  }
  const settled: ContainerState = { ...s, status: 'exited', pid: 0, exitCode: exit.exitCode, finishedAt: exit.finishedAt, oomKilled };
  try {
    writeState(paths, id, settled);
  } catch {
    // removed meanwhile
  }
  return settled;
}

export function isRunning(s: ContainerState): boolean {
  return s.status === 'running' || s.status === 'paused' || s.status === 'restarting';
}
