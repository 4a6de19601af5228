// A streaming tar reader: ustar, pax (per-file and global) and GNU long names, plain or gzip.
// It only parses; deciding what an entry may do on disk is the unpacker's job (storage/unpack.ts).
import { createReadStream, openSync, readSync, closeSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream';
import { EngineError } from '../errors.js';

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** As recorded in the archive (after pax and GNU long names), not cleaned. */
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch; pax records may give a fraction. */
  mtime: number;
  linkpath: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

export interface TarReadEntry extends TarHeader {
  /** The entry's content; read it before asking for the next entry, or it is skipped. */
  body(): AsyncIterable<Buffer>;
}

const BLOCK = 512;
const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

function invalid(message: string): EngineError {
  return new EngineError('invalid_tar', message, { hint: 'the archive is damaged or not a tar file' });
}

/**
 * The bytes of a tar file, decompressed if it starts with gzip's magic number. Layers come as
 * plain tar or tar+gzip; the media type can lie, the first bytes cannot.
 */
export function openTar(path: string): AsyncIterable<Buffer> {
  const magic = Buffer.alloc(4);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  // pipeline, not pipe: a read error must reach whoever iterates the gunzip stream.
  if (n >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) return pipeline(file, createGunzip(), () => {});
  if (n === 4 && magic.readUInt32LE(0) === 0xfd2fb528) {
    file.destroy();
    throw new EngineError('unsupported_compression', `${path} is zstd-compressed`, {
      hint: 'Node.js 20 has no zstd decoder; mini-docker reads plain and gzip-compressed layers',
    });
  }
  return file;
}

/** Pull exactly the bytes asked for out of a stream of chunks of any size. */
class ByteReader {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  private readonly it: AsyncIterator<Buffer | Uint8Array>;
  /** Bytes handed out so far: the offset of the next one in the stream. */
  offset = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.pending.length < n && (await this.more()));
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** The next n bytes as they arrive, without gathering them; fewer only at the end. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.more())) return;
      const out = this.pending.subarray(0, left);
      this.pending = this.pending.subarray(out.length);
      this.offset += out.length;
      left -= out.length;
      yield out;
    }
  }

  async skip(n: number): Promise<number> {
    let skipped = 0;
    for await (const c of this.chunks(n)) skipped += c.length;
    return skipped;
  }

  /** Stop reading early: lets the source close its file. */
  async close(): Promise<void> {
    await this.it.return?.();
  }

  /** Read to the end, so that whoever hashes the stream has seen all of it. */
  async drain(): Promise<void> {
    this.pending = Buffer.alloc(0);
    while (await this.more()) {
      this.offset += this.pending.length;
      this.pending = Buffer.alloc(0);
    }
  }
}

interface PaxFields {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  uname?: string;
  gname?: string;
  xattrs?: Record<string, Buffer>;
}

