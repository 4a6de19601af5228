// A small, deterministic tar writer (POSIX ustar, with pax extended headers where ustar's fields
// are too small). Nothing is read from the host: every field comes from the entry, so the same
// entries always give the same bytes, and an image built from them the same digest.
import { closeSync, openSync, readSync, writeSync, fstatSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { EngineError } from '../errors.js';

interface EntryBase {
  /** Path inside the archive, relative, without a leading './' (e.g. 'bin/sh'). */
  path: string;
  /** Permission bits, including setuid/setgid/sticky (0o7777 at most). */
  mode: number;
  uid: number;
  gid: number;
  /** Modification time in seconds since the epoch. */
  mtime: number;
  uname?: string;
  gname?: string;
  /** Extended attributes, written as pax SCHILY.xattr.NAME records. */
  xattrs?: Record<string, Buffer | string>;
}

export type TarEntry = EntryBase &
  (
    | { type: 'dir' }
    /** Content from `data`, or from the file at `source` (read when written). */
    | { type: 'file'; data?: Buffer | string; source?: string }
    | { type: 'symlink'; target: string }
    | { type: 'hardlink'; target: string }
    | { type: 'char' | 'block'; major: number; minor: number }
    | { type: 'fifo' }
  );

const BLOCK = 512;
const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);
const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' } as const;
const MAX_OCTAL_8 = 0o7777777; // an 8-byte field: 7 octal digits and a NUL
const MAX_OCTAL_12 = 0o77777777777;

/** The whole archive in memory: for small archives such as a base image's layer. */
export function tarBuffer(entries: Iterable<TarEntry>): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) writeEntry(entry, (b) => parts.push(Buffer.from(b)));
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

/** The archive streamed to a file, so file contents are never all in memory at once. */
export function writeTarFile(path: string, entries: Iterable<TarEntry>): void {
  const fd = openSync(path, 'w', 0o644);
  try {
    const write = (b: Uint8Array) => writeAll(fd, b);
    for (const entry of entries) writeEntry(entry, write);
    write(END_OF_ARCHIVE);
  } finally {
    closeSync(fd);
  }
}

function writeEntry(entry: TarEntry, write: (b: Uint8Array) => void): void {
  checkEntry(entry);
  const size = entry.type === 'file' ? contentSize(entry) : 0;
  const name = entry.type === 'dir' ? `${entry.path.replace(/\/+$/, '')}/` : entry.path;
  const linkname = entry.type === 'symlink' || entry.type === 'hardlink' ? entry.target : '';

  const pax: Record<string, Buffer> = {};
  if (Buffer.byteLength(name) > 100) pax.path = Buffer.from(name);
  if (Buffer.byteLength(linkname) > 100) pax.linkpath = Buffer.from(linkname);
  if (entry.uid > MAX_OCTAL_8) pax.uid = Buffer.from(String(entry.uid));
  if (entry.gid > MAX_OCTAL_8) pax.gid = Buffer.from(String(entry.gid));
  if (size > MAX_OCTAL_12) pax.size = Buffer.from(String(size));
  if (entry.uname && Buffer.byteLength(entry.uname) > 31) pax.uname = Buffer.from(entry.uname);
  if (entry.gname && Buffer.byteLength(entry.gname) > 31) pax.gname = Buffer.from(entry.gname);
  for (const [key, value] of Object.entries(entry.xattrs ?? {})) pax[`SCHILY.xattr.${key}`] = Buffer.from(value);

  if (Object.keys(pax).length > 0) {
    const body = paxRecords(pax);
    write(header({ name: paxHeaderName(name), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: entry.mtime, typeflag: 'x' }));
    write(body);
    write(padding(body.length));
  }
  write(
    header({
      name,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size,
      mtime: entry.mtime,
      typeflag: TYPEFLAG[entry.type],
      linkname,
      uname: entry.uname,
      gname: entry.gname,
      devmajor: entry.type === 'char' || entry.type === 'block' ? entry.major : 0,
      devminor: entry.type === 'char' || entry.type === 'block' ? entry.minor : 0,
    }),
  );
  if (entry.type === 'file') {
    if (entry.source !== undefined) copyFileContent(entry.source, size, write);
    else if (size > 0) write(Buffer.from(entry.data ?? ''));
    write(padding(size));
  }
}

