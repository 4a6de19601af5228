import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { layout, type Layout } from '../../lib/engine/paths.js';
import { ensureLayers, importOciLayout, listImages, loadImages, removeImage, resolveImage, tagImage } from '../../lib/engine/image/store.js';
import { ANNOTATION, MEDIA_TYPE, chainIds, sha256Digest, type ImageConfig, type ImageManifest } from '../../lib/engine/image/oci.js';
import { tarBuffer, writeTarFile, type TarEntry } from '../../lib/engine/image/tar-write.js';

const meta = { uid: 0, gid: 0, mtime: 1704067200 };

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface FakeImage {
  layers: TarEntry[][];
  /** Full names for io.containerd.image.name, e.g. 'docker.io/library/app:1'. */
  names?: string[];
  created?: string;
  cmd?: string[];
}

/** Write an OCI layout holding the given images; returns each image's id and manifest digest. */
function makeLayout(dir: string, images: FakeImage[]) {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (data: Buffer) => {
    const digest = sha256Digest(data);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), data);
    return { digest, size: data.length };
  };
  const manifests = [];
  const made = [];
  for (const img of images) {
    const layers = img.layers.map((entries) => ({ mediaType: MEDIA_TYPE.layer, ...blob(tarBuffer(entries)) }));
    const config: ImageConfig = {
      created: img.created ?? '2024-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: img.cmd ?? ['sh'], Env: ['PATH=/bin'], WorkingDir: '/', User: '', StopSignal: 'SIGTERM', ExposedPorts: { '80/tcp': {} } },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      history: [{ created_by: 'test' }],
    };
    const configDesc = { mediaType: MEDIA_TYPE.config, ...blob(Buffer.from(JSON.stringify(config))) };
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE.manifest, config: configDesc, layers };
    const m = blob(Buffer.from(JSON.stringify(manifest)));
    for (const name of img.names ?? [undefined]) {
      manifests.push({
        mediaType: MEDIA_TYPE.manifest, ...m,
        ...(name ? { annotations: { [ANNOTATION.imageName]: name, [ANNOTATION.refName]: name.split(':').pop()! } } : {}),
      });
    }
    made.push({ id: configDesc.digest, manifestDigest: m.digest, diffIds: layers.map((l) => l.digest) });
  }
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return made;
}

const BASE: TarEntry[] = [
  { type: 'dir', path: 'bin', mode: 0o755, ...meta },
  { type: 'file', path: 'bin/tool', mode: 0o755, ...meta, data: 'tool' },
  { type: 'file', path: 'etc/motd', mode: 0o644, ...meta, data: 'hello' },
];
const TOP: TarEntry[] = [
  { type: 'file', path: 'app', mode: 0o755, ...meta, data: 'app' },
  { type: 'file', path: 'etc/.wh.motd', mode: 0o644, ...meta, data: '' },
];

function storeWith(t: { teardown(fn: () => void): void }, images: FakeImage[]) {
  const dir = tempDir(t);
  const made = makeLayout(join(dir, 'layout'), images);
  return { dir, paths: layout(join(dir, 'root')), layoutDir: join(dir, 'layout'), made };
}

function blobs(paths: Layout): string[] {
  const d = join(paths.images, 'blobs', 'sha256');
  return existsSync(d) ? readdirSync(d).sort() : [];
}

t.test('import copies the blobs and tags the image as the layout names it', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE, TOP], names: ['docker.io/library/app:1'] }]);
  const imported = await importOciLayout(paths, layoutDir);
  t.same(imported, [{ id: made[0]!.id, repoTags: ['app:1'] }]);
  t.same(JSON.parse(readFileSync(join(paths.images, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(paths.images, 'index.json'), 'utf8'));
  t.equal(index.manifests.length, 1);
  t.same(index.manifests[0].annotations, { [ANNOTATION.imageName]: 'docker.io/library/app:1', [ANNOTATION.refName]: '1' });
  t.equal(blobs(paths).length, 4, 'manifest, config, two layers');

  const img = resolveImage(paths, 'app:1')!;
  t.equal(img.id, made[0]!.id);
  t.equal(img.manifestDigest, made[0]!.manifestDigest);
  t.same(img.repoTags, ['app:1']);
  t.same(img.config.config?.Cmd, ['sh']);
  t.same(img.config.config?.ExposedPorts, { '80/tcp': {} });
  t.equal(img.created, '2024-01-01T00:00:00Z');
  t.same(img.layers.map((l) => l.diffId), made[0]!.diffIds);
  t.equal(img.size, img.layers.reduce((n, l) => n + l.size, 0));
  t.equal(img.layers[0]!.mediaType, MEDIA_TYPE.layer);

  await importOciLayout(paths, layoutDir);
  t.equal(JSON.parse(readFileSync(join(paths.images, 'index.json'), 'utf8')).manifests.length, 1, 'importing again changes nothing');
});

