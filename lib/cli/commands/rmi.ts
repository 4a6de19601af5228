import { Command } from 'commander';
import type { Context } from '../context.js';
import { isEngineError } from '../../engine/errors.js';
import { removeImage } from '../../engine/image/store.js';

export function build(ctx: Context): Command {
  return new Command('rmi')
    .description('Remove one or more images')
    .argument('<IMAGE...>', 'image names or IDs')
    .option('-f, --force', 'Force removal of the image')
    .action(async (images: string[], opts: { force?: boolean }) => {
      // Like docker: report each failure and go on with the other images.
      for (const name of images) {
        try {
          for (const event of await removeImage(ctx.paths, name, opts.force ?? false)) {
            ctx.out('untagged' in event ? `Untagged: ${event.untagged}` : `Deleted: ${event.deleted}`);
          }
        } catch (e) {
          if (!isEngineError(e)) throw e;
          ctx.err(`mini-docker: ${e.message}`);
          if (e.hint) ctx.err(`  hint: ${e.hint}`);
          process.exitCode = e.exitCode;
        }
      }
    });
}
