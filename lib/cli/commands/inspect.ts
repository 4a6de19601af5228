import { Command } from 'commander';
import type { Context } from '../context.js';
import { renderTemplate } from '../template.js';
import { messageOf } from '../../engine/errors.js';

export function build(ctx: Context): Command {
  return new Command('inspect')
    .description('Return low-level information on containers or images')
    .usage('[OPTIONS] NAME|ID [NAME|ID...]')
    .option('-f, --format <template>', "Format the output using a Go template, e.g. '{{.State.Pid}}'")
    .option('--type <type>', 'Only container or image')
    .argument('<names...>')
    .action(async (refs: string[], o) => {
      const { findContainer } = await import('../../engine/container/lookup.js');
      const { inspectContainer } = await import('../../engine/container/inspect.js');
      const results: unknown[] = [];
      let failed = false;
      for (const ref of refs) {
        try {
          if (o.type !== 'image') {
            try {
              const id = findContainer(ctx.paths, ref);
              results.push(await containerView(ctx, id, inspectContainer));
              continue;
            } catch (e) {
              if (o.type === 'container') throw e;
            }
          }
          const { requireImage } = await import('../../engine/image/store.js');
          const img = requireImage(ctx.paths, ref);
          results.push({ Id: img.id, RepoTags: img.repoTags, Created: img.created, Size: img.size, Config: img.config.config ?? {}, RootFS: img.config.rootfs, Architecture: img.config.architecture, Os: img.config.os });
        } catch {
          failed = true;
          ctx.err(`Error: No such object: ${ref}`);
        }
      }
      if (o.format) for (const r of results) ctx.out(renderTemplate(o.format, r));
      else ctx.out(JSON.stringify(results, null, 4));
      if (failed) process.exitCode = 1;
    });
}

async function containerView(ctx: Context, id: string, inspect: typeof import('../../engine/container/inspect.js').inspectContainer) {
  const { readConfig } = await import('../../engine/container/store.js');
  const config = readConfig(ctx.paths, id);
  let lower: string[] | undefined;
  if (!config.rootfs) {
    try {
      const { rootfsForConfig } = await import('../../engine/container/rootfs-source.js');
      lower = (await rootfsForConfig(ctx.paths, config)).lowerdirs;
    } catch (e) {
      void messageOf(e); // the image is gone: no lower dirs to show
    }
  }
  return inspect(ctx.paths, id, lower);
}