t.test('resolve by any spelling of the name, or by ID prefix', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE], names: ['docker.io/library/busybox:latest'] }]);
  await importOciLayout(paths, layoutDir);
  const id = made[0]!.id;
  for (const s of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', id, id.slice(7), id.slice(7, 19), id.slice(0, 12), `busybox@${made[0]!.manifestDigest}`]) {
    t.equal(resolveImage(paths, s)?.id, id, s);
  }
  t.equal(resolveImage(paths, 'busybox:1.36'), undefined);
  t.equal(resolveImage(paths, 'other'), undefined);
  t.throws(() => resolveImage(paths, 'BusyBox'), { code: 'invalid_reference' });
});

t.test('an ambiguous ID prefix lists the candidates', async (t) => {
  // Seventeen images: two of them must share the first hex digit of their ID.
  const images = Array.from({ length: 17 }, (_, i) => ({ layers: [BASE], names: [`docker.io/library/img${i}:latest`], created: `2024-01-01T00:00:${String(i).padStart(2, '0')}Z` }));
  const { paths, layoutDir, made } = storeWith(t, images);
  await importOciLayout(paths, layoutDir);
  const first = made.map((m) => m.id[7]!);
  const c = first.find((x, i) => first.indexOf(x) !== i)!;
  const candidates = made.filter((m) => m.id[7] === c).map((m) => m.id.slice(7, 19));
  t.throws(() => resolveImage(paths, c), { code: 'ambiguous_image_id' });
  try {
    resolveImage(paths, c);
  } catch (e) {
    for (const cand of candidates) t.match((e as Error).message, cand, `names ${cand}`);
  }
  t.equal(listImages(paths).length, 17);
});

t.test('list: newest first, one record per image, filters by name', async (t) => {
  const { paths, layoutDir } = storeWith(t, [
    { layers: [BASE], names: ['docker.io/library/old:1', 'docker.io/library/old:2'], created: '2020-01-01T00:00:00Z' },
    { layers: [BASE, TOP], names: ['localhost:5000/team/new:v1'], created: '2024-06-01T00:00:00Z' },
  ]);
  await importOciLayout(paths, layoutDir);
  t.same(listImages(paths).map((i) => i.repoTags), [['localhost:5000/team/new:v1'], ['old:1', 'old:2']]);
  t.same(listImages(paths, { reference: 'old' }).map((i) => i.repoTags), [['old:1', 'old:2']]);
  t.same(listImages(paths, { reference: 'old:2' }).map((i) => i.repoTags), [['old:2']]);
  t.same(listImages(paths, { reference: 'docker.io/library/old:1' }).map((i) => i.repoTags), [['old:1']]);
  t.same(listImages(paths, { reference: 'localhost:5000/team/*' }).map((i) => i.repoTags), [['localhost:5000/team/new:v1']]);
  t.same(listImages(paths, { reference: 'o?d:*' }).map((i) => i.repoTags), [['old:1', 'old:2']]);
  t.same(listImages(paths, { reference: 'nothing' }), []);
});

t.test('--tag names the image instead of the layout', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE] }]);
  const [untagged] = await importOciLayout(paths, layoutDir);
  t.same(untagged, { id: made[0]!.id, repoTags: [] }, 'a layout without names gives an untagged image');
  t.same(listImages(paths).map((i) => i.repoTags), [[]]);
  const [tagged] = await importOciLayout(paths, layoutDir, { tag: 'mine:v1' });
  t.same(tagged!.repoTags, ['mine:v1']);
  t.same(listImages(paths).map((i) => i.repoTags), [['mine:v1']], 'the <none> entry became the tag');
  await t.rejects(importOciLayout(paths, layoutDir, { tag: 'x@sha256:' + '0'.repeat(64) }), { code: 'invalid_reference' });
});

