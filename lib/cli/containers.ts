// What container commands share: turning a reference into an ID, and docker's habit of going on
// through a list of containers, reporting each failure, and exiting 1 if any failed.
import type { Context } from './context.js';
import { EngineError, messageOf } from '../engine/errors.js';
import { findContainer } from '../engine/container/lookup.js';

export async function forEachContainer(ctx: Context, refs: string[], fn: (id: string, ref: string) => Promise<void> | void): Promise<void> {
  let failed = false;
  for (const ref of refs) {
    try {
      await fn(findContainer(ctx.paths, ref), ref);
    } catch (e) {
      failed = true;
      ctx.err(`Error response from daemon: ${messageOf(e)}`);
      if (e instanceof EngineError && e.hint) ctx.err(`  hint: ${e.hint}`);
    }
  }
  if (failed) process.exitCode = 1;
}

/** docker's COMMAND column: quoted, cut to 20 characters with an ellipsis. */
export function commandColumn(argv: string[], noTrunc: boolean): string {
  const cmd = argv.join(' ');
  return `"${noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`}"`;
}
