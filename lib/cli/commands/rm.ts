import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';

export function build(ctx: Context): Command {
  return new Command('rm')
    .description('Remove one or more containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('rm');
      const { removeContainer } = await import('../../engine/container/lifecycle.js');
      await forEachContainer(ctx, refs, async (id, ref) => {
        await removeContainer(ctx.paths, id, { force: !!o.force });
        ctx.out(ref);
      });
    });
}
