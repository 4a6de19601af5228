import { Command } from 'commander';
import type { Context } from '../context.js';
import { humanSize } from '../table.js';
import { requireRoot } from './run.js';

/** `container prune`; the other `container X` forms are aliases handled by main. */
export function build(ctx: Context): Command {
  const cmd = new Command('container').description('Manage containers');
  cmd
    .command('prune')
    .description('Remove all stopped containers')
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async () => {
      requireRoot('container prune');
      const { pruneContainers } = await import('../../engine/container/lifecycle.js');
      const { removed, bytes } = await pruneContainers(ctx.paths);
      if (removed.length) ctx.out(['Deleted Containers:', ...removed, ''].join('\n'));
      ctx.out(`Total reclaimed space: ${humanSize(bytes)}`);
    });
  return cmd;
}
