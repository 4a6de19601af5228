// One interface, two drivers: cgroup v1 (a hierarchy per controller) and cgroup v2 (one unified
// tree). The engine asks for "a cgroup for container X with these limits" and never needs to know
// which file of which hierarchy holds a knob.
import type { Limits } from './limits.js';

/** Counters read from the kernel, in one shape for both versions (bytes, nanoseconds). */
export interface CgroupStats {
  cpu: {
    /** CPU time used by every task of the cgroup (v1 cpuacct.usage, v2 cpu.stat usage_usec) */
    usageNs: number;
    userNs: number;
    systemNs: number;
    /** CFS bandwidth: periods elapsed, periods in which the quota ran out, time spent throttled */
    nrPeriods: number;
    nrThrottled: number;
    throttledNs: number;
  };
  memory: {
    usage: number;
    /** null: no limit */
    limit: number | null;
    /** peak usage (v1 max_usage_in_bytes, v2 memory.peak); null where the kernel keeps none */
    maxUsage: number | null;
    /** how often usage hit the limit (v1 memory.failcnt, v2 memory.events "max") */
    failcnt: number;
    /** processes killed by the OOM killer in this cgroup */
    oomKills: number;
    /** page cache the kernel can drop at once; docker's MEM USAGE is usage minus this */
    inactiveFile: number;
  };
  pids: {
    current: number;
    /** null: no limit */
    limit: number | null;
  };
  /** per block device, bytes and operations the cgroup's tasks read and wrote */
  io: IoDeviceStats[];
}

export interface IoDeviceStats {
  /** "MAJ:MIN" */
  device: string;
  major: number;
  minor: number;
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

export interface ContainerCgroup {
  readonly name: string;
  /** v1: one directory per controller hierarchy (cpu and cpuacct may share one); v2: { unified: dir } */
  readonly paths: Readonly<Record<string, string>>;
  /** Move a process (all its threads) into the cgroup: write its PID to cgroup.procs. */
  addProcess(pid: number): void;
  /** Change limits of a live cgroup; only the limits given are written. */
  update(limits: Partial<Limits>): void;
  /** Stop every task (v1 freezer.state FROZEN, v2 cgroup.freeze 1) and wait until the kernel says so. */
  freeze(): Promise<void>;
  thaw(): void;
  /** The kernel's word: every task is frozen. */
  frozen(): boolean;
  stats(): CgroupStats;
  /** Did the OOM killer kill a task of this cgroup? (v2 memory.events oom_kill, v1 memory.oom_control oom_kill) */
  oomKilled(): boolean;
  /** PIDs of the processes in the cgroup (not threads). */
  pids(): number[];
  /**
   * Signal every process and wait until the cgroup is empty; holds against a process that keeps
   * forking (v2 cgroup.kill, else freeze, kill, thaw, repeat). Default SIGKILL.
   */
  killAll(signal?: NodeJS.Signals | number, timeoutMs?: number): Promise<void>;
  /** Kill what is left, then rmdir the cgroup in every hierarchy. */
  remove(): Promise<void>;
}

export interface CgroupDriver {
  readonly version: 1 | 2;
  /** where the cgroup filesystems are mounted, default /sys/fs/cgroup */
  readonly root: string;
  /** the engine's own cgroup, under which every container's cgroup lives, default "mini-docker" */
  readonly parent: string;
  /**
   * Check limits against what this host's cgroups can enforce, before anything is created.
   * Returns docker's warnings; throws EngineError for a limit that cannot be applied.
   */
  validate(limits: Partial<Limits>): string[];
  /** Make the container's cgroup and apply the limits; nothing is left behind if it fails. */
  create(name: string, limits: Limits): ContainerCgroup;
  open(name: string): ContainerCgroup | undefined;
  /** Names of the container cgroups under the engine's parent. */
  list(): string[];
  /** rmdir the engine's parent cgroup(s) if no container cgroup is left; true if gone. */
  removeParent(): boolean;
}