/**
 * The entries of a tar stream, in order. The stream is read to its end (past the end-of-archive
 * blocks) so that a digest taken over it is the digest of the whole file.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarReadEntry> {
  const r = new ByteReader(source);
  try {
    yield* entries(r);
    await r.drain();
  } finally {
    await r.close();
  }
}

async function* entries(r: ByteReader): AsyncGenerator<TarReadEntry> {
  let global: PaxFields = {};
  let local: PaxFields = {};
  for (;;) {
    const at = r.offset;
    const block = await r.read(BLOCK);
    if (block.length === 0) break; // no end-of-archive blocks: tolerated, as GNU tar does
    if (block.length < BLOCK) throw invalid(`tar archive ends in the middle of a header (offset ${at})`);
    if (block.every((b) => b === 0)) break;
    const raw = parseHeader(block, at);

    if (raw.typeflag === 'x' || raw.typeflag === 'g' || raw.typeflag === 'L' || raw.typeflag === 'K') {
      const body = await r.read(raw.size);
      if (body.length < raw.size) throw invalid(`tar archive ends inside an extended header (offset ${at})`);
      await r.skip(paddingOf(raw.size));
      if (raw.typeflag === 'x') local = { ...local, ...parsePax(body, at) };
      else if (raw.typeflag === 'g') global = { ...global, ...parsePax(body, at), path: undefined, linkpath: undefined };
      else if (raw.typeflag === 'L') local.path = cString(body);
      else local.linkpath = cString(body);
      continue;
    }

    const fields = { ...global, ...local };
    local = {};
    let type = TYPES[raw.typeflag];
    if (type === undefined) {
      throw new EngineError('unsupported_tar_entry', `tar entry ${JSON.stringify(fields.path ?? raw.name)} has unsupported type '${raw.typeflag}'`, {
        hint: 'only files, directories, links, devices and FIFOs can be unpacked',
      });
    }
    const path = fields.path ?? raw.name;
    // Before ustar, a directory was a file whose name ends in '/'.
    if (type === 'file' && raw.typeflag !== '7' && path.endsWith('/')) type = 'dir';
    const size = type === 'file' ? fields.size ?? raw.size : 0;
    const dataSize = type === 'file' ? size : 0; // Go's archive/tar: other types never carry data

    let left = dataSize;
    const entry: TarReadEntry = {
      path,
      type,
      mode: raw.mode & 0o7777,
      uid: fields.uid ?? raw.uid,
      gid: fields.gid ?? raw.gid,
      size,
      mtime: fields.mtime ?? raw.mtime,
      linkpath: fields.linkpath ?? raw.linkname,
      uname: fields.uname ?? raw.uname,
      gname: fields.gname ?? raw.gname,
      devmajor: raw.devmajor,
      devminor: raw.devminor,
      xattrs: fields.xattrs ?? {},
      body: async function* () {
        for await (const c of r.chunks(left)) {
          left -= c.length;
          yield c;
        }
        if (left > 0) throw invalid(`tar archive ends inside ${JSON.stringify(path)}`);
      },
    };
    yield entry;
    if ((await r.skip(left)) < left) throw invalid(`tar archive ends inside ${JSON.stringify(path)}`);
    left = 0;
    await r.skip(paddingOf(dataSize));
  }
}

interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

function parseHeader(b: Buffer, at: number): RawHeader {
  const stored = parseNumber(b, 148, 8, at);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  if (stored !== unsigned && stored !== signed) throw invalid(`tar header checksum mismatch (offset ${at}): not a tar archive, or a damaged one`);

  const magic = b.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0';
  const gnu = magic === 'ustar ';
  let name = cString(b.subarray(0, 100));
  // In POSIX ustar a long name is split into prefix/name; GNU tar uses those bytes for times.
  if (ustar) {
    const prefix = cString(b.subarray(345, 500));
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    mode: parseNumber(b, 100, 8, at),
    uid: parseNumber(b, 108, 8, at),
    gid: parseNumber(b, 116, 8, at),
    size: parseNumber(b, 124, 12, at),
    mtime: parseNumber(b, 136, 12, at),
    typeflag: String.fromCharCode(b[156]!),
    linkname: cString(b.subarray(157, 257)),
    uname: ustar || gnu ? cString(b.subarray(265, 297)) : '',
    gname: ustar || gnu ? cString(b.subarray(297, 329)) : '',
    devmajor: ustar || gnu ? parseNumber(b, 329, 8, at) : 0,
    devminor: ustar || gnu ? parseNumber(b, 337, 8, at) : 0,
  };
}

/** Octal text, or (GNU, for large values) big-endian base-256 flagged by the top bit. */
function parseNumber(b: Buffer, off: number, len: number, at: number): number {
  const field = b.subarray(off, off + len);
  if (field[0]! & 0x80) {
    if (field[0] === 0xff) throw invalid(`negative number in tar header (offset ${at})`);
    let v = field[0]! & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = field.toString('latin1').split('\0')[0]!.trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw invalid(`bad number ${JSON.stringify(text)} in tar header (offset ${at})`);
  return parseInt(text, 8);
}

/** Pax records: "LEN KEY=VALUE\n", LEN counting the whole record (values may hold any byte). */
function parsePax(body: Buffer, at: number): PaxFields {
  const out: PaxFields = {};
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break;
    const space = body.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(body.toString('latin1', pos, space));
    if (!Number.isInteger(len) || len <= 0 || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw invalid(`bad pax extended header record (offset ${at})`);
    }
    const record = body.subarray(space + 1, pos + len - 1);
    pos += len;
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw invalid(`bad pax extended header record (offset ${at})`);
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    const text = value.toString('utf8');
    switch (key) {
      case 'path': out.path = text; break;
      case 'linkpath': out.linkpath = text; break;
      case 'uname': out.uname = text; break;
      case 'gname': out.gname = text; break;
      case 'size': case 'uid': case 'gid': {
        if (!/^[0-9]+$/.test(text)) throw invalid(`bad pax ${key} ${JSON.stringify(text)} (offset ${at})`);
        out[key] = Number(text);
        break;
      }
      case 'mtime': {
        const t = Number(text);
        if (!Number.isFinite(t)) throw invalid(`bad pax mtime ${JSON.stringify(text)} (offset ${at})`);
        out.mtime = t;
        break;
      }
      default:
        if (key.startsWith('SCHILY.xattr.')) {
          (out.xattrs ??= {})[key.slice('SCHILY.xattr.'.length)] = Buffer.from(value);
        } else if (key.startsWith('LIBARCHIVE.xattr.')) {
          (out.xattrs ??= {})[decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length))] = Buffer.from(text, 'base64');
        }
    }
  }
  return out;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul === -1 ? b.length : nul);
}

function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
