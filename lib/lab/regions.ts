// Region markers tag the parts of the engine each lesson teaches:
//   TypeScript  // #region lesson-03-pivot-root   ...   // #endregion lesson-03-pivot-root
//   C           /* #region lesson-08-clone */     ...   /* #endregion lesson-08-clone */
// The book quotes regions, and the learner's scaffold replaces them with TODO stubs.
import { readFileSync } from 'node:fs';
import { LabError } from './errors.js';

const MARKER = /^\s*(?:\/\/|\/\*)\s*#(region|endregion)\b\s*([\w.-]*)\s*(?:\*\/)?\s*$/;

export interface Region {
  name: string;
  file: string;
  /** 0-based index of the `#region` line and of the `#endregion` line. */
  start: number;
  end: number;
  /** The lines between the markers, without nested markers, joined with "\n" (no final newline). */
  text: string;
}

export function isMarker(line: string): boolean {
  return MARKER.test(line);
}

/** Every region of a source text, by name. Unbalanced or duplicated markers are errors. */
export function parseRegions(source: string, file: string): Map<string, Region> {
  const lines = source.split('\n');
  const open: { name: string; start: number }[] = [];
  const found = new Map<string, Region>();
  lines.forEach((line, i) => {
    const m = MARKER.exec(line);
    if (!m) return;
    const [, kind, name] = m;
    if (kind === 'region') {
      if (!name) throw new LabError(`${file}:${i + 1}: a #region marker needs a name`);
      open.push({ name, start: i });
      return;
    }
    const top = open.pop();
    if (!top) throw new LabError(`${file}:${i + 1}: #endregion ${name} without a #region`);
    if (name && name !== top.name) throw new LabError(`${file}:${i + 1}: #endregion ${name} closes #region ${top.name} (line ${top.start + 1})`);
    if (found.has(top.name)) throw new LabError(`${file}: region ${top.name} appears twice`);
    const body = lines.slice(top.start + 1, i).filter((l) => !isMarker(l));
    found.set(top.name, { name: top.name, file, start: top.start, end: i, text: body.join('\n') });
  });
  if (open.length) throw new LabError(`${file}:${open[0]!.start + 1}: #region ${open[0]!.name} is never closed`);
  return found;
}

export function readRegions(path: string, label = path): Map<string, Region> {
  let src: string;
  try {
    src = readFileSync(path, 'utf8');
  } catch (e) {
    throw new LabError(`cannot read ${label}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRegions(src, label);
}

/** Replace the body of region `name` in `source` (markers kept), e.g. with a stub or an answer. */
export function replaceRegion(source: string, name: string, body: string, file = 'source'): string {
  const region = parseRegions(source, file).get(name);
  if (!region) throw new LabError(`${file} has no region ${name}`);
  const lines = source.split('\n');
  const replacement = body === '' ? [] : body.replace(/\n$/, '').split('\n');
  return [...lines.slice(0, region.start + 1), ...replacement, ...lines.slice(region.end)].join('\n');
}

/** The raw body of a region, nested markers included (what replaceRegion puts back). */
export function rawRegionBody(source: string, name: string, file = 'source'): string {
  const region = parseRegions(source, file).get(name);
  if (!region) throw new LabError(`${file} has no region ${name}`);
  return source.split('\n').slice(region.start + 1, region.end).join('\n');
}
