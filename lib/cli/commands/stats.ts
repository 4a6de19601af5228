import { Command } from 'commander';
import type { Context } from '../context.js';
import { formatTable, humanSize } from '../table.js';
import { renderTemplate } from '../template.js';
import { findContainer } from '../../engine/container/lookup.js';
import type { ContainerStats } from '../../engine/container/resources.js';

/** docker's binary sizes for memory: 1.5MiB, 2GiB. */
function binarySize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) v /= 1024, i++;
  return `${Number(v.toFixed(i === 0 ? 0 : 2))}${units[i]}`;
}

function view(s: ContainerStats) {
  return {
    ID: s.id.slice(0, 12),
    Container: s.id.slice(0, 12),
    Name: s.name,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    MemUsage: `${binarySize(s.memUsage)} / ${binarySize(s.memLimit)}`,
    MemPerc: `${s.memPercent.toFixed(2)}%`,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    PIDs: String(s.pids),
  };
}

export function build(ctx: Context): Command {
  return new Command('stats')
    .description("Display a live stream of containers' resource usage (read from their cgroups)")
    .usage('[OPTIONS] [CONTAINER...]')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <format>', "'json' or a Go template such as '{{.CPUPerc}} {{.MemUsage}}'")
    .argument('[containers...]')
    .action(async (refs: string[], o) => {
      const { containerStats } = await import('../../engine/container/resources.js');
      const { listContainerIds } = await import('../../engine/container/store.js');
      const { currentState, isRunning } = await import('../../engine/container/status.js');
      const ids = refs.length ? refs.map((r) => findContainer(ctx.paths, r)) : listContainerIds(ctx.paths).filter((id) => isRunning(currentState(ctx.paths, id)));
      const render = (rows: ContainerStats[]): string[] => {
        if (o.format === 'json') return rows.map((r) => JSON.stringify(view(r)));
        if (o.format) return rows.map((r) => renderTemplate(o.format, view(r)));
        return formatTable(['CONTAINER ID', 'NAME', 'CPU %', 'MEM USAGE / LIMIT', 'MEM %', 'NET I/O', 'BLOCK I/O', 'PIDS'],
          rows.map((r) => {
            const v = view(r);
            return [v.ID, v.Name, v.CPUPerc, v.MemUsage, v.MemPerc, v.NetIO, v.BlockIO, v.PIDs];
          }));
      };
      if (o.stream === false) {
        for (const line of render(await containerStats(ctx.paths, ids))) ctx.out(line);
        return;
      }
      for (;;) {
        const alive = ids.filter((id) => isRunning(currentState(ctx.paths, id)));
        const lines = render(alive.length ? await containerStats(ctx.paths, alive, 1000) : []);
        process.stdout.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
        if (!alive.length) return;
      }
    });
}
