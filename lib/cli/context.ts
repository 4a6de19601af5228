import { join } from 'node:path';
import { installRoot, layout, resolveRoot, type Layout } from '../engine/paths.js';

/** What every command gets: where the state lives and how to talk to the person. */
export interface Context {
  root: string;
  paths: Layout;
  debug: boolean;
  out(line: string): void;
  err(line: string): void;
}

export function makeContext(rootFlag: string | undefined, debug: boolean): Context {
  const root = resolveRoot(rootFlag);
  return {
    root,
    paths: layout(root),
    debug,
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
  };
}

/** The command a container's monitor runs when the container exits (restart policies, --rm). */
export function exitHook(ctx: Context): string[] {
  return [join(installRoot(), 'bin/mini-docker'), '--root', ctx.root, '__container-exited'];
}
