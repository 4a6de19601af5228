import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';

export function build(ctx: Context): Command {
  return new Command('wait')
    .description('Block until one or more containers stop, then print their exit codes')
    .usage('CONTAINER [CONTAINER...]')
    .argument('<containers...>')
    .action(async (refs: string[]) => {
      const { waitContainer } = await import('../../engine/container/lifecycle.js');
      await forEachContainer(ctx, refs, async (id) => {
        const s = await waitContainer(ctx.paths, id);
        ctx.out(String(s.exitCode));
      });
    });
}
