// mini-docker's entry point. Kept lean: it reads global flags by hand and imports only the one
// command module asked for, so `mini-docker run` does not pay for `build` or `images`.
import type { Command } from 'commander';
import { makeContext, type Context } from './context.js';
import { EngineError, messageOf } from '../engine/errors.js';
import { setExplainSink } from '../engine/log.js';

/** name -> [module under ./commands, one-line description]. */
const COMMANDS: Record<string, [string, string]> = {
  run: ['run', 'Create and run a new container from an image or a root directory'],
  create: ['create', 'Create a new container'],
  start: ['start', 'Start one or more stopped containers'],
  ps: ['ps', 'List containers'],
  logs: ['logs', 'Fetch the logs of a container'],
  exec: ['exec', 'Execute a command in a running container'],
  stop: ['stop', 'Stop one or more running containers'],
  kill: ['kill', 'Kill one or more running containers'],
  restart: ['restart', 'Restart one or more containers'],
  rm: ['rm', 'Remove one or more containers'],
  wait: ['wait', 'Block until one or more containers stop, then print their exit codes'],
  top: ['top', 'Display the running processes of a container'],
  stats: ['stats', "Display a live stream of containers' resource usage"],
  update: ['update', 'Update the resource limits of one or more containers'],
  pause: ['pause', 'Pause all processes within one or more containers'],
  unpause: ['unpause', 'Unpause all processes within one or more containers'],
  inspect: ['inspect', 'Return low-level information on containers or images'],
  rename: ['rename', 'Rename a container'],
  port: ['port', 'List port mappings of a container'],
  cp: ['cp', 'Copy files/folders between a container and the local filesystem'],
  diff: ['diff', "Inspect changes to files or directories on a container's filesystem"],
  container: ['container', 'Manage containers (container prune)'],
  images: ['images', 'List images'],
  load: ['load', 'Load an image from an OCI layout directory or tar archive'],
  rmi: ['rmi', 'Remove one or more images'],
  tag: ['tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'],
};
/** Not listed in the help: the monitor's hook. */
const HIDDEN: Record<string, [string, string]> = { '__container-exited': ['__container-exited', ''] };
const ALIASES: Record<string, string> = {
  'image ls': 'images', 'image rm': 'rmi', 'image load': 'load', 'image tag': 'tag',
  'container ls': 'ps', 'container run': 'run', 'container create': 'create', 'container start': 'start',
  'container stop': 'stop', 'container kill': 'kill', 'container restart': 'restart', 'container rm': 'rm',
  'container logs': 'logs', 'container exec': 'exec', 'container inspect': 'inspect', 'container top': 'top',
  'container wait': 'wait', 'container rename': 'rename', 'container port': 'port', 'container cp': 'cp',
  'container diff': 'diff', 'container stats': 'stats', 'container update': 'update',
  'container pause': 'pause', 'container unpause': 'unpause',
};

export interface CommandModule {
  build(ctx: Context): Command;
}

const VERSION = '0.1.0';

function usage(): string {
  const names = Object.keys(COMMANDS);
  const w = Math.max(...names.map((n) => n.length)) + 2;
  return [
    'Usage:  mini-docker [OPTIONS] COMMAND',
    '',
    'A small, daemonless, docker-compatible container engine (container-lab).',
    '',
    'Global options:',
    '  --root DIR      Data root (default /var/lib/mini-docker, or $MINI_DOCKER_ROOT)',
    '  -D, --debug     Explain mode: print every kernel operation as it happens',
    '  -v, --version   Print version information and quit',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(w)}${COMMANDS[n]![1]}`),
    '',
    "Run 'mini-docker COMMAND --help' for more information on a command.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  let root: string | undefined;
  let debug = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--root') root = argv[++i];
    else if (a.startsWith('--root=')) root = a.slice(7);
    else if (a === '-D' || a === '--debug') debug = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(usage() + '\n');
      return 0;
    } else if (a === '-v' || a === '--version') {
      process.stdout.write(`mini-docker version ${VERSION}\n`);
      return 0;
    } else if (a.startsWith('-')) {
      process.stderr.write(`mini-docker: unknown flag: ${a}\nSee 'mini-docker --help'.\n`);
      return 125;
    } else break;
  }
  if (i >= argv.length) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  let name = argv[i]!;
  let rest = argv.slice(i + 1);
  const alias = ALIASES[`${name} ${rest[0] ?? ''}`];
  if (alias) {
    name = alias;
    rest = rest.slice(1);
  }
  const entry = COMMANDS[name] ?? HIDDEN[name];
  if (!entry) {
    process.stderr.write(`mini-docker: '${name}' is not a mini-docker command.\nSee 'mini-docker --help'\n`);
    return 1;
  }
  // A reader that went away (`mini-docker ... | head -1`) must not stop the engine halfway:
  // what it started is still cleaned up.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const ctx = makeContext(root, debug);
  if (debug) setExplainSink((line) => process.stderr.write(`[explain] ${line}\n`));
  const mod = (await import(`./commands/${entry[0]}.js`)) as CommandModule;
  const cmd = mod.build(ctx);
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: () => {} });
  cmd.name(name).usage(cmd.usage());
  try {
    // A command reports a non-zero status by setting process.exitCode (as `run` does with the
    // container's exit code); errors are thrown and reported once, below.
    await cmd.parseAsync(rest, { from: 'user' });
  } catch (e) {
    return reportError(e, name);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function isCommanderError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && ((e as unknown as { code: string }).code.startsWith('commander.'));
}

/** Turn anything thrown into one readable message and docker's exit code; never a stack. */
export function reportError(e: unknown, command: string): number {
  if (isCommanderError(e)) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code === 'commander.help') return 0;
    const m = /unknown option '([^']+)'/.exec(e.message);
    const msg = m ? `unknown flag: ${m[1]}` : e.message.replace(/^error: /, '');
    process.stderr.write(`mini-docker: ${msg}\nSee 'mini-docker ${command} --help'.\n`);
    return 125;
  }
  if (e instanceof EngineError) {
    process.stderr.write(`mini-docker: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    return e.exitCode;
  }
  process.stderr.write(`mini-docker: internal error: ${messageOf(e)}\n`);
  if (process.env.MINI_DOCKER_STACK) process.stderr.write(`${(e as Error)?.stack}\n`);
  return 125;
}
