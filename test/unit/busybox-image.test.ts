import t from 'tap';
import { lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBusyboxImage, installBusyboxImage, DEFAULT_EPOCH } from '../../sandbox-images/busybox/build.js';
import { layout } from '../../lib/engine/paths.js';
import { ensureLayers, resolveImage } from '../../lib/engine/image/store.js';
import { ociArchitecture } from '../../lib/engine/image/oci.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'busybox-image-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('two builds from the same busybox are byte-identical', async (t) => {
  const dir = tempDir(t);
  const a = await buildBusyboxImage(join(dir, 'a'));
  const b = await buildBusyboxImage(join(dir, 'b'));
  t.equal(a.manifestDigest, b.manifestDigest);
  t.equal(a.imageId, b.imageId);
  t.match(a.manifestDigest, /^sha256:[a-f0-9]{64}$/);
  const files = readdirSync(join(dir, 'a', 'blobs', 'sha256')).sort();
  t.same(readdirSync(join(dir, 'b', 'blobs', 'sha256')).sort(), files);
  t.equal(files.length, 3, 'manifest, config, one layer');
  t.ok(readFileSync(join(dir, 'a', 'index.json')).equals(readFileSync(join(dir, 'b', 'index.json'))));
  const other = await buildBusyboxImage(join(dir, 'c'), { epoch: DEFAULT_EPOCH + 1 });
  t.not(other.manifestDigest, a.manifestDigest, 'another date is another image');
});

t.test('the image: config, and a rootfs like docker\'s busybox', async (t) => {
  const root = join(tempDir(t), 'root');
  const id = await installBusyboxImage(root);
  const paths = layout(root);
  const img = resolveImage(paths, 'busybox')!;
  t.equal(img.id, id);
  t.same(img.repoTags, ['busybox:latest']);
  t.same(img.config.config?.Cmd, ['sh']);
  t.same(img.config.config?.Env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']);
  t.equal(img.config.os, 'linux');
  t.equal(img.config.architecture, ociArchitecture());
  t.equal(img.created, '2024-01-01T00:00:00Z');
  t.equal(img.layers.length, 1);

  const [layer] = await ensureLayers(paths, img);
  const bin = readdirSync(join(layer!, 'bin'));
  t.ok(bin.includes('busybox') && bin.includes('sh') && bin.includes('ls'), 'busybox and its applets');
  t.equal(readlinkSync(join(layer!, 'bin', 'sh')), 'busybox');
  t.equal(lstatSync(join(layer!, 'bin', 'busybox')).mode & 0o7777, 0o755);
  t.equal(lstatSync(join(layer!, 'tmp')).mode & 0o7777, 0o1777);
  t.equal(lstatSync(join(layer!, 'root')).mode & 0o7777, 0o700);
  for (const d of ['bin', 'dev', 'etc', 'home', 'lib', 'proc', 'root', 'sys', 'tmp', 'usr', 'var']) t.ok(lstatSync(join(layer!, d)).isDirectory(), `/${d}`);
  const passwd = readFileSync(join(layer!, 'etc', 'passwd'), 'utf8');
  t.match(passwd, /^root:x:0:0:root:\/root:\/bin\/sh$/m);
  t.match(passwd, /^nobody:x:65534:65534:nobody:\/home:\/bin\/false$/m);
  t.match(readFileSync(join(layer!, 'etc', 'group'), 'utf8'), /^nogroup:x:65534:$/m);

  t.equal(await installBusyboxImage(root), id, 'installing again is the same image');
  t.equal(await installBusyboxImage(root, { tag: 'bb:test' }), id);
  t.same(resolveImage(paths, id)!.repoTags.sort(), ['bb:test', 'busybox:latest']);
});
