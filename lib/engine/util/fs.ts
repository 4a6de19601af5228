import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { flock, LOCK_EX, LOCK_UN } from '../../../native/libc.js';

/**
 * Write a file so that readers see the old or the new content, never half of it (rename(2) is
 * atomic). No fsync: this protects against a killed process, not against power loss, and an
 * fsync per state change would cost more than a container start's whole budget.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o644): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, path);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Per lock file, the tail of this process's queue of holders (see withLock). */
const holders = new Map<string, Promise<unknown>>();

/**
 * Run `fn` holding an exclusive flock(2) on `lockPath`. The kernel drops the lock if the process
 * dies, so a killed CLI never leaves a stale lock behind.
 * flock(2) locks belong to an open file, not to a process: a second open of the same file in this
 * process would block forever (and, flock being a synchronous call, freeze the event loop), so
 * callers within one process first queue here and only then take the kernel lock.
 */
export async function withLock<T>(lockPath: string, fn: () => T | Promise<T>): Promise<T> {
  const key = resolve(lockPath);
  const before = holders.get(key) ?? Promise.resolve();
  const mine = before.then(() => withFlock(lockPath, fn));
  const tail = mine.catch(() => undefined);
  holders.set(key, tail);
  try {
    return await mine;
  } finally {
    if (holders.get(key) === tail) holders.delete(key);
  }
}

async function withFlock<T>(lockPath: string, fn: () => T | Promise<T>): Promise<T> {
  mkdirSync(dirname(lockPath), { recursive: true });
  const fd = openSync(lockPath, 'a');
  try {
    flock(fd, LOCK_EX);
    try {
      return await fn();
    } finally {
      flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
}
