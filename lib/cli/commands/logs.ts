import { Command } from 'commander';
import type { Context } from '../context.js';
import { EngineError } from '../../engine/errors.js';
import { findContainer } from '../../engine/container/lookup.js';

export function build(ctx: Context): Command {
  return new Command('logs')
    .description('Fetch the logs of a container (what it wrote while detached)')
    .usage('[OPTIONS] CONTAINER')
    .option('-f, --follow', 'Follow log output')
    .option('-t, --timestamps', 'Show timestamps')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs ("all" for everything)', 'all')
    .option('--since <time>', 'Show logs since a timestamp (2024-01-02T13:23:37Z) or relative (e.g. 42m)')
    .option('--until <time>', 'Show logs before a timestamp or relative time')
    .argument('<container>')
    .action(async (ref: string, o) => {
      const { readLogs, parseSince } = await import('../../engine/container/logs.js');
      if (o.tail !== 'all' && !/^\d+$/.test(o.tail)) throw new EngineError('bad_tail', `invalid value for "tail": ${o.tail}`, { hint: 'a number of lines, or "all"' });
      const id = findContainer(ctx.paths, ref);
      await readLogs(ctx.paths, id, {
        follow: !!o.follow,
        tail: o.tail === 'all' ? undefined : Number(o.tail),
        since: o.since ? parseSince(o.since) : undefined,
        until: o.until ? parseSince(o.until) : undefined,
      }, (r) => {
        const line = o.timestamps ? `${r.time} ${r.log}` : r.log;
        (r.stream === 'stderr' ? process.stderr : process.stdout).write(line);
      });
    });
}
