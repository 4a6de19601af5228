import { readlinkSync } from 'node:fs';
import { CLONE } from '../../../native/libc.js';

/** The namespaces a container can have, by the names /proc/PID/ns uses. */
export type NamespaceKind = 'pid' | 'mnt' | 'uts' | 'ipc' | 'net' | 'user' | 'cgroup';

export const NAMESPACE_FLAGS: Record<NamespaceKind, number> = {
  pid: CLONE.NEWPID,
  mnt: CLONE.NEWNS,
  uts: CLONE.NEWUTS,
  ipc: CLONE.NEWIPC,
  net: CLONE.NEWNET,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
};

/** The clone(2) flags that create these namespaces. */
export function cloneFlagsFor(kinds: Iterable<NamespaceKind>): number {
  let flags = 0;
  for (const k of kinds) flags |= NAMESPACE_FLAGS[k];
  return flags;
}

/**
 * What /proc/PID/ns/* says: each link reads like "pid:[4026532291]"; two processes are in the
 * same namespace exactly when the inode numbers match.
 */
export function namespaceInodes(pid: number | 'self'): Partial<Record<NamespaceKind, string>> {
  const out: Partial<Record<NamespaceKind, string>> = {};
  for (const k of Object.keys(NAMESPACE_FLAGS) as NamespaceKind[]) {
    try {
      out[k] = readlinkSync(`/proc/${pid}/ns/${k}`);
    } catch {
      // a process that already exited, or a kernel without this namespace
    }
  }
  return out;
}
