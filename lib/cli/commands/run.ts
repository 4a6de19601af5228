import { Command, Option } from 'commander';
import { isatty } from 'node:tty';
import { exitHook, type Context } from '../context.js';
import { addLimitFlags, limitFlags } from '../limit-flags.js';
import { EngineError } from '../../engine/errors.js';
import { geteuid } from '../../../native/libc.js';
import { parseIdMapping } from '../../engine/namespaces/idmap.js';
import type { RunRequest } from '../../engine/container/config.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function requireRoot(command: string): void {
  if (geteuid() !== 0) {
    throw new EngineError('not_root', `${command} must run as root: it creates namespaces, mounts and cgroups`, {
      hint: `run it with sudo (sudo mini-docker ${command} ...)`,
    });
  }
}

export function build(ctx: Context, mode: 'run' | 'create' = 'run'): Command {
  return addLimitFlags(new Command(mode))
    .description(mode === 'run' ? 'Create and run a new container from an image (or from a root directory with --rootfs)' : 'Create a new container (start it with mini-docker start)')
    .usage(`[OPTIONS] IMAGE [COMMAND] [ARG...]\n       mini-docker ${mode} [OPTIONS] --rootfs DIR COMMAND [ARG...]`)
    .helpOption('--help', 'Print usage')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('--restart <policy>', 'Restart policy: no, always, unless-stopped, on-failure[:max-retries]')
    .option('-i, --interactive', 'Keep STDIN open')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--name <name>', 'Assign a name to the container')
    .option('-h, --hostname <name>', 'Container host name')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <cmd>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--uidmap <C:H:N>', 'User namespace: map container uids C.. to host uids H.. (N of them)', collect)
    .option('--gidmap <C:H:N>', 'User namespace: map container gids (default: as --uidmap)', collect)
    .option('--network <mode>', 'Network mode: none (own namespace, loopback only) or host')
    .addOption(new Option('--net <mode>').hideHelp())
    .addOption(new Option('--pid <mode>', 'PID namespace to use ("host" shares the host\'s)'))
    .addOption(new Option('--uts <mode>', 'UTS namespace to use ("host" shares the host\'s)'))
    .addOption(new Option('--ipc <mode>', 'IPC namespace to use ("host" shares the host\'s)'))
    .option('--rootfs <dir>', 'Use DIR as the root filesystem instead of an image')
    .option('--chroot', "chroot instead of pivot_root, in the engine's own copy of the host's mounts: the host's files stay reachable (lesson 2; escapable)")
    .option('--cgroup-parent <name>', 'Parent cgroup for the container (default mini-docker)')
    .argument('[args...]')
    .passThroughOptions()
    .action(async (args: string[], o) => {
      requireRoot(mode);
      if (o.interactive && o.tty && !isatty(0)) {
        throw new EngineError('not_a_tty', 'the input device is not a TTY', { hint: 'drop -t, or run from a terminal' });
      }
      const req: RunRequest = {
        rootfs: o.rootfs,
        image: o.rootfs ? undefined : args[0],
        cmd: o.rootfs ? args : args.slice(1),
        chroot: !!o.chroot,
        name: o.name,
        hostname: o.hostname,
        env: o.env,
        envFiles: o.envFile,
        workdir: o.workdir,
        user: o.user,
        entrypoint: o.entrypoint,
        uidMap: (o.uidmap ?? []).map((s: string) => parseIdMapping(s, '--uidmap')),
        gidMap: (o.gidmap ?? []).map((s: string) => parseIdMapping(s, '--gidmap')),
        network: o.network ?? o.net,
        pid: o.pid,
        uts: o.uts,
        ipc: o.ipc,
        tty: !!o.tty,
        interactive: !!o.interactive,
        autoRemove: !!o.rm,
        detach: !!o.detach,
        restart: o.restart,
        cgroupParent: o.cgroupParent,
      };
      const flags = limitFlags(o);
      if (Object.keys(flags).length) {
        const { parseLimits } = await import('../../engine/cgroups/limits.js');
        const { limits, warnings } = parseLimits(flags);
        for (const w of warnings) ctx.err(`WARNING: ${w}`);
        req.limits = limits;
      }
      if (!req.image && !req.rootfs) {
        throw new EngineError('usage', '"run" requires at least 1 argument.', { hint: "See 'mini-docker run --help'." });
      }
      if (mode === 'create') {
        const { createContainer } = await import('../../engine/container/create.js');
        ctx.out((await createContainer(ctx.paths, req)).id);
        return;
      }
      const { runContainer } = await import('../../engine/container/run.js');
      // The terminal sends SIGINT/SIGQUIT to the whole foreground group, the shim included, and
      // the shim forwards them; other signals sent to the CLI alone are passed on to the shim.
      if (!req.detach) {
        process.on('SIGINT', () => {});
        process.on('SIGQUIT', () => {});
      }
      const { id, exitCode } = await runContainer(ctx.paths, req, {
        exitHook: exitHook(ctx),
        onStarted(handle) {
          if (req.detach) return;
          for (const sig of ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) process.on(sig, () => handle.shim.kill(sig));
        },
      });
      if (req.detach) ctx.out(id);
      const code = exitCode ?? 0;
      process.exitCode = code;
    });
}
