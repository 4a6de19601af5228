// `docker load`: images from an OCI layout (a directory, or a tar of one) into the store.
// Every blob is checked against its digest on the way in; a layout is untrusted input.
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import { withLock } from '../util/fs.js';
import { openTar, readTar } from './tar-read.js';
import { isValidTag, parseReference, parseTagName, type ImageRef } from './reference.js';
import { isIndexType, isManifestType, ociArchitecture, ANNOTATION, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './oci.js';
import { addUntagged, blobPath, diffIdsOf, readBlobJson, readIndex, setTag, writeIndex } from './oci-layout.js';

export interface ImportedImage {
  id: string;
  /** The tags given to it by this import, e.g. ['busybox:latest']. */
  repoTags: string[];
}

/**
 * `docker load`: import an OCI layout given as a directory or as a tar of one (plain or gzip).
 * From a tar only the layout's own files are taken (oci-layout, index.json, blobs/sha256/*).
 */
export async function loadImages(paths: Layout, input: string, opts: { tag?: string } = {}): Promise<ImportedImage[]> {
  const st = statSync(input, { throwIfNoEntry: false });
  if (!st) throw new EngineError('no_such_file', `open ${input}: no such file or directory`, { exitCode: 1, hint: 'give an OCI layout directory or a tar of one with -i PATH' });
  if (st.isDirectory()) return importOciLayout(paths, input, opts);
  mkdirSync(paths.tmp, { recursive: true });
  const dir = mkdtempSync(join(paths.tmp, 'load-'));
  try {
    await extractLayoutFiles(input, dir);
    return await importOciLayout(paths, dir, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LAYOUT_FILE = /^(?:oci-layout|index\.json|blobs\/sha256\/[a-f0-9]{64})$/;

async function extractLayoutFiles(tarPath: string, dir: string): Promise<void> {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for await (const entry of readTar(openTar(tarPath))) {
    const name = entry.path.replace(/^(?:\.\/)+/, '');
    if (entry.type !== 'file' || !LAYOUT_FILE.test(name)) continue;
    await pipeline(entry.body(), createWriteStream(join(dir, name)));
  }
}

interface SourceImage {
  manifest: Descriptor;
  names: ImageRef[];
}

/**
 * Copy the images of an OCI layout directory into the store, checking every blob's digest, and
 * tag them with the names the layout's index.json gives (or with `opts.tag`).
 */
export async function importOciLayout(paths: Layout, layoutDir: string, opts: { tag?: string } = {}): Promise<ImportedImage[]> {
  const sources = readSourceImages(layoutDir);
  if (opts.tag !== undefined) {
    if (new Set(sources.map((s) => s.manifest.digest)).size > 1) {
      throw new EngineError('ambiguous_tag', `${layoutDir} holds ${sources.length} images; --tag names one`, { hint: 'load it without --tag, then tag the image you want' });
    }
    const tag = parseTagName(opts.tag);
    sources.splice(1);
    sources[0]!.names = [tag];
  }
  return withLock(paths.lock, async () => {
    const imported: ImportedImage[] = [];
    const index = readIndex(paths.images);
    for (const src of sources) {
      const id = await copyImageBlobs(paths, layoutDir, src.manifest);
      const entry = { mediaType: src.manifest.mediaType, digest: src.manifest.digest, size: src.manifest.size };
      if (src.names.length === 0) addUntagged(index, entry);
      for (const name of src.names) setTag(index, entry, name);
      imported.push({ id, repoTags: src.names.map((n) => n.familiar) });
    }
    writeIndex(paths.images, index);
    return imported;
  });
}

function readSourceImages(layoutDir: string): SourceImage[] {
  const notLayout = (why: string) =>
    new EngineError('invalid_layout', `${layoutDir} is not an OCI image layout: ${why}`, {
      hint: 'expected a directory (or a tar of one) with oci-layout, index.json and blobs/sha256/',
    });
  let index: ImageIndex;
  try {
    const version = (JSON.parse(readFileSync(join(layoutDir, 'oci-layout'), 'utf8')) as { imageLayoutVersion?: string }).imageLayoutVersion;
    if (version !== '1.0.0') throw notLayout(`unknown imageLayoutVersion ${JSON.stringify(version)}`);
    index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as ImageIndex;
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw notLayout((e as Error).message);
  }
  if (!Array.isArray(index.manifests)) throw notLayout('index.json has no manifests');
  const sources: SourceImage[] = [];
  for (const desc of index.manifests) {
    const names = sourceNames(desc);
    if (isManifestType(desc.mediaType)) sources.push({ manifest: desc, names });
    else if (isIndexType(desc.mediaType)) sources.push({ manifest: pickPlatform(layoutDir, desc), names });
  }
  if (sources.length === 0) throw notLayout('index.json lists no image manifest');
  return sources;
}

/** The names an index entry gives: containerd's full name, or a full reference as ref.name. */
function sourceNames(desc: Descriptor): ImageRef[] {
  const full = desc.annotations?.[ANNOTATION.imageName];
  if (full !== undefined) return [parseReference(full)];
  const refName = desc.annotations?.[ANNOTATION.refName];
  // A bare ref.name ('latest') is only a tag, with no repository to put it in.
  if (refName !== undefined && !isValidTag(refName)) return [parseReference(refName)];
  return [];
}

/** From a multi-platform index, the manifest for this machine. */
function pickPlatform(layoutDir: string, indexDesc: Descriptor): Descriptor {
  const nested = readBlobJson<ImageIndex>(layoutDir, indexDesc.digest);
  const arch = ociArchitecture();
  const match = nested.manifests.find((m) => isManifestType(m.mediaType) && m.platform?.os === 'linux' && m.platform.architecture === arch);
  if (!match) {
    throw new EngineError('no_matching_platform', `no image for linux/${arch} in ${indexDesc.digest}`, { hint: 'load an image built for this machine' });
  }
  return match;
}

/** Copy one image's manifest, config and layers into the store; returns the image ID. */
async function copyImageBlobs(paths: Layout, layoutDir: string, manifestDesc: Descriptor): Promise<string> {
  await copyBlob(paths, layoutDir, manifestDesc);
  const manifest = readBlobJson<ImageManifest>(paths.images, manifestDesc.digest);
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new EngineError('invalid_manifest', `manifest ${manifestDesc.digest} has no config or no layers`);
  }
  await copyBlob(paths, layoutDir, manifest.config);
  const config = readBlobJson<ImageConfig>(paths.images, manifest.config.digest);
  diffIdsOf(manifest, config);
  for (const layer of manifest.layers) await copyBlob(paths, layoutDir, layer);
  return manifest.config.digest;
}

/** Copy a blob unless the store has it, refusing content that does not match its digest. */
async function copyBlob(paths: Layout, layoutDir: string, desc: Descriptor): Promise<void> {
  const dst = blobPath(paths.images, desc.digest);
  if (existsSync(dst)) return;
  const src = blobPath(layoutDir, desc.digest);
  if (!existsSync(src)) throw new EngineError('missing_blob', `${layoutDir} lacks blob ${desc.digest}`, { hint: 'the layout is incomplete' });
  mkdirSync(join(paths.images, 'blobs', 'sha256'), { recursive: true });
  const tmp = `${dst}.${randomBytes(4).toString('hex')}.tmp`;
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      createReadStream(src),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const c of chunks) {
          hash.update(c);
          size += c.length;
          yield c;
        }
      },
      createWriteStream(tmp),
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== desc.digest || size !== desc.size) {
      throw new EngineError('blob_digest_mismatch', `blob ${desc.digest} in ${layoutDir} has digest ${actual} and size ${size} (expected size ${desc.size})`, {
        hint: 'the layout is damaged',
      });
    }
    renameSync(tmp, dst);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
