import { Command } from 'commander';
import type { Context } from '../context.js';
import { findContainer } from '../../engine/container/lookup.js';

export function build(ctx: Context): Command {
  return new Command('diff')
    .description("Inspect changes to files or directories on a container's filesystem (A added, C changed, D deleted)")
    .usage('CONTAINER')
    .argument('<container>')
    .action(async (ref: string) => {
      const { containerChanges } = await import('../../engine/container/files.js');
      for (const c of await containerChanges(ctx.paths, findContainer(ctx.paths, ref))) ctx.out(`${c.kind} ${c.path}`);
    });
}
