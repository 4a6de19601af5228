import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Parser, type ReadEntry } from 'tar';
import { tarBuffer, writeTarFile, type TarEntry } from '../../lib/engine/image/tar-write.js';
import { readTar, type TarReadEntry } from '../../lib/engine/image/tar-read.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tar-write-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const LONG = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.txt`;
const meta = { uid: 0, gid: 0, mtime: 1704067200 };
const ENTRIES: TarEntry[] = [
  { type: 'dir', path: 'bin', mode: 0o755, ...meta },
  { type: 'file', path: 'bin/tool', mode: 0o4755, ...meta, uid: 1000, gid: 1001, uname: 'alice', gname: 'staff', data: Buffer.from('#!/bin/sh\necho hi\n') },
  { type: 'symlink', path: 'bin/sh', target: 'tool', mode: 0o777, ...meta },
  { type: 'hardlink', path: 'bin/tool2', target: 'bin/tool', mode: 0o755, ...meta },
  { type: 'char', path: 'dev/null', mode: 0o666, major: 1, minor: 3, ...meta },
  { type: 'block', path: 'dev/loop0', mode: 0o660, major: 7, minor: 0, ...meta },
  { type: 'fifo', path: 'run/pipe', mode: 0o600, ...meta },
  { type: 'dir', path: 'tmp', mode: 0o1777, ...meta },
  { type: 'file', path: LONG, mode: 0o644, ...meta, data: 'x'.repeat(1000) },
  { type: 'symlink', path: 'to-long', target: LONG, mode: 0o777, ...meta },
  { type: 'file', path: 'big-ids', mode: 0o600, ...meta, uid: 3_000_000, gid: 4_000_000, data: '' },
  { type: 'file', path: 'caps', mode: 0o755, ...meta, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0]), 'user.note': 'a=b\nc' }, data: 'bin' },
];

