// The lab's temporary directories: made with a recognisable name (container-lab-...), removed
// with what is mounted in them unmounted first, so that removing one can never reach through a
// bind mount into the host's files.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { labTmpBase, TMP_PREFIX } from './paths.js';

export function makeLabDir(label: string, base = labTmpBase()): string {
  const dir = mkdtempSync(join(base, `${TMP_PREFIX}${label}-`));
  // Traversable by everyone: a container's root in a user namespace (uid 100000 on the host)
  // must reach the rootfs inside it.
  chmodSync(dir, 0o755);
  return dir;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this mount namespace, from /proc/self/mountinfo. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountPath(l.split(' ')[4]!));
}

export function mountsUnder(dir: string): string[] {
  const d = dir.replace(/\/+$/, '');
  return mountPoints().filter((m) => m === d || m.startsWith(d + '/'));
}

/** Unmount (lazily, deepest first) everything mounted at or under dir. Returns what is left. */
export function unmountUnder(dir: string): string[] {
  for (let round = 0; round < 5; round++) {
    const ms = mountsUnder(dir).sort((a, b) => b.length - a.length);
    if (!ms.length) return [];
    for (const m of ms) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  }
  return mountsUnder(dir);
}

/** Remove a lab directory: refuse while anything is still mounted in it. */
export function removeLabDir(dir: string): void {
  if (!existsSync(dir)) return;
  const left = unmountUnder(dir);
  if (left.length) throw new Error(`${dir} still has mounts (${left.join(', ')}): not removing it; unmount them and run container-lab reset`);
  rmSync(dir, { recursive: true, force: true });
}
