import { Command } from 'commander';
import type { Context } from '../context.js';
import { commandColumn } from '../containers.js';
import { formatTable, humanAgo, humanDuration } from '../table.js';
import { renderTemplate } from '../template.js';
import { EngineError } from '../../engine/errors.js';
import { listContainerIds, readConfig, type ContainerState } from '../../engine/container/store.js';
import { currentState } from '../../engine/container/status.js';
import type { ContainerConfig } from '../../engine/container/config.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** docker's STATUS column. */
export function statusColumn(s: ContainerState, now = new Date()): string {
  const ago = (t?: string) => (t ? humanAgo(new Date(t), now) : '');
  switch (s.status) {
    case 'created': return 'Created';
    case 'running': return `Up ${humanDuration((now.getTime() - Date.parse(s.startedAt!)) / 1000)}`;
    case 'paused': return `Up ${humanDuration((now.getTime() - Date.parse(s.startedAt!)) / 1000)} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode}) ${ago(s.finishedAt)}`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    default: return `Exited (${s.exitCode}) ${ago(s.finishedAt)}`;
  }
}

interface Row {
  config: ContainerConfig;
  state: ContainerState;
}

function matches(row: Row, filters: string[]): boolean {
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const [key, value] = [f.slice(0, eq), f.slice(eq + 1)];
    switch (key) {
      case 'status': return row.state.status === value;
      case 'name': return new RegExp(value).test(row.config.name);
      case 'id': return row.config.id.startsWith(value);
      default: throw new EngineError('bad_filter', `invalid filter '${key}'`, { hint: 'filters: status=, name=, id=' });
    }
  });
}

export function build(ctx: Context): Command {
  return new Command('ps')
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-q, --quiet', 'Only display container IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided (status=, name=, id=)', collect, [])
    .option('--format <format>', "Format output: 'json', or a Go template like '{{.ID}} {{.Names}}'")
    .action((o) => {
      for (const f of o.filter as string[]) if (!f.includes('=')) throw new EngineError('bad_filter', `bad format of filter (expected name=value): ${f}`);
      const now = new Date();
      const rows: Row[] = [];
      for (const id of listContainerIds(ctx.paths)) {
        try {
          rows.push({ config: readConfig(ctx.paths, id), state: currentState(ctx.paths, id) });
        } catch {
          // being created or removed right now
        }
      }
      const shown = rows
        .filter((r) => o.all || (o.filter as string[]).some((f) => f.startsWith('status=')) || r.state.status === 'running' || r.state.status === 'paused' || r.state.status === 'restarting')
        .filter((r) => matches(r, o.filter))
        .sort((a, b) => b.config.created.localeCompare(a.config.created));
      const trunc = o.trunc !== false;
      const id = (r: Row) => (trunc ? r.config.id.slice(0, 12) : r.config.id);
      if (o.quiet) {
        for (const r of shown) ctx.out(id(r));
        return;
      }
      const view = (r: Row) => ({
        ID: id(r),
        Image: r.config.image,
        Command: commandColumn([...r.config.entrypoint, ...r.config.cmd], !trunc),
        CreatedAt: r.config.created,
        RunningFor: humanAgo(new Date(r.config.created), now),
        Ports: '',
        State: r.state.status,
        Status: statusColumn(r.state, now),
        Names: r.config.name,
      });
      if (o.format === 'json') {
        for (const r of shown) ctx.out(JSON.stringify(view(r)));
        return;
      }
      if (o.format) {
        for (const r of shown) ctx.out(renderTemplate(o.format, view(r)));
        return;
      }
      const table = formatTable(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        shown.map((r) => {
          const v = view(r);
          return [v.ID, v.Image, v.Command, v.RunningFor, v.Status, v.Ports, v.Names];
        }),
      );
      for (const line of table) ctx.out(line);
    });
}
