import { Command } from 'commander';
import { exitHook, type Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';
import { timeoutOption } from './stop.js';

export function build(ctx: Context): Command {
  return new Command('restart')
    .description('Restart one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-t, --time <seconds>', 'Seconds to wait before killing the container', timeoutOption, 10)
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('restart');
      const { restartContainer } = await import('../../engine/container/lifecycle.js');
      await forEachContainer(ctx, refs, async (id, ref) => {
        await restartContainer(ctx.paths, id, o.time, exitHook(ctx));
        ctx.out(ref);
      });
    });
}
