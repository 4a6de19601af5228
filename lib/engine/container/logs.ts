// logs: the monitor's json-lines file, read back and optionally followed as it grows.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import { containerFiles } from './store.js';
import { currentState, isRunning } from './status.js';

export interface LogRecord {
  log: string;
  stream: 'stdout' | 'stderr';
  time: string;
}

export interface LogOptions {
  follow?: boolean;
  tail?: number;
  /** Only records at or after this time (ms since the epoch). */
  since?: number;
  /** Only records before this time. */
  until?: number;
}

/** docker's --since/--until: RFC 3339 date, Unix seconds, or a duration ago (10m, 1h30m, 45s). */
export function parseSince(spec: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(spec)) return Number(spec) * 1000;
  const d = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(spec);
  if (d && spec !== '') return now - ((Number(d[1] ?? 0) * 60 + Number(d[2] ?? 0)) * 60 + Number(d[3] ?? 0)) * 1000;
  const t = Date.parse(spec);
  if (!Number.isNaN(t)) return t;
  throw new EngineError('bad_time', `invalid value for "since": ${spec}`, { hint: 'use a date (2024-01-02T15:04:05Z), Unix seconds, or a duration like 10m' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Read the records of `path` from byte `from`; returns them and where the next read starts. */
function readFrom(path: string, from: number): { records: LogRecord[]; next: number } {
  if (!existsSync(path)) return { records: [], next: from };
  const size = statSync(path).size;
  if (size <= from) return { records: [], next: from };
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(size - from);
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8');
  const end = text.lastIndexOf('\n') + 1; // a line still being written waits for the next read
  const records: LogRecord[] = [];
  for (const line of text.slice(0, end).split('\n')) {
    if (!line) continue;
    try {
      records.push(JSON.parse(line) as LogRecord);
    } catch {
      // a damaged line: skip it rather than stop the whole log
    }
  }
  return { records, next: from + Buffer.byteLength(text.slice(0, end)) };
}

/** Every record (tail/since applied), then with `follow` new ones until the container stops. */
export async function readLogs(paths: Layout, id: string, opts: LogOptions, emit: (r: LogRecord) => void): Promise<void> {
  const f = containerFiles(paths, id);
  const keep = (r: LogRecord) => {
    const t = Date.parse(r.time);
    return (opts.since === undefined || t >= opts.since) && (opts.until === undefined || t < opts.until);
  };
  let { records, next } = readFrom(f.log, 0);
  records = records.filter(keep);
  if (opts.tail !== undefined && opts.tail >= 0) records = records.slice(Math.max(0, records.length - opts.tail));
  records.forEach(emit);
  if (!opts.follow) return;
  for (;;) {
    const running = isRunning(currentState(paths, id));
    const more = readFrom(f.log, next);
    more.records.filter(keep).forEach(emit);
    next = more.next;
    if (!running && more.records.length === 0) return;
    await sleep(100);
  }
}
