// Containers on disk: containers/ID/{config.json,state.json,upper,work,merged,hostname,hosts}.
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, readFileSync, symlinkSync, unlinkSync } from 'node:fs';
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

// Names: <root>/names/NAME is a symlink to the container's ID. symlink(2) fails when the name
// exists, so taking a name is atomic without a lock (a global flock cost a start ~15 ms). A link
// to a container that no longer exists (its removal died halfway) is stale and may be taken.
function nameLink(paths: Layout, name: string): string {
  return join(paths.root, 'names', name);
}

/** The ID of the container that holds `name`, if any. */
export function nameInUse(paths: Layout, name: string): string | undefined {
  try {
    const id = readlinkSync(nameLink(paths, name));
    return existsSync(containerDir(paths, id)) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Take `name` for container `id`; false when another container holds it. */
export function claimName(paths: Layout, name: string, id: string): boolean {
  const link = nameLink(paths, name);
  mkdirSync(join(paths.root, 'names'), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      symlinkSync(id, link);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder: string;
    try {
      holder = readlinkSync(link);
    } catch {
      continue; // released meanwhile: try again
    }
    if (holder === id || existsSync(containerDir(paths, holder))) return holder === id;
    try {
      if (readlinkSync(link) === holder) unlinkSync(link); // stale
    } catch {
      // taken over by someone else meanwhile
    }
  }
  return false;
}

/** Give the name back, if `id` still holds it. */
export function releaseName(paths: Layout, name: string, id: string): void {
  try {
    if (readlinkSync(nameLink(paths, name)) === id) unlinkSync(nameLink(paths, name));
  } catch {
    // not held
  }
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
  let name: string | undefined;
  try {
    name = readConfig(paths, id).name;
  } catch {
    // half made: no config, no name
  }
  rmSync(containerDir(paths, id), { recursive: true, force: true });
  if (name) releaseName(paths, name, id);
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
