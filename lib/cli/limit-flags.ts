// docker's resource flags, shared by run, create and update.
import type { Command } from 'commander';
import type { LimitFlags } from '../engine/cgroups/limits.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addLimitFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'Memory limit (e.g. 64m)')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--oom-kill-disable', 'Disable OOM Killer (cgroup v1)')
    .option('--cpus <number>', 'Number of CPUs (e.g. 0.5)')
    .option('-c, --cpu-shares <int>', 'CPU shares (relative weight)')
    .option('--cpu-period <int>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <int>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <int>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--blkio-weight <int>', 'Block IO (relative weight), between 10 and 1000')
    .option('--device-read-bps <path:rate>', 'Limit read rate (bytes per second) from a device', collect)
    .option('--device-write-bps <path:rate>', 'Limit write rate (bytes per second) to a device', collect)
    .option('--device-read-iops <path:rate>', 'Limit read rate (IO per second) from a device', collect)
    .option('--device-write-iops <path:rate>', 'Limit write rate (IO per second) to a device', collect);
}

/** The limit flags commander parsed, under the names parseLimits takes. */
export function limitFlags(o: Record<string, unknown>): LimitFlags {
  const keys = ['memory', 'memorySwap', 'memoryReservation', 'oomKillDisable', 'cpus', 'cpuShares', 'cpuPeriod', 'cpuQuota',
    'cpusetCpus', 'pidsLimit', 'blkioWeight', 'deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out as LimitFlags;
}
