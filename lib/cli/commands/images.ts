import { Command } from 'commander';
import type { Context } from '../context.js';
import { EngineError } from '../../engine/errors.js';
import { listImages, type ImageRecord } from '../../engine/image/store.js';
import { formatTable, humanAgo, humanSize } from '../table.js';

interface Options {
  quiet?: boolean;
  trunc: boolean;
  format?: string;
}

/** One row of `docker images`: an image appears once per tag, or once as <none>. */
interface Row {
  repository: string;
  tag: string;
  image: ImageRecord;
}

export function build(ctx: Context): Command {
  return new Command('images')
    .description('List images')
    .argument('[REPOSITORY[:TAG]]', 'show only images with this name (wildcards * and ? allowed)')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <format>', "Format output: 'table' (default) or 'json' (one object per line)")
    .action((reference: string | undefined, opts: Options) => {
      const format = opts.format ?? 'table';
      if (format !== 'table' && format !== 'json') {
        throw new EngineError('invalid_format', `unsupported --format ${JSON.stringify(format)}`, { exitCode: 125, hint: "use --format json or --format table" });
      }
      const rows = listImages(ctx.paths, { reference }).flatMap(rowsOf);
      const id = (img: ImageRecord) => (opts.trunc ? img.id.slice(7, 19) : img.id);
      if (opts.quiet) {
        for (const r of rows) ctx.out(id(r.image));
      } else if (format === 'json') {
        for (const r of rows) ctx.out(JSON.stringify(jsonRow(r, id(r.image))));
      } else {
        const table = formatTable(
          ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
          rows.map((r) => [r.repository, r.tag, id(r.image), createdAgo(r.image), humanSize(r.image.size)]),
        );
        for (const line of table) ctx.out(line);
      }
    });
}

function rowsOf(image: ImageRecord): Row[] {
  if (image.repoTags.length === 0) return [{ repository: '<none>', tag: '<none>', image }];
  return [...image.repoTags].sort().map((t) => {
    const colon = t.lastIndexOf(':');
    return { repository: t.slice(0, colon), tag: t.slice(colon + 1), image };
  });
}

function createdAgo(image: ImageRecord): string {
  const d = new Date(image.created);
  return Number.isNaN(d.getTime()) ? 'N/A' : humanAgo(d);
}

/** The fields of `docker images --format json`; engine-wide counters docker fills are N/A here. */
function jsonRow(r: Row, id: string) {
  const d = new Date(r.image.created);
  const valid = !Number.isNaN(d.getTime());
  return {
    Containers: 'N/A',
    CreatedAt: valid ? d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC') : '',
    CreatedSince: createdAgo(r.image),
    Digest: '<none>',
    ID: id,
    Repository: r.repository,
    SharedSize: 'N/A',
    Size: humanSize(r.image.size),
    Tag: r.tag,
    UniqueSize: 'N/A',
    VirtualSize: humanSize(r.image.size),
  };
}
