import { Command } from 'commander';
import { isatty } from 'node:tty';
import type { Context } from '../context.js';
import { EngineError } from '../../engine/errors.js';
import { findContainer } from '../../engine/container/lookup.js';
import { requireRoot } from './run.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function build(ctx: Context): Command {
  return new Command('exec')
    .description('Execute a command in a running container (joins all its namespaces)')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .option('-i, --interactive', 'Keep STDIN open')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect)
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .argument('<container>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (ref: string, cmd: string[], o) => {
      requireRoot('exec');
      if (cmd.length === 0) throw new EngineError('usage', '"exec" requires at least 2 arguments.', { hint: "See 'mini-docker exec --help'." });
      if (o.interactive && o.tty && !isatty(0)) throw new EngineError('not_a_tty', 'the input device is not a TTY');
      const { execInContainer } = await import('../../engine/container/exec.js');
      const id = findContainer(ctx.paths, ref);
      process.on('SIGINT', () => {});
      process.on('SIGQUIT', () => {});
      process.exitCode = await execInContainer(ctx.paths, id, { cmd, env: o.env, workdir: o.workdir, user: o.user, tty: !!o.tty, interactive: !!o.interactive }, {
        onStarted(h) {
          for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.on(sig, () => h.shim.kill(sig));
        },
      });
    });
}
