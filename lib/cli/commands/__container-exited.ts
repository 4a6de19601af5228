import { Command } from 'commander';
import { exitHook, type Context } from '../context.js';

/** Internal: what a container's monitor runs after the container exited (see start.ts). */
export function build(ctx: Context): Command {
  return new Command('__container-exited')
    .argument('<id>')
    .action(async (id: string) => {
      const { handleExit } = await import('../../engine/container/lifecycle.js');
      await handleExit(ctx.paths, id, exitHook(ctx));
    });
}
