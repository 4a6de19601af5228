// /proc/PID/mountinfo, read from the host: the mount table of PID's mount namespace, as PID sees
// it (proc(5)). Lines look like
//   149 123 0:49 / / rw,relatime - overlay overlay rw,lowerdir=...,upperdir=...,workdir=...
//   id parent major:minor root mount-point options [optional fields...] - fstype source super-options
import { readFileSync } from 'node:fs';

export interface MountEntry {
  /** The directory of the filesystem that is mounted: "/" for a whole filesystem, a path for a bind mount of part of one. */
  root: string;
  mountPoint: string;
  fstype: string;
  source: string;
  /** The filesystem's own options, e.g. overlay's lowerdir=, upperdir=, workdir=. */
  superOptions: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (f.length < 10 || dash < 0) continue;
    out.push({ root: unescape(f[3]!), mountPoint: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!), superOptions: f.slice(dash + 3).join(' ') });
  }
  return out;
}

export function mountsOf(pid: number | 'self'): MountEntry[] | undefined {
  try {
    return parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** What PID sees as "/": the last mount on "/" in its table (later mounts hide earlier ones). */
export function rootMountOf(pid: number): MountEntry | undefined {
  return mountsOf(pid)?.filter((m) => m.mountPoint === '/').pop();
}

/**
 * One of a mount's super options: superOption(m, 'upperdir'). Overlay escapes a comma in a path as
 * "\,"; a value is read up to the next unescaped comma.
 */
export function superOption(m: MountEntry, key: string): string | undefined {
  const opts = m.superOptions.split(/(?<!\\),/);
  const hit = opts.find((o) => o === key || o.startsWith(`${key}=`));
  if (hit === undefined) return undefined;
  return unescape(hit.slice(key.length + 1)).replace(/\\,/g, ',');
}

/**
 * overlay's lower layers, topmost first: lowerdir=top:...:bottom (a colon in a path escaped as
 * "\:"), or one lowerdir+=DIR per layer from kernels that mounted them one by one (6.7+).
 */
export function lowerDirs(m: MountEntry): string[] {
  const joined = superOption(m, 'lowerdir');
  if (joined !== undefined) return joined.split(/(?<!\\):/).filter(Boolean).map((p) => p.replace(/\\:/g, ':'));
  return m.superOptions.split(/(?<!\\),/).filter((o) => o.startsWith('lowerdir+=')).map((o) => unescape(o.slice('lowerdir+='.length)).replace(/\\,/g, ','));
}