async function readWithNodeTar(data: Buffer) {
  const entries: { path: string; type: string; mode?: number; uid?: number; gid?: number; mtime?: Date; linkpath?: string; size: number; uname?: string; devmaj: number; devmin: number; body: string }[] = [];
  await new Promise<void>((resolve, reject) => {
    const p = new Parser({ strict: true });
    p.on('entry', (e: ReadEntry) => {
      const chunks: Buffer[] = [];
      e.on('data', (c: Buffer) => chunks.push(c));
      e.on('end', () =>
        entries.push({
          path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime, linkpath: e.linkpath, size: e.size,
          uname: e.uname, devmaj: e.header.devmaj ?? 0, devmin: e.header.devmin ?? 0, body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    p.on('error', reject);
    p.on('end', () => resolve());
    p.end(data);
  });
  return entries;
}

async function readWithOwnReader(data: Buffer) {
  const out: (Omit<TarReadEntry, 'body'> & { content: string })[] = [];
  async function* source() {
    // Odd chunk sizes exercise headers and bodies split across chunks.
    for (let i = 0; i < data.length; i += 333) yield data.subarray(i, i + 333);
  }
  for await (const e of readTar(source())) {
    const chunks: Buffer[] = [];
    for await (const c of e.body()) chunks.push(c);
    const { body: _body, ...header } = e;
    out.push({ ...header, content: Buffer.concat(chunks).toString() });
  }
  return out;
}

t.test('same entries give the same bytes, in memory and on disk', async (t) => {
  const dir = tempDir(t);
  const a = tarBuffer(ENTRIES);
  const b = tarBuffer(structuredClone(ENTRIES));
  t.ok(a.equals(b), 'two in-memory writes are identical');
  writeTarFile(join(dir, 'x.tar'), ENTRIES);
  t.ok(readFileSync(join(dir, 'x.tar')).equals(a), 'the streamed file is identical too');
  t.equal(a.length % 512, 0, 'whole blocks');
  t.ok(a.subarray(a.length - 1024).every((x) => x === 0), 'ends with two zero blocks');
  const changed = tarBuffer(ENTRIES.map((e) => (e.path === 'bin' ? { ...e, mtime: e.mtime + 1 } : e)));
  t.notOk(changed.equals(a), 'one changed field changes the bytes');
});

t.test('node-tar reads back every field', async (t) => {
  const got = await readWithNodeTar(tarBuffer(ENTRIES));
  t.same(got.map((e) => e.path), ['bin/', 'bin/tool', 'bin/sh', 'bin/tool2', 'dev/null', 'dev/loop0', 'run/pipe', 'tmp/', LONG, 'to-long', 'big-ids', 'caps']);
  const by = (p: string) => got.find((e) => e.path === p)!;
  t.match(by('bin/'), { type: 'Directory', mode: 0o755, uid: 0, gid: 0 });
  t.equal(by('bin/').mtime!.getTime(), 1704067200_000);
  t.match(by('bin/tool'), { type: 'File', mode: 0o4755, uid: 1000, gid: 1001, uname: 'alice', body: '#!/bin/sh\necho hi\n' });
  t.match(by('bin/sh'), { type: 'SymbolicLink', linkpath: 'tool' });
  t.match(by('bin/tool2'), { type: 'Link', linkpath: 'bin/tool' });
  t.match(by('dev/null'), { type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666 });
  t.match(by('dev/loop0'), { type: 'BlockDevice', devmaj: 7, devmin: 0 });
  t.match(by('run/pipe'), { type: 'FIFO' });
  t.match(by('tmp/'), { mode: 0o1777 });
  t.match(by(LONG), { type: 'File', size: 1000, body: 'x'.repeat(1000) }, 'a name over 100 bytes travels in a pax header');
  t.match(by('to-long'), { linkpath: LONG }, 'so does a long link target');
  t.match(by('big-ids'), { uid: 3_000_000, gid: 4_000_000 }, 'ids too big for ustar travel in pax');
});

t.test('our reader reads back every field, xattrs included', async (t) => {
  const got = await readWithOwnReader(tarBuffer(ENTRIES));
  const by = (p: string) => got.find((e) => e.path === p)!;
  t.equal(got.length, ENTRIES.length);
  t.match(by('bin/tool'), { type: 'file', mode: 0o4755, uid: 1000, gid: 1001, uname: 'alice', gname: 'staff', mtime: 1704067200, content: '#!/bin/sh\necho hi\n' });
  t.match(by('bin/'), { type: 'dir' });
  t.match(by('dev/null'), { type: 'char', devmajor: 1, devminor: 3 });
  t.match(by(LONG), { size: 1000, content: 'x'.repeat(1000) });
  t.match(by('to-long'), { type: 'symlink', linkpath: LONG });
  t.match(by('bin/tool2'), { type: 'hardlink', linkpath: 'bin/tool' });
  t.match(by('big-ids'), { uid: 3_000_000, gid: 4_000_000 });
  t.same(by('caps').xattrs, { 'security.capability': Buffer.from([1, 0, 0, 2, 0x20, 0, 0, 0]), 'user.note': Buffer.from('a=b\nc') });
});

t.test('GNU tar agrees', { skip: hasGnuTar() ? false : 'no tar binary' }, async (t) => {
  const dir = tempDir(t);
  writeTarFile(join(dir, 'x.tar'), ENTRIES);
  const listing = execFileSync('tar', ['-tvf', join(dir, 'x.tar')], { encoding: 'utf8' });
  t.match(listing, /-rwsr-xr-x alice\/staff\s+18 2024-01-01 00:00 bin\/tool\n/);
  t.match(listing, /crw-rw-rw- 0\/0\s+1,3 2024-01-01 00:00 dev\/null/);
  t.match(listing, new RegExp(`${LONG}\\n`));
});

t.test('entries that cannot be written are refused', async (t) => {
  t.throws(() => tarBuffer([{ type: 'dir', path: 'x', mode: 0o10000, ...meta }]), { code: 'invalid_tar_entry' });
  t.throws(() => tarBuffer([{ type: 'dir', path: '', mode: 0o755, ...meta }]), { code: 'invalid_tar_entry' });
  t.throws(() => tarBuffer([{ type: 'dir', path: 'x', mode: 0o755, ...meta, mtime: -1 }]), { code: 'invalid_tar_entry' });
});

function hasGnuTar(): boolean {
  try {
    return execFileSync('tar', ['--version'], { encoding: 'utf8' }).includes('GNU tar');
  } catch {
    return false;
  }
}
