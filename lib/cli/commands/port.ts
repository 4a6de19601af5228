import { Command } from 'commander';
import type { Context } from '../context.js';
import { findContainer } from '../../engine/container/lookup.js';
import { readConfig } from '../../engine/container/store.js';

/** Port mappings come with the networking lessons; until then a container publishes none. */
export function build(ctx: Context): Command {
  return new Command('port')
    .description('List port mappings of a container')
    .usage('CONTAINER [PRIVATE_PORT[/PROTO]]')
    .argument('<container>')
    .argument('[port]')
    .action((ref: string) => {
      const config = readConfig(ctx.paths, findContainer(ctx.paths, ref)) as { ports?: { container: string; host: string }[] };
      for (const p of config.ports ?? []) ctx.out(`${p.container} -> ${p.host}`);
    });
}
