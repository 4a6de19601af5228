// The syscalls TypeScript calls directly, one-to-one, through koffi.
// Kept boring on purpose: names and arguments mirror the man pages, and a failed call throws a
// SyscallError naming the syscall and the errno. Meaning lives in lib/engine, not here.
//
// What is NOT here: clone/unshare of a user or mount namespace for the engine's own process.
// Node is multithreaded and the kernel refuses unshare(CLONE_NEWUSER) and setns() into a mount
// namespace from a threaded process (unshare(2), setns(2)); that work happens in native/shim.
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

const require = createRequire(import.meta.url);

/** Flags from <sys/mount.h> and <sched.h>, as the kernel defines them. */
export const MS = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, REMOUNT: 0x20, NOATIME: 0x400,
  BIND: 0x1000, MOVE: 0x2000, REC: 0x4000, PRIVATE: 0x40000, SLAVE: 0x80000, SHARED: 0x100000,
  STRICTATIME: 0x1000000,
} as const;
export const MNT_DETACH = 2;
export const CLONE = {
  NEWNS: 0x00020000, NEWCGROUP: 0x02000000, NEWUTS: 0x04000000, NEWIPC: 0x08000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000,
} as const;
export const LOCK_EX = 2;
export const LOCK_UN = 8;
/** File types from <sys/stat.h>, for mknod(2)'s mode. */
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
const SYS_pivot_root = 155; // x86_64; arm64 is 41
const SYS_pivot_root_arm64 = 41;

const errnoNames = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, n]) => [n as number, name]),
);

/** A syscall failed: `syscall` is its name, `code` the errno name (EPERM, EBUSY, ...). */
export class SyscallError extends Error {
  constructor(readonly syscall: string, readonly errno: number, readonly args: string) {
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    super(`${syscall}(${args}) failed: ${code} (${strerror(errno)})`);
    this.name = 'SyscallError';
    this.code = code;
  }
  readonly code: string;
}

type Fn = (...args: unknown[]) => number;
interface Libc {
  mount: Fn; umount2: Fn; chroot: Fn; unshare: Fn; setns: Fn; sethostname: Fn; syscall: Fn;
  flock: Fn; geteuid: Fn; strerror: (n: number) => string;
  mknod: Fn; lsetxattr: Fn; lgetxattr: Fn;
}

let libc: Libc | undefined;
let koffiMod: { errno(): number } | undefined;

function load(): Libc {
  if (libc) return libc;
  const koffi = require('koffi');
  koffiMod = koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *target, int flags)'),
    chroot: lib.func('int chroot(const char *path)'),
    unshare: lib.func('int unshare(int flags)'),
    setns: lib.func('int setns(int fd, int nstype)'),
    sethostname: lib.func('int sethostname(const char *name, size_t len)'),
    syscall: lib.func('long syscall(long number, const char *a, const char *b)'),
    flock: lib.func('int flock(int fd, int op)'),
    geteuid: lib.func('unsigned int geteuid()'),
    strerror: lib.func('const char *strerror(int errnum)'),
    mknod: lib.func('int mknod(const char *pathname, unsigned int mode, uint64_t dev)'),
    lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
    lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
  };
  return libc;
}

function check(ret: number, syscall: string, args: string): void {
  if (ret === -1) throw new SyscallError(syscall, koffiMod!.errno(), args);
}

export function strerror(errno: number): string {
  return load().strerror(errno);
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  check(load().mount(source, target, fstype, flags, data), 'mount', `${JSON.stringify(source)}, ${JSON.stringify(target)}, ${JSON.stringify(fstype)}, 0x${flags.toString(16)}, ${JSON.stringify(data)}`);
}

export function umount2(target: string, flags = 0): void {
  check(load().umount2(target, flags), 'umount2', `${JSON.stringify(target)}, ${flags}`);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  const nr = process.arch === 'arm64' ? SYS_pivot_root_arm64 : SYS_pivot_root;
  check(load().syscall(nr, newRoot, putOld), 'pivot_root', `${JSON.stringify(newRoot)}, ${JSON.stringify(putOld)}`);
}

export function chroot(path: string): void {
  check(load().chroot(path), 'chroot', JSON.stringify(path));
}

export function unshare(flags: number): void {
  check(load().unshare(flags), 'unshare', `0x${flags.toString(16)}`);
}

export function setns(fd: number, nstype: number): void {
  check(load().setns(fd, nstype), 'setns', `${fd}, 0x${nstype.toString(16)}`);
}

export function sethostname(name: string): void {
  check(load().sethostname(name, Buffer.byteLength(name)), 'sethostname', JSON.stringify(name));
}

export function flock(fd: number, op: number): void {
  check(load().flock(fd, op), 'flock', `${fd}, ${op}`);
}

export function geteuid(): number {
  // process.geteuid is the same call without loading the FFI; used on the CLI's start path.
  return process.geteuid ? process.geteuid() : load().geteuid();
}

/** The makedev(3) macro of glibc: a dev_t from a major and a minor number. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function mknod(path: string, mode: number, dev: bigint): void {
  check(load().mknod(path, mode, dev), 'mknod', `${JSON.stringify(path)}, 0${mode.toString(8)}, ${dev}`);
}

export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check(load().lsetxattr(path, name, value, value.length, flags), 'lsetxattr', `${JSON.stringify(path)}, ${JSON.stringify(name)}, ${JSON.stringify(value.toString())}, ${value.length}, ${flags}`);
}

/** The value of an extended attribute (up to 64 KiB, the kernel's limit for one value). */
export function lgetxattr(path: string, name: string): Buffer {
  const buf = Buffer.alloc(65536);
  const n = load().lgetxattr(path, name, buf, buf.length);
  check(n, 'lgetxattr', `${JSON.stringify(path)}, ${JSON.stringify(name)}`);
  return buf.subarray(0, n);
}
