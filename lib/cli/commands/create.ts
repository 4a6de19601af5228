import type { Command } from 'commander';
import type { Context } from '../context.js';
import { build as buildRun } from './run.js';

/** create: run's flags, without starting anything; prints the new container's ID. */
export function build(ctx: Context): Command {
  return buildRun(ctx, 'create');
}
