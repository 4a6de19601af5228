import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';

export function build(ctx: Context): Command {
  return new Command('kill')
    .description('Kill one or more running containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-s, --signal <signal>', 'Signal to send to the container', 'KILL')
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('kill');
      const { killContainer, parseSignal } = await import('../../engine/container/lifecycle.js');
      const signal = parseSignal(o.signal);
      await forEachContainer(ctx, refs, async (id, ref) => {
        await killContainer(ctx.paths, id, signal);
        ctx.out(ref);
      });
    });
}
