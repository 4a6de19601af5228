import { Command } from 'commander';
import type { Context } from '../context.js';
import { EngineError } from '../../engine/errors.js';
import { loadImages } from '../../engine/image/store.js';

export function build(ctx: Context): Command {
  return new Command('load')
    .description('Load an image from an OCI layout directory or a tar archive of one')
    .option('-i, --input <path>', 'Read from this OCI layout directory or tar archive (plain or gzip)')
    .option('-q, --quiet', 'Suppress the load output (accepted for docker compatibility)')
    .option('--tag <name>', 'Name the image NAME[:TAG] instead of using the name recorded in the layout')
    .action(async (opts: { input?: string; tag?: string }) => {
      if (opts.input === undefined) {
        throw new EngineError('no_input', 'requested load from stdin, but mini-docker reads images from files only', {
          exitCode: 1,
          hint: 'mini-docker load -i PATH, where PATH is an OCI layout directory or a tar of one',
        });
      }
      for (const image of await loadImages(ctx.paths, opts.input, { tag: opts.tag })) {
        if (image.repoTags.length === 0) ctx.out(`Loaded image ID: ${image.id}`);
        for (const tag of image.repoTags) ctx.out(`Loaded image: ${tag}`);
      }
    });
}
