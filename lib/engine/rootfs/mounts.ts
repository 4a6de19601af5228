// The container's filesystem, as operations for the shim: what to mount where, in which order,
// and how the process leaves the host's tree behind (pivot_root, or chroot in --chroot mode).
import { MS } from '../../../native/libc.js';
import type { Op } from '../runtime/ops.js';

export interface RootfsOptions {
  /** The directory that becomes "/" (the overlay's merged dir, or --rootfs DIR). */
  rootfs: string;
  /** chroot instead of pivot_root: the lesson-2 mode, escapable, documented as such. */
  chroot: boolean;
  /** The container has its own network namespace (sysfs can only be mounted then). */
  ownNetNs: boolean;
  /** The container has its own IPC namespace (mqueue can only be mounted then). */
  ownIpcNs: boolean;
  /** Files the engine generated and binds into /etc (hostname, hosts). */
  etcFiles: { path: string; source: string }[];
  readonlyRootfs?: boolean;
}

const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

// Paths of /proc and /sys that reveal or change the host; docker masks the same ones.
const MASKED_FILES = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats'];
const MASKED_DIRS = ['/proc/acpi', '/proc/scsi', '/sys/firmware'];
const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

// #region lesson-03-make-private
/** First thing in a new mount namespace: stop mounts propagating to and from the host. */
export function makePrivate(): Op {
  return { op: 'private', path: '/' };
}
// #endregion lesson-03-make-private

/**
 * The whole filesystem setup of a container, in two parts:
 * - `prepare` creates mount points in the rootfs itself. The shim runs it as root on the host,
 *   before clone: inside a user namespace the container's root may not write to files owned by
 *   a host uid that its map does not cover.
 * - `mount` runs in the container's process: its mounts, ending with the switch of root.
 */
export function rootfsOps(o: RootfsOptions): { prepare: Op[]; mount: Op[] } {
  const r = o.rootfs;
  const prepare: Op[] = [
    { op: 'mkdir', path: `${r}/proc`, mode: 0o555 },
    { op: 'mkdir', path: `${r}/sys`, mode: 0o555 },
    { op: 'mkdir', path: `${r}/dev`, mode: 0o755 },
  ];
  // Bound as root in the shim's mount namespace, before clone: the engine's files may sit where
  // a user-namespaced root cannot reach them. The recursive bind below carries them along.
  for (const f of o.etcFiles) {
    prepare.push({ op: 'touch', path: `${r}${f.path}` });
    prepare.push({ op: 'mount', source: f.source, target: `${r}${f.path}`, fstype: '', flags: MS.BIND });
  }
  const mount: Op[] = [];
  if (!o.chroot) {
    mount.push(makePrivate());
    // pivot_root(2) needs the new root to be a mount point: bind it onto itself.
    mount.push({ op: 'mount', source: r, target: r, fstype: '', flags: MS.BIND | MS.REC });
  }
  mount.push(...procAndSys(r, o.ownNetNs));
  mount.push(...minimalDev(r, o.ownIpcNs));
  if (!o.chroot) mount.push(...maskedPaths(r));
  mount.push(...switchRoot(r, o.chroot));
  return { prepare, mount };
}

// #region lesson-03-proc
function procAndSys(r: string, ownNetNs: boolean): Op[] {
  const nosuid = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  return [
    { op: 'mount', source: 'proc', target: `${r}/proc`, fstype: 'proc', flags: nosuid },
    // sysfs shows the network devices of the namespace that mounts it, so it needs its own netns.
    ownNetNs
      ? { op: 'mount', source: 'sysfs', target: `${r}/sys`, fstype: 'sysfs', flags: nosuid | MS.RDONLY }
      : { op: 'mount', source: '/sys', target: `${r}/sys`, fstype: '', flags: MS.BIND | MS.REC | MS.RDONLY },
  ];
}
// #endregion lesson-03-proc

// #region lesson-03-dev
/** A tmpfs /dev with only the harmless devices, bound from the host's, and its own pts. */
function minimalDev(r: string, ownIpcNs: boolean): Op[] {
  const ops: Op[] = [
    { op: 'mount', source: 'tmpfs', target: `${r}/dev`, fstype: 'tmpfs', flags: MS.NOSUID | MS.STRICTATIME, data: 'mode=755,size=65536k' },
  ];
  for (const d of DEVICES) {
    ops.push({ op: 'touch', path: `${r}/dev/${d}` });
    ops.push({ op: 'mount', source: `/dev/${d}`, target: `${r}/dev/${d}`, fstype: '', flags: MS.BIND });
  }
  ops.push(
    { op: 'mkdir', path: `${r}/dev/pts`, mode: 0o755 },
    { op: 'mount', source: 'devpts', target: `${r}/dev/pts`, fstype: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620' },
    { op: 'symlink', target: 'pts/ptmx', path: `${r}/dev/ptmx` },
    { op: 'mkdir', path: `${r}/dev/shm`, mode: 0o1777 },
    { op: 'mount', source: 'shm', target: `${r}/dev/shm`, fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'mode=1777,size=65536k' },
    { op: 'symlink', target: '/proc/self/fd', path: `${r}/dev/fd` },
    { op: 'symlink', target: '/proc/self/fd/0', path: `${r}/dev/stdin` },
    { op: 'symlink', target: '/proc/self/fd/1', path: `${r}/dev/stdout` },
    { op: 'symlink', target: '/proc/self/fd/2', path: `${r}/dev/stderr` },
  );
  if (ownIpcNs) {
    ops.push(
      { op: 'mkdir', path: `${r}/dev/mqueue`, mode: 0o755 },
      { op: 'mount', source: 'mqueue', target: `${r}/dev/mqueue`, fstype: 'mqueue', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC },
    );
  }
  return ops;
}
// #endregion lesson-03-dev

function maskedPaths(r: string): Op[] {
  const ops: Op[] = [];
  for (const p of MASKED_FILES) ops.push({ op: 'mount', source: '/dev/null', target: `${r}${p}`, fstype: '', flags: MS.BIND, ifExists: true });
  for (const p of MASKED_DIRS) ops.push({ op: 'mount', source: 'tmpfs', target: `${r}${p}`, fstype: 'tmpfs', flags: MS.RDONLY, ifExists: true });
  for (const p of READONLY_PATHS) ops.push({ op: 'mount', source: `${r}${p}`, target: `${r}${p}`, fstype: '', flags: MS.BIND | MS.REC | MS.RDONLY, ifExists: true });
  return ops;
}

// #region lesson-03-pivot-root
/**
 * Leave the host's tree. pivot_root moves the old root under the new one, where it is then
 * unmounted and removed: nothing of the host stays reachable. chroot only changes where "/"
 * resolves for this process, and a root process can walk back out (lesson 2).
 */
function switchRoot(r: string, chroot: boolean): Op[] {
  return chroot ? [{ op: 'chroot', root: r }] : [{ op: 'pivot_root', root: r }];
}
// #endregion lesson-03-pivot-root
