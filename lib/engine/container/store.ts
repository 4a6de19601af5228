// Containers on disk: containers/ID/{config.json,state.json,upper,work,merged,hostname,hosts}.
import { existsSync, mkdirSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import { readJson, writeJsonAtomic } from '../util/fs.js';
import type { ContainerConfig } from './config.js';

export type ContainerStatus = 'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'removing' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  /** Host pid of the container's first process, with its start time (field 22 of /proc/PID/stat)
   *  so that a recycled pid is never taken for the container. */
  pid: number;
  pidStartTime?: string;
  shimPid?: number;
  exitCode: number;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  restartCount?: number;
  /** Stopped by stop/kill/rm: a restart policy does not bring it back (docker's "manual stop"). */
  stopRequested?: boolean;
  oomKilled?: boolean;
}

export function containerDir(paths: Layout, id: string): string {
  return join(paths.containers, id);
}

export function containerFiles(paths: Layout, id: string) {
  const dir = containerDir(paths, id);
  return {
    dir,
    config: join(dir, 'config.json'),
    state: join(dir, 'state.json'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    hostname: join(dir, 'hostname'),
    hosts: join(dir, 'hosts'),
    /** docker's json-file format: one {"log","stream","time"} object per line. */
    log: join(dir, 'container.log'),
    /** Written by the shim (atomically) when the container's process ends. */
    exit: join(dir, 'exit.json'),
    lock: join(dir, 'lock'),
  };
}

export function listContainerIds(paths: Layout): string[] {
  try {
    return readdirSync(paths.containers).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

export function readConfig(paths: Layout, id: string): ContainerConfig {
  return readJson<ContainerConfig>(containerFiles(paths, id).config);
}

export function readState(paths: Layout, id: string): ContainerState {
  return readJson<ContainerState>(containerFiles(paths, id).state);
}

export function writeState(paths: Layout, id: string, state: ContainerState): void {
  writeJsonAtomic(containerFiles(paths, id).state, state);
}

/** Names in use, for --name uniqueness (callers hold the data root's lock). */
export function nameInUse(paths: Layout, name: string): string | undefined {
  for (const id of listContainerIds(paths)) {
    try {
      if (readConfig(paths, id).name === name) return id;
    } catch {
      // a container being created or removed right now
    }
  }
  return undefined;
}

/** Make the directory tree of a new container and record its config and "created" state. */
export function createContainerDirs(paths: Layout, config: ContainerConfig, withOverlay: boolean): void {
  const f = containerFiles(paths, config.id);
  if (existsSync(f.dir)) throw new EngineError('exists', `container ${config.id} already exists`);
  if (!existsSync(paths.containers)) {
    mkdirSync(paths.root, { recursive: true, mode: 0o711 });
    mkdirSync(paths.containers, { recursive: true, mode: 0o711 });
  }
  // Traversable (not listable) by others: a user-namespaced container binds its hostname and hosts from here.
  mkdirSync(f.dir, { mode: 0o711 });
  if (withOverlay) {
    for (const d of [f.upper, f.work, f.merged]) mkdirSync(d);
  }
  writeJsonAtomic(f.config, config);
  writeState(paths, config.id, { status: 'created', pid: 0, exitCode: 0 });
}

export function removeContainerDir(paths: Layout, id: string): void {
  rmSync(containerDir(paths, id), { recursive: true, force: true });
}

/** Start time of a process in clock ticks since boot, or undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
