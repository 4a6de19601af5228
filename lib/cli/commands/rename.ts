import { Command } from 'commander';
import type { Context } from '../context.js';
import { requireRoot } from './run.js';

export function build(ctx: Context): Command {
  return new Command('rename')
    .description('Rename a container')
    .usage('CONTAINER NEW_NAME')
    .argument('<container>')
    .argument('<newName>')
    .action(async (ref: string, newName: string) => {
      requireRoot('rename');
      const { renameContainer } = await import('../../engine/container/create.js');
      await renameContainer(ctx.paths, ref, newName);
    });
}
