import { Command } from 'commander';
import type { Context } from '../context.js';
import { formatTable } from '../table.js';
import { findContainer } from '../../engine/container/lookup.js';
import { containerProcesses } from '../../engine/container/top.js';
import { readConfig } from '../../engine/container/store.js';
import type { Limits } from '../../engine/cgroups/limits.js';

/** The limits the container's cgroup enforces, in docker's flag terms. */
export function limitSummary(l: Limits): string {
  const mib = (n: number) => `${Number((n / 1024 / 1024).toFixed(1))}MiB`;
  const parts: string[] = [];
  if (l.memory) parts.push(`memory=${mib(l.memory)}`);
  if (l.memorySwap) parts.push(`memory-swap=${l.memorySwap < 0 ? 'unlimited' : mib(l.memorySwap)}`);
  if (l.nanoCpus) parts.push(`cpus=${(l.nanoCpus / 1e9).toFixed(2)}`);
  if (l.cpuQuota) parts.push(`cpu-quota=${l.cpuQuota}us/${l.cpuPeriod ?? 100000}us`);
  if (l.cpuShares) parts.push(`cpu-shares=${l.cpuShares}`);
  if (l.cpusetCpus) parts.push(`cpuset-cpus=${l.cpusetCpus}`);
  if (l.pidsLimit) parts.push(`pids=${l.pidsLimit}`);
  if (l.blkioWeight) parts.push(`blkio-weight=${l.blkioWeight}`);
  for (const [name, list] of [['read-bps', l.deviceReadBps], ['write-bps', l.deviceWriteBps], ['read-iops', l.deviceReadIops], ['write-iops', l.deviceWriteIops]] as const) {
    for (const d of list ?? []) parts.push(`device-${name}=${d.path}:${d.rate}`);
  }
  return parts.join(' ');
}

function cpuTime(sec: number): string {
  const s = Math.floor(sec);
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function build(ctx: Context): Command {
  return new Command('top')
    .description("Display the running processes of a container, with host and container PIDs")
    .usage('CONTAINER')
    .argument('<container>')
    .action((ref: string) => {
      const id = findContainer(ctx.paths, ref);
      const rows = containerProcesses(ctx.paths, id);
      const table = formatTable(['UID', 'PID', 'PPID', 'CONTAINER PID', 'STAT', 'TIME', 'CMD'],
        rows.map((r) => [String(r.uid), String(r.pid), String(r.ppid), String(r.containerPid), r.state, cpuTime(r.cpuSeconds), r.cmd]));
      for (const line of table) ctx.out(line);
      const limits = limitSummary(readConfig(ctx.paths, id).limits ?? {});
      if (limits) ctx.out(`\nLimits: ${limits}`);
    });
}
