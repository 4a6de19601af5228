// The smallest useful root filesystem: one static busybox and a link per applet. Lessons before
// images, and the grader, run containers with `--rootfs DIR` on such a directory, so what they
// read inside comes from this busybox and not from the learner's userland.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';

const CANDIDATES = ['/bin/busybox', '/usr/bin/busybox', '/usr/lib/initramfs-tools/bin/busybox'];

/** A static executable has no PT_INTERP program header (no dynamic loader to find). */
export function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const h = Buffer.alloc(64);
    readSync(fd, h, 0, 64, 0);
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false; // ELF, 64-bit
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false; // PT_INTERP
    return true;
  } finally {
    closeSync(fd);
  }
}

/** The host's static busybox (Debian's busybox-static), or undefined. */
export function findStaticBusybox(): string | undefined {
  for (const p of CANDIDATES) {
    try {
      if (existsSync(p) && isStaticElf(p)) return p;
    } catch {
      // unreadable: try the next one
    }
  }
  return undefined;
}

export function requireStaticBusybox(): string {
  const bb = findStaticBusybox();
  if (!bb) {
    throw new LabError(
      'no static busybox on this machine (looked at ' + CANDIDATES.join(', ') + ')',
      'install it: apt-get install -y busybox-static (a dynamically linked busybox cannot run in a rootfs without its libraries)',
    );
  }
  return bb;
}

export function busyboxApplets(busybox: string): string[] {
  const r = spawnSync(busybox, ['--list'], { encoding: 'utf8' });
  if (r.status !== 0) throw new LabError(`${busybox} --list failed: ${r.stderr || r.error?.message}`);
  return r.stdout.split('\n').map((s) => s.trim()).filter((s) => /^[\w.[\]-]+$/.test(s) && s !== 'busybox');
}

/**
 * Make `dir` a root filesystem: bin/busybox with a symlink per applet, the directories a
 * container expects (etc, tmp with the sticky bit, proc, sys, dev, root), and a passwd and group
 * that know root and nobody.
 */
export function makeBusyboxRootfs(dir: string): string {
  const busybox = requireStaticBusybox();
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of busyboxApplets(busybox)) {
    const link = join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  for (const d of ['etc', 'proc', 'sys', 'dev', 'root', 'tmp', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(join(dir, 'root'), 0o700);
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  return dir;
}
