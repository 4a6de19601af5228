// cp and diff: the container's files seen from the host.
// Paths inside the container are resolved by hand, component by component, with every symlink
// read and resolved against the container's root: the kernel would resolve an absolute symlink
// against the host's root, and a hostile image could make `cp` read or write host files.
import { cpSync, existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';
import type { Layout } from '../paths.js';
import { MNT_DETACH, mount, umount2, lgetxattr } from '../../../native/libc.js';
import { containerFiles, readConfig } from './store.js';
import { currentState, isRunning } from './status.js';
import { rootfsForConfig } from './rootfs-source.js';

/** `path` inside `root`, symlinks followed within root (the last one only if `followLast`). */
export function resolveInRoot(root: string, path: string, followLast = false): string {
  const parts: string[] = [];
  const todo = path.split('/').filter(Boolean);
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      parts.pop(); // never above the container's root
      continue;
    }
    const candidate = join(root, ...parts, part);
    let st;
    try {
      st = lstatSync(candidate);
    } catch {
      parts.push(part, ...todo.filter((p) => p !== '.'));
      break; // the rest does not exist (yet): nothing more to resolve
    }
    if (st.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > 40) throw new EngineError('symlink_loop', `too many levels of symbolic links in ${path}`);
      const target = readlinkSync(candidate);
      if (target.startsWith('/')) parts.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    parts.push(part);
  }
  return join(root, ...parts);
}

/** Make the container's root reachable from the host for `fn`, then put things back. */
async function withContainerRoot<T>(paths: Layout, id: string, fn: (root: string) => T): Promise<T> {
  const config = readConfig(paths, id);
  const state = currentState(paths, id);
  if (isRunning(state)) return fn(`/proc/${state.pid}/root`);
  if (config.rootfs) return fn(config.rootfs);
  // A stopped container has no mounted rootfs: mount its overlay for the copy, then unmount.
  const rootfs = await rootfsForConfig(paths, config);
  const f = containerFiles(paths, id);
  const data = `lowerdir=${rootfs.lowerdirs!.join(':')},upperdir=${f.upper},workdir=${f.work}`;
  explain('mount', `overlay on ${f.merged} (${data}) for the copy`);
  mount('overlay', f.merged, 'overlay', 0, data);
  try {
    return fn(f.merged);
  } finally {
    explain('umount2', `${f.merged}, MNT_DETACH`);
    umount2(f.merged, MNT_DETACH);
  }
}

function copyInto(src: string, dest: string, srcName: string): void {
  let target = dest;
  if (existsSync(dest) && statSync(dest).isDirectory() && !srcName.endsWith('/.')) target = join(dest, basename(srcName));
  cpSync(src, target, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true });
}

/** docker cp CONTAINER:SRC HOSTDEST */
export async function copyFromContainer(paths: Layout, id: string, src: string, dest: string): Promise<void> {
  await withContainerRoot(paths, id, (root) => {
    const from = resolveInRoot(root, src);
    if (!existsSync(from) && !isLink(from)) {
      throw new EngineError('no_such_path', `Could not find the file ${src} in container ${readConfig(paths, id).name}`, { exitCode: 1 });
    }
    copyInto(from, dest, src);
  });
}

/** docker cp HOSTSRC CONTAINER:DEST */
export async function copyToContainer(paths: Layout, id: string, src: string, dest: string): Promise<void> {
  if (!existsSync(src)) throw new EngineError('no_such_path', `stat ${src}: no such file or directory`, { exitCode: 1 });
  await withContainerRoot(paths, id, (root) => {
    const to = resolveInRoot(root, dest, true);
    const parent = resolveInRoot(root, join(dest, '..'), true);
    if (!existsSync(parent)) throw new EngineError('no_such_path', `Could not find the directory ${join(dest, '..')} in the container`, { exitCode: 1 });
    copyInto(src, to, src);
  });
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export interface Change {
  kind: 'A' | 'C' | 'D';
  path: string;
}

// What the engine itself puts into a rootfs: not the container's changes (docker hides them too).
const ENGINE_MADE = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf', '/proc', '/sys', '/dev']);

// #region lesson-10-diff
/**
 * docker diff, read from the upper dir: a 0:0 character device is a deletion (overlay's
 * whiteout), a path that also exists in a lower layer is a change, anything else was added.
 */
export async function containerChanges(paths: Layout, id: string): Promise<Change[]> {
  const config = readConfig(paths, id);
  if (config.rootfs) throw new EngineError('no_layers', `container ${config.name} runs from --rootfs ${config.rootfs}: it has no layers to compare`, { exitCode: 1 });
  const lower = (await rootfsForConfig(paths, config)).lowerdirs!;
  const upper = containerFiles(paths, id).upper;
  const inLower = (rel: string) => lower.some((d) => existsSync(join(d, rel)) || isLink(join(d, rel)));
  const changes: Change[] = [];
  // A directory that was only copied up for what it holds is reported as changed when
  // something below it is (docker's rule); one that is new is reported either way.
  const walk = (rel: string): boolean => {
    let any = false;
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const r = `${rel}/${name}`;
      const st = lstatSync(join(upper, r));
      if (st.isCharacterDevice() && st.rdev === 0) {
        changes.push({ kind: 'D', path: r });
        any = true;
        continue;
      }
      if (ENGINE_MADE.has(r) && (!st.isDirectory() || readdirSync(join(upper, r)).length === 0)) continue;
      const existed = inLower(r);
      if (!st.isDirectory()) {
        changes.push({ kind: existed ? 'C' : 'A', path: r });
        any = true;
        continue;
      }
      const at = changes.length;
      const below = isOpaque(join(upper, r)) ? walkAll(r) : walk(r);
      if (!existed || below) {
        changes.splice(at, 0, { kind: existed ? 'C' : 'A', path: r });
        any = true;
      }
    }
    return any;
  };
  // Below an opaque dir nothing of the lower layers shows: everything in it was added.
  const walkAll = (rel: string): boolean => {
    const names = readdirSync(join(upper, rel)).sort();
    for (const name of names) {
      const r = `${rel}/${name}`;
      changes.push({ kind: 'A', path: r });
      if (lstatSync(join(upper, r)).isDirectory()) walkAll(r);
    }
    return true;
  };
  walk('');
  return changes;
}
// #endregion lesson-10-diff

function isOpaque(dir: string): boolean {
  try {
    return lgetxattr(dir, 'trusted.overlay.opaque').toString() === 'y';
  } catch {
    return false;
  }
}

