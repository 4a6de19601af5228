// The cgroup filesystem as both drivers touch it: one write per value, each reported through
// explain(), reads that tolerate a missing file, mkdir/rmdir, and the kill loop.
import { closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** A container cgroup's name is one path component: nothing can climb out of the parent. */
export function checkName(name: string): void {
  if (!NAME.test(name) || name.length > 255) {
    throw new EngineError('bad_cgroup_name', `invalid cgroup name "${name}": use letters, digits, '_', '.' and '-', starting with a letter or digit`);
  }
}

/** The engine's parent: one or more such components, e.g. "mini-docker" or "lab/mini-docker". */
export function checkParent(parent: string): string[] {
  const parts = parent.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new EngineError('bad_cgroup_name', 'the cgroup parent is empty: the engine never puts containers at the top of a hierarchy');
  for (const p of parts) {
    if (!NAME.test(p) || p.length > 255) throw new EngineError('bad_cgroup_name', `invalid cgroup parent "${parent}"`);
  }
  return parts;
}

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * Write one value to one cgroup file with one write(2), as the kernel parses each write whole.
 * No O_CREAT: a knob the kernel does not offer is an error (ENOENT), never a new plain file.
 * Throws the raw errno error; callers add meaning.
 */
export function writeRaw(dir: string, file: string, value: string): void {
  explain('cgroup', `write ${file} <- ${value} (${dir})`);
  const fd = openSync(join(dir, file), constants.O_WRONLY | constants.O_TRUNC);
  try {
    writeSync(fd, value);
  } finally {
    closeSync(fd);
  }
}

const HINTS: Record<string, string> = {
  EBUSY: 'the kernel refused while the cgroup is in use (e.g. a memory limit below what its tasks use now, or controllers enabled beside processes)',
  EINVAL: 'the kernel refused the value: out of range for this knob, or in conflict with another limit',
  ENOSPC: 'cpuset: the cgroup has no CPUs or memory nodes (cpuset.cpus / cpuset.mems empty)',
  ENOENT: 'the kernel does not offer this file: the controller is not enabled or the feature is not built in',
  EACCES: 'run as root',
  EPERM: 'run as root',
};

/** writeRaw, with a clear EngineError. */
export function writeFile(dir: string, file: string, value: string, hint?: string): void {
  try {
    writeRaw(dir, file, value);
  } catch (e) {
    throw writeError(dir, file, value, e, hint);
  }
}

export function writeError(dir: string, file: string, value: string, e: unknown, hint?: string): EngineError {
  const code = errnoOf(e) ?? 'error';
  return new EngineError('cgroup_write', `cannot write "${value}" to ${join(dir, file)}: ${code}`, {
    hint: hint ?? HINTS[code],
    cause: e,
  });
}

/** A cgroup file's content, or undefined when the file does not exist. */
export function readText(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return undefined;
    throw e;
  }
}

/** Past this a limit means "none": v1 shows unlimited as 9223372036854771712 (LONG_MAX rounded to a page). */
const UNLIMITED = 2 ** 62;

/** A one-number file; null for "max" (v2) or v1's huge "unlimited"; undefined when missing. */
export function readNumber(dir: string, file: string): number | null | undefined {
  const t = readText(dir, file)?.trim();
  if (t === undefined || t === '') return undefined;
  if (t === 'max' || t === '-1') return null;
  const n = Number(t);
  return Number.isFinite(n) && n < UNLIMITED ? n : null;
}

