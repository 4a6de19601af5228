import { Command } from 'commander';
import { exitHook, type Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';

export function build(ctx: Context): Command {
  return new Command('start')
    .description('Start one or more stopped containers')
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals (runs in the foreground)')
    .option('-i, --interactive', "Attach container's STDIN")
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('start');
      const { startContainer } = await import('../../engine/container/start.js');
      if (o.attach || o.interactive) {
        const { findContainer } = await import('../../engine/container/lookup.js');
        const id = findContainer(ctx.paths, refs[0]!);
        process.on('SIGINT', () => {});
        const code = await startContainer(ctx.paths, id, {
          mode: 'foreground',
          onStarted(h) {
            for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => h.shim.kill(sig));
          },
        });
        process.exitCode = code ?? 0;
        return;
      }
      await forEachContainer(ctx, refs, async (id, ref) => {
        await startContainer(ctx.paths, id, { mode: 'detached', exitHook: exitHook(ctx) });
        ctx.out(ref);
      });
    });
}
