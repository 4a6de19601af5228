import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { addLimitFlags, limitFlags } from '../limit-flags.js';
import { requireRoot } from './run.js';
import { EngineError } from '../../engine/errors.js';

export function build(ctx: Context): Command {
  return addLimitFlags(new Command('update'))
    .description('Update the resource limits of one or more containers (running ones at once)')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('update');
      const { parseLimits } = await import('../../engine/cgroups/limits.js');
      const flags = limitFlags(o);
      if (Object.keys(flags).length === 0) throw new EngineError('usage', 'you must provide one or more flags when using this command', { hint: 'e.g. mini-docker update -m 64m CONTAINER' });
      const { limits, warnings } = parseLimits(flags, { update: true });
      for (const w of warnings) ctx.err(`WARNING: ${w}`);
      const { updateContainer } = await import('../../engine/container/resources.js');
      await forEachContainer(ctx, refs, (id, ref) => {
        updateContainer(ctx.paths, id, limits);
        ctx.out(ref);
      });
    });
}
