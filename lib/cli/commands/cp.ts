import { Command } from 'commander';
import type { Context } from '../context.js';
import { EngineError } from '../../engine/errors.js';
import { findContainer } from '../../engine/container/lookup.js';
import { requireRoot } from './run.js';

/** "name:/path" -> [name, /path]; a plain path (or ./x:y) is the host's. */
function splitRef(arg: string): [string | undefined, string] {
  const m = /^([a-zA-Z0-9][a-zA-Z0-9_.-]*):(.*)$/.exec(arg);
  return m && !arg.startsWith('.') && !arg.startsWith('/') ? [m[1], m[2] || '/'] : [undefined, arg];
}

export function build(ctx: Context): Command {
  return new Command('cp')
    .description('Copy files/folders between a container and the local filesystem')
    .usage('CONTAINER:SRC_PATH DEST_PATH\n       mini-docker cp SRC_PATH CONTAINER:DEST_PATH')
    .argument('<src>')
    .argument('<dest>')
    .action(async (src: string, dest: string) => {
      requireRoot('cp');
      const [srcC, srcPath] = splitRef(src);
      const [destC, destPath] = splitRef(dest);
      if (!!srcC === !!destC) {
        throw new EngineError('usage', srcC ? 'copying between containers is not supported' : 'must specify at least one container source', {
          hint: 'mini-docker cp CONTAINER:SRC_PATH DEST_PATH, or mini-docker cp SRC_PATH CONTAINER:DEST_PATH',
        });
      }
      const files = await import('../../engine/container/files.js');
      if (srcC) await files.copyFromContainer(ctx.paths, findContainer(ctx.paths, srcC), srcPath, destPath);
      else await files.copyToContainer(ctx.paths, findContainer(ctx.paths, destC!), srcPath, destPath);
    });
}
