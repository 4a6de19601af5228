import type { Command } from 'commander';
import type { Context } from '../context.js';
import { build as buildPause } from './pause.js';

export function build(ctx: Context): Command {
  return buildPause(ctx, 'unpause');
}