t.test('import refuses damaged or hostile layouts and leaves the store as it was', async (t) => {
  await t.test('a blob that does not match its digest', async (t) => {
    const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE], names: ['docker.io/library/a:1'] }]);
    const layer = JSON.parse(readFileSync(join(layoutDir, 'blobs/sha256', made[0]!.manifestDigest.slice(7)), 'utf8')).layers[0].digest;
    writeFileSync(join(layoutDir, 'blobs/sha256', layer.slice(7)), 'tampered');
    await t.rejects(importOciLayout(paths, layoutDir), { code: 'blob_digest_mismatch' });
    t.equal(listImages(paths).length, 0);
    t.notOk(blobs(paths).some((b) => b.endsWith('.tmp')), 'no temp blob left');
  });
  await t.test('a digest that would be a path', async (t) => {
    const { paths, layoutDir } = storeWith(t, [{ layers: [BASE] }]);
    writeFileSync(join(layoutDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPE.manifest, digest: 'sha256:../../../etc/passwd', size: 1 }] }));
    await t.rejects(importOciLayout(paths, layoutDir), { code: 'invalid_digest' });
  });
  await t.test('not a layout', async (t) => {
    const dir = tempDir(t);
    await t.rejects(importOciLayout(layout(join(dir, 'root')), dir), { code: 'invalid_layout' });
  });
});

t.test('load from a tar of a layout', async (t) => {
  const { dir, paths, layoutDir, made } = storeWith(t, [{ layers: [BASE], names: ['docker.io/library/fromtar:1'] }]);
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', mode: 0o644, ...meta, source: join(layoutDir, 'oci-layout') },
    { type: 'file', path: 'index.json', mode: 0o644, ...meta, source: join(layoutDir, 'index.json') },
    { type: 'dir', path: 'blobs', mode: 0o755, ...meta },
    ...readdirSync(join(layoutDir, 'blobs/sha256')).map((b): TarEntry => ({ type: 'file', path: `blobs/sha256/${b}`, mode: 0o644, ...meta, source: join(layoutDir, 'blobs/sha256', b) })),
    { type: 'file', path: '../ignored', mode: 0o644, ...meta, data: 'not part of a layout' },
  ];
  writeTarFile(join(dir, 'image.tar'), entries);
  t.same(await loadImages(paths, join(dir, 'image.tar')), [{ id: made[0]!.id, repoTags: ['fromtar:1'] }]);
  t.notOk(existsSync(join(dir, 'ignored')));
  t.same(readdirSync(paths.tmp), [], 'the unpacked tar is cleaned up');
  await t.rejects(loadImages(paths, join(dir, 'nope.tar')), { code: 'no_such_file' });
});

t.test('tag and retag: an image that loses its last tag stays as <none>', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [
    { layers: [BASE], names: ['docker.io/library/one:latest'] },
    { layers: [BASE, TOP], names: ['docker.io/library/two:latest'] },
  ]);
  await importOciLayout(paths, layoutDir);
  await tagImage(paths, 'one', 'extra:1');
  t.same(resolveImage(paths, 'extra:1')?.id, made[0]!.id);
  t.same(resolveImage(paths, 'one')?.repoTags, ['one:latest', 'extra:1']);
  await tagImage(paths, made[1]!.id.slice(7, 15), 'one'); // move one:latest to the second image
  t.equal(resolveImage(paths, 'one')?.id, made[1]!.id);
  t.same(resolveImage(paths, made[0]!.id)?.repoTags, ['extra:1']);
  await tagImage(paths, 'two', 'extra:1');
  t.same(resolveImage(paths, made[0]!.id)?.repoTags, [], 'untagged but still here');
  t.equal(listImages(paths).length, 2);
  await t.rejects(tagImage(paths, 'missing', 'x'), { code: 'no_such_image', message: 'No such image: missing' });
  await t.rejects(tagImage(paths, 'one', 'Bad'), { code: 'invalid_reference' });
  await t.rejects(tagImage(paths, 'one', `x@sha256:${'a'.repeat(64)}`), { message: 'refusing to create a tag with a digest reference' });
});

t.test('ensureLayers unpacks each layer once, by chain ID, topmost first', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE, TOP], names: ['docker.io/library/app:1'] }]);
  await importOciLayout(paths, layoutDir);
  const img = resolveImage(paths, 'app:1')!;
  const [a, b] = await Promise.all([ensureLayers(paths, img), ensureLayers(paths, img)]);
  t.same(a, b, 'concurrent callers in one process get the same answer');
  const chains = chainIds(made[0]!.diffIds);
  t.same(a, [join(paths.layers, chains[1]!.slice(7)), join(paths.layers, chains[0]!.slice(7))]);
  t.equal(readFileSync(join(a[1]!, 'etc/motd'), 'utf8'), 'hello');
  t.equal(readFileSync(join(a[0]!, 'app'), 'utf8'), 'app');
  writeFileSync(join(a[1]!, 'sentinel'), '');
  await ensureLayers(paths, img);
  t.ok(existsSync(join(a[1]!, 'sentinel')), 'not unpacked a second time');
  t.same(readdirSync(paths.layers).sort(), chains.map((c) => c.slice(7)).sort(), 'no temp dirs left');
});

