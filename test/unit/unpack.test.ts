import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { unpackLayer } from '../../lib/engine/storage/unpack.js';
import { tarBuffer, writeTarFile, type TarEntry } from '../../lib/engine/image/tar-write.js';
import { lgetxattr } from '../../native/libc.js';

const root = process.geteuid?.() === 0;
const meta = { uid: 0, gid: 0, mtime: 1704067200 };

/** A temp dir holding `layer.tar` made of `entries`, an empty `outside/`, and nothing else. */
function setup(t: { teardown(fn: () => void): void }, entries: (base: string) => TarEntry[]) {
  const base = mkdtempSync(join(tmpdir(), 'unpack-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  mkdirSync(join(base, 'outside'));
  const tar = join(base, 'layer.tar');
  writeTarFile(tar, entries(base));
  return { base, tar, dest: join(base, 'dest') };
}

function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

t.test('unpacks every kind of entry with its metadata', { skip: root ? false : 'needs root (chown, mknod)' }, async (t) => {
  const { tar, dest } = setup(t, () => [
    { type: 'dir', path: 'etc', mode: 0o755, ...meta },
    { type: 'file', path: 'etc/passwd', mode: 0o644, ...meta, data: 'root:x:0:0::/root:/bin/sh\n' },
    { type: 'file', path: 'usr/bin/su', mode: 0o4755, ...meta, uid: 1000, gid: 1001, data: 'elf' },
    { type: 'symlink', path: 'bin', target: 'usr/bin', mode: 0o777, ...meta },
    { type: 'hardlink', path: 'usr/bin/su2', target: 'usr/bin/su', mode: 0o4755, ...meta },
    { type: 'char', path: 'dev/null', mode: 0o666, major: 1, minor: 3, ...meta },
    { type: 'fifo', path: 'run/fifo', mode: 0o620, ...meta },
    { type: 'dir', path: 'tmp', mode: 0o1777, ...meta },
    { type: 'file', path: 'noted', mode: 0o600, ...meta, data: 'x', xattrs: { 'user.note': 'hello' } },
  ]);
  const result = await unpackLayer(tar, dest);
  t.equal(result.diffId, sha256(readFileSync(tar)), 'the diffID is the sha256 of the tar');
  t.equal(result.contentSize, 'root:x:0:0::/root:/bin/sh\n'.length + 3 + 1);
  t.equal(readFileSync(join(dest, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/sh\n');
  const su = lstatSync(join(dest, 'usr/bin/su'));
  t.equal(su.mode & 0o7777, 0o4755, 'setuid bit survives chown');
  t.equal(su.uid, 1000);
  t.equal(su.gid, 1001);
  t.equal(su.mtimeMs, 1704067200_000);
  t.equal(lstatSync(join(dest, 'usr/bin/su2')).ino, su.ino, 'hard link shares the inode');
  t.equal(readlinkSync(join(dest, 'bin')), 'usr/bin');
  const dev = lstatSync(join(dest, 'dev/null'));
  t.ok(dev.isCharacterDevice());
  t.equal(dev.rdev, (1 << 8) | 3);
  t.equal(dev.mode & 0o7777, 0o666, 'mode is not cut by the umask');
  t.ok(lstatSync(join(dest, 'run/fifo')).isFIFO());
  t.equal(lstatSync(join(dest, 'tmp')).mode & 0o7777, 0o1777);
  t.equal(lstatSync(join(dest, 'etc')).mtimeMs, 1704067200_000, 'directory times are set after their content');
  t.equal(lstatSync(join(dest, 'usr')).mode & 0o7777, 0o755, 'implied parents are 0755');
  t.equal(lgetxattr(join(dest, 'noted'), 'user.note').toString(), 'hello');
  t.same(readdirSync(join(dest, '..')).sort(), ['dest', 'layer.tar', 'outside'], 'no temp dir left');
});

t.test('gzip layers are detected by their magic number', async (t) => {
  const { base, dest } = setup(t, () => []);
  const plain = tarBuffer([{ type: 'file', path: 'hello', mode: 0o644, ...meta, uid: process.getuid!(), gid: process.getgid!(), data: 'hi' }]);
  writeFileSync(join(base, 'layer.tgz'), gzipSync(plain));
  const result = await unpackLayer(join(base, 'layer.tgz'), dest, { expectDiffId: sha256(plain) });
  t.equal(result.diffId, sha256(plain), 'the diffID is taken over the uncompressed tar');
  t.equal(readFileSync(join(dest, 'hello'), 'utf8'), 'hi');
});

t.test('a layer whose content does not match its diffID leaves nothing', async (t) => {
  const { base, tar, dest } = setup(t, () => [{ type: 'file', path: 'a', mode: 0o644, ...meta, data: 'a' }]);
  await t.rejects(unpackLayer(tar, dest, { expectDiffId: `sha256:${'0'.repeat(64)}` }), { code: 'layer_digest_mismatch' });
  t.same(readdirSync(base).sort(), ['layer.tar', 'outside']);
});

t.test('a truncated layer leaves nothing', async (t) => {
  const { base, tar, dest } = setup(t, () => [
    { type: 'file', path: 'a', mode: 0o644, ...meta, data: 'a' },
    { type: 'file', path: 'b', mode: 0o644, ...meta, data: 'b'.repeat(5000) },
  ]);
  writeFileSync(tar, readFileSync(tar).subarray(0, 512 * 4));
  await t.rejects(unpackLayer(tar, dest), { code: 'invalid_tar', message: /ends inside "b"/ });
  t.same(readdirSync(base).sort(), ['layer.tar', 'outside']);
});

t.test('unpacking never replaces an existing directory', async (t) => {
  const { tar, dest } = setup(t, () => [{ type: 'file', path: 'a', mode: 0o644, ...meta, data: 'a' }]);
  mkdirSync(dest);
  writeFileSync(join(dest, 'keep'), 'me');
  await t.rejects(unpackLayer(tar, dest), { code: 'layer_exists' });
  t.equal(readFileSync(join(dest, 'keep'), 'utf8'), 'me');
});

t.test('hostile layers are refused, naming the entry, with nothing written anywhere', async (t) => {
  const cases: [string, (base: string) => TarEntry[], string, RegExp][] = [
    ['../ path', () => [{ type: 'file', path: '../outside/evil', mode: 0o644, ...meta, data: 'x' }], '../outside/evil', /out of the layer/],
    ['../ in the middle', () => [{ type: 'file', path: 'a/../../outside/evil', mode: 0o644, ...meta, data: 'x' }], 'a/../../outside/evil', /out of the layer/],
    ['absolute path', (b) => [{ type: 'file', path: `${b}/outside/evil`, mode: 0o644, ...meta, data: 'x' }], '/outside/evil', /absolute path/],
    [
      'write through a symlink',
      (b) => [
        { type: 'symlink', path: 'a', target: `${b}/outside`, mode: 0o777, ...meta },
        { type: 'file', path: 'a/evil', mode: 0o644, ...meta, data: 'x' },
      ],
      'a/evil',
      /through the symlink a/,
    ],
    [
      'write through a relative symlink, deeper',
      () => [
        { type: 'dir', path: 'x', mode: 0o755, ...meta },
        { type: 'symlink', path: 'x/up', target: '../../outside', mode: 0o777, ...meta },
        { type: 'dir', path: 'x/up/sub', mode: 0o755, ...meta },
      ],
      'x/up/sub',
      /through the symlink x\/up/,
    ],
    [
      'hard link to a file outside',
      () => [{ type: 'hardlink', path: 'passwd', target: '../outside/secret', mode: 0o644, ...meta }],
      'passwd',
      /out of the layer/,
    ],
    [
      'hard link through a symlink',
      (b) => [
        { type: 'symlink', path: 'a', target: `${b}/outside`, mode: 0o777, ...meta },
        { type: 'hardlink', path: 'stolen', target: 'a/secret', mode: 0o644, ...meta },
      ],
      'stolen',
      /hard link through a/,
    ],
    ['whiteout that climbs', () => [{ type: 'file', path: 'd/.wh...', mode: 0o644, ...meta, data: '' }], 'd/.wh...', /whiteout/],
  ];
  for (const [name, entries, entryName, why] of cases) {
    await t.test(name, async (t) => {
      const { base, tar, dest } = setup(t, entries);
      writeFileSync(join(base, 'outside', 'secret'), 'secret');
      await t.rejects(unpackLayer(tar, dest), { code: 'unsafe_layer_entry', message: why });
      await unpackLayer(tar, dest).catch((e: Error) => t.match(e.message, JSON.stringify(entryName).slice(1, -1), 'the message names the entry'));
      t.same(readdirSync(join(base, 'outside')), ['secret'], 'nothing created outside');
      t.equal(readFileSync(join(base, 'outside', 'secret'), 'utf8'), 'secret');
      t.same(readdirSync(base).sort(), ['layer.tar', 'outside'], 'no destination and no temp dir');
    });
  }
});

t.test('a file entry replaces an earlier symlink instead of writing through it', async (t) => {
  const { base, tar, dest } = setup(t, (b) => [
    { type: 'symlink', path: 'x', target: `${b}/outside/secret`, mode: 0o777, ...meta },
    { type: 'file', path: 'x', mode: 0o644, ...meta, uid: process.getuid!(), gid: process.getgid!(), data: 'mine' },
  ]);
  writeFileSync(join(base, 'outside', 'secret'), 'secret');
  await unpackLayer(tar, dest);
  t.equal(readFileSync(join(base, 'outside', 'secret'), 'utf8'), 'secret');
  t.ok(lstatSync(join(dest, 'x')).isFile());
  t.equal(readFileSync(join(dest, 'x'), 'utf8'), 'mine');
});

t.test('OCI whiteouts become overlayfs whiteouts', { skip: root ? false : 'needs root (mknod, trusted.* xattrs)' }, async (t) => {
  const { tar, dest } = setup(t, () => [
    { type: 'dir', path: 'etc', mode: 0o755, ...meta },
    { type: 'file', path: 'etc/.wh.motd', mode: 0o644, ...meta, data: '' },
    { type: 'file', path: '.wh.gone', mode: 0o644, ...meta, data: '' },
    { type: 'dir', path: 'var/cache', mode: 0o755, ...meta },
    { type: 'file', path: 'var/cache/.wh..wh..opq', mode: 0o644, ...meta, data: '' },
    { type: 'file', path: 'var/cache/new', mode: 0o644, ...meta, data: 'n' },
    { type: 'file', path: '.wh..wh.plnk', mode: 0o644, ...meta, data: '' },
  ]);
  await unpackLayer(tar, dest);
  for (const p of ['etc/motd', 'gone']) {
    const st = lstatSync(join(dest, p));
    t.ok(st.isCharacterDevice(), `${p} is a character device`);
    t.equal(st.rdev, 0, `${p} is 0:0`);
  }
  t.equal(lgetxattr(join(dest, 'var/cache'), 'trusted.overlay.opaque').toString(), 'y', 'opaque directory');
  t.notOk(existsSync(join(dest, 'etc/.wh.motd')), 'no .wh. files remain');
  t.notOk(existsSync(join(dest, '.wh..wh.plnk')), 'aufs metadata skipped');
  t.same(readdirSync(dest).sort(), ['etc', 'gone', 'var']);
});

t.test('overlayfs hides what the whiteouts delete', { skip: root ? false : 'needs root (mount)' }, async (t) => {
  const { base, tar, dest } = setup(t, () => [
    { type: 'file', path: '.wh.gone', mode: 0o644, ...meta, data: '' },
    { type: 'dir', path: 'cache', mode: 0o755, ...meta },
    { type: 'file', path: 'cache/.wh..wh..opq', mode: 0o644, ...meta, data: '' },
    { type: 'file', path: 'cache/new', mode: 0o644, ...meta, data: 'n' },
  ]);
  const lowerTar = join(base, 'lower.tar');
  writeTarFile(lowerTar, [
    { type: 'file', path: 'gone', mode: 0o644, ...meta, data: 'g' },
    { type: 'file', path: 'kept', mode: 0o644, ...meta, data: 'k' },
    { type: 'file', path: 'cache/old', mode: 0o644, ...meta, data: 'o' },
  ]);
  const lower = join(base, 'lower');
  await unpackLayer(lowerTar, lower);
  await unpackLayer(tar, dest);
  const merged = join(base, 'merged');
  for (const d of ['merged', 'upper', 'work']) mkdirSync(join(base, d));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dest}:${lower},upperdir=${join(base, 'upper')},workdir=${join(base, 'work')}`, merged]);
  t.teardown(() => execFileSync('umount', [merged]));
  t.same(readdirSync(merged).sort(), ['cache', 'kept']);
  t.same(readdirSync(join(merged, 'cache')), ['new']);
});