/** "key value" lines (cpu.stat, memory.stat, memory.events, memory.oom_control, cgroup.events). */
export function readKeyed(dir: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readText(dir, file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

export function readPids(dir: string): number[] {
  return (readText(dir, 'cgroup.procs') ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
}

/** Every PID in a cgroup and its descendants (a container may make cgroups of its own). */
export function pidsTree(dir: string): number[] {
  const out = readPids(dir);
  for (const c of childCgroups(dir)) out.push(...pidsTree(join(dir, c)));
  return out;
}

/**
 * The two directory operations whose kernel side a plain directory cannot play: mkdir fills a
 * new cgroup with its interface files, rmdir removes one that still shows them. Unit tests pass
 * their own to lay out what the kernel would.
 */
export interface DirOps {
  mkdir(dir: string): void;
  rmdir(dir: string): void;
}

export const kernelDirOps: DirOps = {
  mkdir: (dir) => mkdirSync(dir),
  rmdir: (dir) => rmdirSync(dir),
};

export function mkdirCgroup(dir: string, ops: DirOps = kernelDirOps): void {
  explain('cgroup', `mkdir ${dir}`);
  ops.mkdir(dir);
}

/** Child cgroups of a cgroup directory (cgroup files are never directories). */
export function childCgroups(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return [];
    throw e;
  }
}

/**
 * rmdir a cgroup and its descendants, deepest first. A cgroup whose last task has just exited can
 * still be busy for a moment (EBUSY): retry briefly. Gone already is fine.
 */
export async function removeCgroupDir(dir: string, ops: DirOps = kernelDirOps, timeoutMs = 3000): Promise<void> {
  for (const child of childCgroups(dir)) await removeCgroupDir(join(dir, child), ops, timeoutMs);
  if (!existsSync(dir)) return;
  const deadline = Date.now() + timeoutMs;
  explain('cgroup', `rmdir ${dir}`);
  for (;;) {
    try {
      ops.rmdir(dir);
      return;
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        throw new EngineError('cgroup_busy', `cannot remove cgroup ${dir}: ${code}`, {
          hint: code === 'EBUSY' ? 'processes are still in it (cgroup.procs) or it has child cgroups' : HINTS[code ?? ''],
          cause: e,
        });
      }
      await sleep(20);
    }
  }
}

/** rmdir one cgroup if it is empty of children; false if it is still in use or not ours to judge. */
export function removeIfEmpty(dir: string, ops: DirOps = kernelDirOps): boolean {
  if (!existsSync(dir)) return true;
  if (childCgroups(dir).length > 0) return false;
  explain('cgroup', `rmdir ${dir}`);
  try {
    ops.rmdir(dir);
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return true;
    if (errnoOf(e) === 'EBUSY') return false;
    throw e;
  }
}

export function signalPid(pid: number, signal: NodeJS.Signals | number): void {
  try {
    process.kill(pid, signal);
  } catch (e) {
    if (errnoOf(e) !== 'ESRCH') throw e;
  }
}

export interface KillTarget {
  pids(): number[];
  /** undefined: no freezer available, the loop signals without freezing */
  freeze?: () => Promise<void>;
  thaw?: () => void;
  where: string;
}

/**
 * Signal every process of a cgroup and wait until it is empty. With a freezer, a process cannot
 * fork between our reading cgroup.procs and our signal: freeze, signal all, thaw, look again
 * (runc's signalAllProcesses). The first SIGKILL goes out without freezing, as a task asleep in
 * the kernel (an OOM wait, state D) cannot be frozen but can be killed; the freezer is for the
 * forks that outlive it. SIGKILL is resent each round; other signals are sent once.
 */
export async function killLoop(target: KillTarget, signal: NodeJS.Signals | number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const isKill = signal === 'SIGKILL' || signal === 9;
  let round = 0;
  while (target.pids().length > 0) {
    if (round === 0 || isKill) {
      let froze = false;
      if (target.freeze && (round > 0 || !isKill)) {
        try {
          await target.freeze();
          froze = true;
        } catch {
          // a freezer that does not settle must not stop the kill: signal unfrozen
        }
      }
      const pids = target.pids();
      explain('cgroup', `kill -${signal} ${pids.join(' ')} (${target.where})`);
      for (const pid of pids) signalPid(pid, signal);
      if (froze) target.thaw?.();
    }
    round++;
    // give the signalled tasks a moment to exit before we look again
    const until = Date.now() + 100;
    while (Date.now() < until && target.pids().length > 0) await sleep(5);
    if (target.pids().length > 0 && Date.now() > deadline) {
      throw new EngineError('cgroup_kill_timeout', `processes ${target.pids().join(' ')} of ${target.where} are still alive ${timeoutMs} ms after ${signal}`, {
        hint: isKill ? 'a task stuck in the kernel (state D) cannot die until its I/O ends' : 'they ignore the signal: use SIGKILL',
      });
    }
  }
}
