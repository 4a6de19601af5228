import { Command } from 'commander';
import type { Context } from '../context.js';
import { formatTable } from '../table.js';
import { findContainer } from '../../engine/container/lookup.js';
import { containerProcesses } from '../../engine/container/top.js';

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
      const rows = containerProcesses(ctx.paths, findContainer(ctx.paths, ref));
      const table = formatTable(['UID', 'PID', 'PPID', 'CONTAINER PID', 'STAT', 'TIME', 'CMD'],
        rows.map((r) => [String(r.uid), String(r.pid), String(r.ppid), String(r.containerPid), r.state, cpuTime(r.cpuSeconds), r.cmd]));
      for (const line of table) ctx.out(line);
    });
}