t.test('processes racing to unpack the same layers all get them whole, unpacked once', async (t) => {
  const many: TarEntry[] = Array.from({ length: 3000 }, (_, i) => ({ type: 'file', path: `d${i % 30}/f${i}`, mode: 0o644, ...meta, data: `file ${i}` }));
  const { paths, layoutDir } = storeWith(t, [{ layers: [BASE, many], names: ['docker.io/library/big:1'] }]);
  await importOciLayout(paths, layoutDir);
  const store = new URL('../../lib/engine/image/store.js', import.meta.url).href;
  const script = `
    import { layout } from ${JSON.stringify(new URL('../../lib/engine/paths.js', import.meta.url).href)};
    import { ensureLayers, resolveImage } from ${JSON.stringify(store)};
    const paths = layout(process.argv[1]);
    process.stdout.write(JSON.stringify(await ensureLayers(paths, resolveImage(paths, 'big:1'))));`;
  const run = () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, paths.root]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  const results = await Promise.all([run(), run(), run(), run()]);
  for (const r of results) t.equal(r.code, 0, r.err);
  t.equal(new Set(results.map((r) => r.out)).size, 1, 'all see the same lowerdirs');
  const dirs = JSON.parse(results[0]!.out) as string[];
  t.equal(readdirSync(paths.layers).length, 2, 'two layers, no temp dirs');
  t.equal(readFileSync(join(dirs[0]!, 'd29/f2999'), 'utf8'), 'file 2999');
});

t.test('rmi: untag, delete the last, and collect what no one uses', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [
    { layers: [BASE], names: ['docker.io/library/base:1', 'docker.io/library/base:2'] },
    { layers: [BASE, TOP], names: ['docker.io/library/app:1', 'docker.io/team/app:1'] },
  ]);
  await importOciLayout(paths, layoutDir);
  for (const name of ['base:1', 'app:1']) await ensureLayers(paths, resolveImage(paths, name)!);
  const baseChain = chainIds(made[0]!.diffIds)[0]!.slice(7);
  const topChain = chainIds(made[1]!.diffIds)[1]!.slice(7);
  t.same(readdirSync(paths.layers).sort(), [baseChain, topChain].sort());

  t.same(await removeImage(paths, 'base:1'), [{ untagged: 'base:1' }], 'another tag remains: only untagged');
  t.same(await removeImage(paths, 'base:2'), [{ untagged: 'base:2' }, { deleted: made[0]!.id }]);
  t.equal(resolveImage(paths, made[0]!.id), undefined);
  t.same(readdirSync(paths.layers).sort(), [baseChain, topChain].sort(), 'the base layer is still used by app');
  t.equal(blobs(paths).length, 4, "app's manifest, config and both layers remain");

  await t.rejects(removeImage(paths, made[1]!.id.slice(7, 19)), { code: 'image_conflict', message: /must be forced/, exitCode: 1 });
  t.same(await removeImage(paths, made[1]!.id.slice(7, 19), true), [{ untagged: 'app:1' }, { untagged: 'team/app:1' }, { deleted: made[1]!.id }]);
  t.same(readdirSync(paths.layers), [], 'unpacked layers removed');
  t.same(blobs(paths), [], 'blobs removed');
  t.same(JSON.parse(readFileSync(join(paths.images, 'index.json'), 'utf8')).manifests, []);
  await t.rejects(removeImage(paths, 'app:1'), { code: 'no_such_image', message: 'No such image: app:1', exitCode: 1 });
});

t.test('rmi by ID of an image with tags in one repository removes them all', async (t) => {
  const { paths, layoutDir, made } = storeWith(t, [{ layers: [BASE], names: ['docker.io/library/base:1', 'docker.io/library/base:2'] }]);
  await importOciLayout(paths, layoutDir);
  t.same(await removeImage(paths, made[0]!.id), [{ untagged: 'base:1' }, { untagged: 'base:2' }, { deleted: made[0]!.id }]);
});
