import { Command } from 'commander';
import type { Context } from '../context.js';
import { forEachContainer } from '../containers.js';
import { requireRoot } from './run.js';
import { EngineError } from '../../engine/errors.js';

export function timeoutOption(v: string): number {
  if (!/^-?\d+$/.test(v)) throw new EngineError('bad_timeout', `invalid argument "${v}" for "-t, --time" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

export function build(ctx: Context): Command {
  return new Command('stop')
    .description("Stop one or more running containers (the image's stop signal, then SIGKILL)")
    .usage('[OPTIONS] CONTAINER [CONTAINER...]')
    .option('-t, --time <seconds>', 'Seconds to wait before killing the container', timeoutOption, 10)
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .argument('<containers...>')
    .action(async (refs: string[], o) => {
      requireRoot('stop');
      const { stopContainer } = await import('../../engine/container/lifecycle.js');
      await Promise.all(refs.map((ref) => forEachContainer(ctx, [ref], async (id) => {
        await stopContainer(ctx.paths, id, o.time < 0 ? 3600 * 24 : o.time, o.signal);
        ctx.out(ref);
      })));
    });
}
