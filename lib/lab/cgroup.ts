// A process's cgroups as the host sees them: /proc/PID/cgroup says where the process is in each
// hierarchy, /proc/self/mountinfo where each hierarchy is mounted. Lesson 9 and its graded checks
// read the kernel's side of a limit this way, whatever engine made the cgroup (ours, a learner's,
// podman's), and in the same words on cgroup v1 and v2.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A v1 controller, or "unified": the process's place in the cgroup2 tree (the "0::" line). */
export type Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids' | 'freezer' | 'blkio' | 'cpuset' | 'unified';

export interface ProcCgroup {
  version: 1 | 2;
  /** The cgroup's path inside its hierarchy, as /proc/PID/cgroup gives it ("/mini-docker/ID"). */
  path: string;
  /** Its directory on the host. */
  dir: string;
}

interface CgroupMount {
  fstype: 'cgroup' | 'cgroup2';
  /** The hierarchy's directory that is mounted (usually "/"). */
  root: string;
  mountPoint: string;
  /** v1: the controllers bound to the hierarchy (from the super options). */
  controllers: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** The cgroup filesystems mounted in this mount namespace. */
export function cgroupMounts(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const [fstype, , opts = ''] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    out.push({ fstype, root: unescape(f[3] ?? '/'), mountPoint: unescape(f[4] ?? ''), controllers: fstype === 'cgroup' ? opts.split(',') : [] });
  }
  return out;
}

/** "hierarchy-id:controllers:path" lines of /proc/PID/cgroup. */
function procCgroupLines(pid: number | 'self'): { controllers: string[]; path: string }[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const a = l.indexOf(':');
      const b = l.indexOf(':', a + 1);
      return { controllers: l.slice(a + 1, b).split(',').filter(Boolean), path: l.slice(b + 1) };
    });
}

function under(mount: CgroupMount, path: string): string | undefined {
  if (mount.root === '/') return join(mount.mountPoint, path);
  if (path === mount.root || path.startsWith(mount.root + '/')) return join(mount.mountPoint, path.slice(mount.root.length));
  return undefined; // the cgroup is outside the part of the hierarchy mounted here
}

/**
 * Where `pid` is for `controller`: its v1 hierarchy when that controller has one (v1, or a hybrid
 * host), else the unified cgroup2 tree (a v2 host). undefined when the process is gone.
 */
export function cgroupOf(pid: number | 'self', controller: Controller, mountinfo?: string): ProcCgroup | undefined {
  const lines = procCgroupLines(pid);
  if (!lines) return undefined;
  const mounts = cgroupMounts(mountinfo);
  if (controller !== 'unified') {
    const line = lines.find((l) => l.controllers.includes(controller));
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.controllers.includes(controller));
    if (line && mount) {
      const dir = under(mount, line.path);
      return dir ? { version: 1, path: line.path, dir } : undefined;
    }
  }
  const line = lines.find((l) => l.controllers.length === 0);
  const mount = mounts.find((m) => m.fstype === 'cgroup2');
  if (!line || !mount) return undefined;
  const dir = under(mount, line.path);
  return dir ? { version: 2, path: line.path, dir } : undefined;
}

/** A file of a cgroup, trimmed; undefined when it is not there (gone, or not this version's). */
export function readCgroupFile(cg: ProcCgroup, file: string): string | undefined {
  try {
    return readFileSync(join(cg.dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** "key value" lines (memory.events, cpu.stat, pids.events, memory.oom_control) as numbers. */
export function keyed(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) m.set(k, Number(v));
  }
  return m;
}

/** v1 writes "no limit" as the largest page-aligned 63-bit number, v2 as "max". */
const V1_UNLIMITED = 2n ** 62n;

/** The memory limit in bytes; 'max' when there is none. */
export function memoryLimit(cg: ProcCgroup): number | 'max' | undefined {
  const v = readCgroupFile(cg, cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max');
  if (v === undefined) return undefined;
  if (v === 'max' || (/^\d+$/.test(v) && BigInt(v) >= V1_UNLIMITED)) return 'max';
  return Number(v);
}

/** How often the limit was hit, and how many tasks the OOM killer killed (undefined: no counter). */
export function memoryEvents(cg: ProcCgroup): { hitLimit: number; oomKills?: number } {
  if (cg.version === 2) {
    const ev = keyed(readCgroupFile(cg, 'memory.events'));
    return { hitLimit: ev.get('max') ?? 0, oomKills: ev.get('oom_kill') ?? 0 };
  }
  const oc = keyed(readCgroupFile(cg, 'memory.oom_control'));
  return { hitLimit: Number(readCgroupFile(cg, 'memory.failcnt') ?? 0), oomKills: oc.get('oom_kill') };
}

/** CPU time used by every task of the cgroup, in nanoseconds (v1 cpuacct.usage, v2 cpu.stat usage_usec). */
export function cpuUsageNs(cg: ProcCgroup): number | undefined {
  if (cg.version === 1) {
    const v = readCgroupFile(cg, 'cpuacct.usage');
    return v === undefined ? undefined : Number(v);
  }
  const us = keyed(readCgroupFile(cg, 'cpu.stat')).get('usage_usec');
  return us === undefined ? undefined : us * 1000;
}

/** CFS bandwidth: the quota per period (microseconds; 'max' for none) and the throttling counters. */
export function cpuBandwidth(cg: ProcCgroup): { quota: number | 'max'; period: number; periods: number; throttled: number } | undefined {
  let quota: number | 'max';
  let period: number;
  if (cg.version === 1) {
    const q = readCgroupFile(cg, 'cpu.cfs_quota_us');
    const p = readCgroupFile(cg, 'cpu.cfs_period_us');
    if (q === undefined || p === undefined) return undefined;
    quota = Number(q) < 0 ? 'max' : Number(q);
    period = Number(p);
  } else {
    const max = readCgroupFile(cg, 'cpu.max')?.split(/\s+/);
    if (!max) return undefined;
    quota = max[0] === 'max' ? 'max' : Number(max[0]);
    period = Number(max[1]);
  }
  const st = keyed(readCgroupFile(cg, 'cpu.stat'));
  return { quota, period, periods: st.get('nr_periods') ?? 0, throttled: st.get('nr_throttled') ?? 0 };
}

/** The kernel's word that every task is stopped: v1 freezer.state FROZEN, v2 cgroup.events "frozen 1". */
export function frozenState(cg: ProcCgroup): string | undefined {
  if (cg.version === 1) return readCgroupFile(cg, 'freezer.state');
  const f = keyed(readCgroupFile(cg, 'cgroup.events')).get('frozen');
  return f === undefined ? undefined : f === 1 ? 'FROZEN' : 'THAWED';
}

/** The pids in the cgroup (cgroup.procs). */
export function procsOf(cg: ProcCgroup): number[] {
  return (readCgroupFile(cg, 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
}
