import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';

export function build(ctx: Context, mode: 'pause' | 'unpause' = 'pause'): Command {
  return new Command(mode)
    .description(mode === 'pause' ? 'Pause all processes within one or more containers (the freezer)' : 'Unpause all processes within one or more containers')
    .usage('CONTAINER [CONTAINER...]')
    .argument('<containers...>')
    .action(async (refs: string[]) => {
      requireRoot(mode);
      const { pauseContainer, unpauseContainer } = await import('../../engine/container/resources.js');
      await forEachContainer(ctx, refs, async (id, ref) => {
        if (mode === 'pause') await pauseContainer(ctx.paths, id);
        else unpauseContainer(ctx.paths, id);
        ctx.out(ref);
      });
    });
}