function checkEntry(entry: TarEntry): void {
  const bad = (why: string) => new EngineError('invalid_tar_entry', `cannot write tar entry ${JSON.stringify(entry.path)}: ${why}`);
  if (entry.path === '' || entry.path.includes('\0')) throw bad('empty path or NUL in path');
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) throw bad(`mode ${entry.mode} is not within 0..0o7777`);
  for (const [field, v] of [['uid', entry.uid], ['gid', entry.gid], ['mtime', entry.mtime]] as const) {
    if (!Number.isInteger(v) || v < 0) throw bad(`${field} ${v} is not a non-negative integer`);
  }
  if (entry.mtime > MAX_OCTAL_12) throw bad('mtime is too large for ustar');
  if (entry.type === 'file' && entry.data !== undefined && entry.source !== undefined) throw bad('give data or source, not both');
}

function contentSize(entry: Extract<TarEntry, { type: 'file' }>): number {
  if (entry.source !== undefined) {
    const fd = openSync(entry.source, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }
  return entry.data === undefined ? 0 : Buffer.byteLength(entry.data);
}

function copyFileContent(source: string, size: number, write: (b: Uint8Array) => void): void {
  const fd = openSync(source, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n === 0) throw new EngineError('file_changed', `${source} shrank while it was being archived`);
      write(buf.subarray(0, n));
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}

interface HeaderFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

/** One 512-byte ustar header (POSIX.1-1988; pax.1 "ustar Interchange Format"). */
function header(h: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  putString(b, 0, 100, h.name);
  putOctal(b, 100, 8, h.mode);
  putOctal(b, 108, 8, Math.min(h.uid, MAX_OCTAL_8));
  putOctal(b, 116, 8, Math.min(h.gid, MAX_OCTAL_8));
  putOctal(b, 124, 12, Math.min(h.size, MAX_OCTAL_12));
  putOctal(b, 136, 12, h.mtime);
  b.write(h.typeflag, 156, 1, 'latin1');
  putString(b, 157, 100, h.linkname ?? '');
  b.write('ustar\x0000', 257, 8, 'latin1');
  putString(b, 265, 32, h.uname ?? '');
  putString(b, 297, 32, h.gname ?? '');
  putOctal(b, 329, 8, h.devmajor ?? 0);
  putOctal(b, 337, 8, h.devminor ?? 0);
  // The checksum is computed with its own field read as eight spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Strings longer than the field are cut: the full value then travels in a pax record. */
function putString(b: Buffer, off: number, len: number, s: string): void {
  Buffer.from(s).copy(b, off, 0, len);
}

function putOctal(b: Buffer, off: number, len: number, n: number): void {
  b.write(Math.floor(n).toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
}

/** Pax records "LEN KEY=VALUE\n", where LEN counts itself; keys sorted so output is stable. */
function paxRecords(fields: Record<string, Buffer>): Buffer {
  const records = Object.keys(fields)
    .sort()
    .map((key) => {
      const rest = Buffer.concat([Buffer.from(` ${key}=`), fields[key]!, Buffer.from('\n')]);
      let len = rest.length + 1;
      while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
      return Buffer.concat([Buffer.from(String(len)), rest]);
    });
  return Buffer.concat(records);
}

/** Named like Go's archive/tar does: "DIR/PaxHeaders.0/BASE" (cut to 100 bytes by putString). */
function paxHeaderName(name: string): string {
  const dir = dirname(name.replace(/\/$/, ''));
  const file = basename(name);
  return (dir === '.' ? '' : `${dir}/`) + `PaxHeaders.0/${file}`;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function writeAll(fd: number, b: Uint8Array): void {
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off, b.length - off);
}
