import { Command } from 'commander';
import type { Context } from '../context.js';
import { tagImage } from '../../engine/image/store.js';

export function build(ctx: Context): Command {
  return new Command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<SOURCE_IMAGE[:TAG]>', 'image name or ID')
    .argument('<TARGET_IMAGE[:TAG]>', 'new name')
    .action(async (source: string, target: string) => {
      await tagImage(ctx.paths, source, target);
    });
}
