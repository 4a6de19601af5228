// The image store: an OCI image layout (see oci-layout.ts) under <root>/images, so any
// OCI tool can read it, plus each layer unpacked once under <root>/layers/<chain ID> for overlayfs.
// index.json holds one entry per tag, named as containerd names them; an image whose last tag
// moved elsewhere keeps one entry without a name (docker's "<none>" image).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';
import type { Layout } from '../paths.js';
import { withLock } from '../util/fs.js';
import { unpackLayer } from '../storage/unpack.js';
import { isImageIdPrefix, parseReference, parseTagName, type ImageRef } from './reference.js';
import { MEDIA_TYPE, chainIds, digestHex, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './oci.js';
import { blobPath, diffIdsOf, entryName, readBlobJson, readIndex, setTag, writeIndex } from './oci-layout.js';

// Importing lives in import.ts; the store's API is here in one place.
export { importOciLayout, loadImages, type ImportedImage } from './import.js';

export interface LayerRecord {
  digest: string;
  /** Digest of the uncompressed layer (config.rootfs.diff_ids). */
  diffId: string;
  /** Size of the layer blob as stored. */
  size: number;
  mediaType: string;
}

export interface ImageRecord {
  /** The config's digest, as docker names images: 'sha256:<64 hex>'. */
  id: string;
  manifestDigest: string;
  /** Docker's short names, e.g. 'busybox:latest'; empty for an untagged image. */
  repoTags: string[];
  config: ImageConfig;
  layers: LayerRecord[];
  created: string;
  /** Sum of the layer blob sizes. */
  size: number;
}

export type RemoveEvent = { untagged: string } | { deleted: string };

const UNPACKABLE = new Set<string>([MEDIA_TYPE.layer, MEDIA_TYPE.layerGzip, MEDIA_TYPE.dockerLayer, 'application/vnd.docker.image.rootfs.diff.tar']);

// ---------------------------------------------------------------------------------------------
// Reading

/** Find an image by reference (busybox, busybox:latest, docker.io/library/busybox:latest,
 *  name@sha256:...) or by ID or a prefix of it (with or without 'sha256:'). */
export function resolveImage(paths: Layout, refOrIdPrefix: string): ImageRecord | undefined {
  const images = readImages(paths);
  const ref = tryParseReference(refOrIdPrefix);
  if (ref) {
    const found = images.find((img) =>
      ref.digest !== undefined ? img.manifestDigest === ref.digest : img.repoTags.includes(ref.familiar),
    );
    if (found) return found;
  }
  if (isImageIdPrefix(refOrIdPrefix)) return findById(images, refOrIdPrefix);
  if (!ref) parseReference(refOrIdPrefix); // throws docker's "invalid reference format"
  return undefined;
}

/** The reference, or undefined if `s` is no valid reference (it may still be an image ID). */
function tryParseReference(s: string): ImageRef | undefined {
  try {
    return parseReference(s);
  } catch {
    return undefined;
  }
}

/** Like resolveImage, but a missing image is docker's "No such image" error. */
export function requireImage(paths: Layout, refOrIdPrefix: string): ImageRecord {
  const img = resolveImage(paths, refOrIdPrefix);
  if (!img) throw noSuchImage(refOrIdPrefix);
  return img;
}

/**
 * The images in the store, newest first. With `reference` ('busybox', 'busybox:1.36', or a
 * pattern like 'busy*'), only images with a matching tag, and only those tags.
 */
export function listImages(paths: Layout, opts: { reference?: string } = {}): ImageRecord[] {
  let images = readImages(paths);
  if (opts.reference !== undefined) {
    const matches = tagMatcher(opts.reference);
    images = images
      .map((img) => ({ ...img, repoTags: img.repoTags.filter(matches) }))
      .filter((img) => img.repoTags.length > 0);
  }
  return images.sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
}

function tagMatcher(reference: string): (familiarTag: string) => boolean {
  if (/[*?[]/.test(reference)) {
    // docker's FamiliarMatch: path.Match against the short name with and without its tag.
    const re = globToRegExp(reference);
    return (tag) => re.test(tag) || re.test(tag.slice(0, tag.lastIndexOf(':')));
  }
  const ref = parseReference(reference);
  const tagGiven = reference.lastIndexOf(':') > reference.lastIndexOf('/');
  return (tag) => {
    const t = parseReference(tag);
    return tagGiven ? t.canonical === ref.canonical : t.repository === ref.repository;
  };
}

function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (const c of pattern) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[\\^$.|+(){}[\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function findById(images: ImageRecord[], prefix: string): ImageRecord | undefined {
  const hex = prefix.replace(/^sha256:/, '');
  const ids = [...new Set(images.filter((img) => img.id.slice(7).startsWith(hex)).map((img) => img.id))];
  if (ids.length > 1) {
    throw new EngineError('ambiguous_image_id', `image ID prefix ${hex} is ambiguous: it matches ${ids.map((id) => id.slice(7, 19)).join(', ')}`, {
      exitCode: 1,
      hint: 'give more characters of the image ID',
    });
  }
  return images.find((img) => img.id === ids[0]);
}

/** Every image in the index, one record per manifest; entries whose blobs are gone are skipped. */
function readImages(paths: Layout): ImageRecord[] {
  const byManifest = new Map<string, ImageRecord>();
  for (const desc of readIndex(paths.images).manifests) {
    let img = byManifest.get(desc.digest);
    if (!img) {
      img = readImage(paths, desc.digest);
      if (!img) continue;
      byManifest.set(desc.digest, img);
    }
    const name = entryName(desc);
    if (name !== undefined && !img.repoTags.includes(name.familiar)) img.repoTags.push(name.familiar);
  }
  return [...byManifest.values()];
}

function readImage(paths: Layout, manifestDigest: string): ImageRecord | undefined {
  try {
    const manifest = readBlobJson<ImageManifest>(paths.images, manifestDigest);
    const config = readBlobJson<ImageConfig>(paths.images, manifest.config.digest);
    return imageRecord(manifestDigest, manifest, config);
  } catch (e) {
    // A blob removed by a concurrent `rmi` after we read index.json: that image is gone.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function imageRecord(manifestDigest: string, manifest: ImageManifest, config: ImageConfig): ImageRecord {
  const diffIds = diffIdsOf(manifest, config);
  const layers = manifest.layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i]!, size: l.size, mediaType: l.mediaType }));
  return {
    id: manifest.config.digest,
    manifestDigest,
    repoTags: [],
    config,
    layers,
    created: config.created ?? '',
    size: layers.reduce((n, l) => n + l.size, 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Tags

/** Give the image SOURCE (reference or ID) the name TARGET, as `docker tag` does. */
export async function tagImage(paths: Layout, source: string, target: string): Promise<void> {
  const name = parseTagName(target);
  await withLock(paths.lock, () => {
    const img = requireImage(paths, source);
    const index = readIndex(paths.images);
    setTag(index, manifestEntry(index, img.manifestDigest), name);
    writeIndex(paths.images, index);
  });
}

function manifestEntry(index: ImageIndex, manifestDigest: string): Descriptor {
  const d = index.manifests.find((m) => m.digest === manifestDigest)!;
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

// ---------------------------------------------------------------------------------------------
// Removing

/**
 * `docker rmi`: by name, remove that tag (and the image with its last tag); by ID, remove the
 * image and all its tags, which needs `force` if they span several repositories. Blobs and
 * unpacked layers no other image uses are deleted.
 */
export async function removeImage(paths: Layout, refOrId: string, force = false): Promise<RemoveEvent[]> {
  return withLock(paths.lock, () => {
    const index = readIndex(paths.images);
    const events: RemoveEvent[] = [];
    const ref = isImageIdPrefix(refOrId) ? tryParseReference(refOrId) : parseReference(refOrId);
    const named = ref && index.manifests.find((m) => entryName(m)?.canonical === ref.canonical);
    let manifestDigest: string;
    if (ref && named) {
      manifestDigest = named.digest;
      index.manifests = index.manifests.filter((m) => m !== named);
      events.push({ untagged: ref.familiar });
    } else {
      const img = isImageIdPrefix(refOrId) ? findById(readImages(paths), refOrId) : undefined;
      if (!img) throw noSuchImage(ref?.familiar ?? refOrId);
      manifestDigest = img.manifestDigest;
      const repos = new Set(img.repoTags.map((t) => parseReference(t).repository));
      if (repos.size > 1 && !force) {
        throw new EngineError('image_conflict', `conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, {
          exitCode: 1,
          hint: 'remove the tags one by one, or use -f to remove them all',
        });
      }
      index.manifests = index.manifests.filter((m) => m.digest !== manifestDigest);
      for (const tag of img.repoTags) events.push({ untagged: tag });
    }
    if (!index.manifests.some((m) => m.digest === manifestDigest)) {
      const gone = readImage(paths, manifestDigest);
      writeIndex(paths.images, index);
      if (gone) {
        deleteUnused(paths, gone, index);
        events.push({ deleted: gone.id });
      }
    } else {
      writeIndex(paths.images, index);
    }
    return events;
  });
}

/** Delete the blobs and unpacked layers of a removed image that no remaining image uses. */
function deleteUnused(paths: Layout, gone: ImageRecord, index: ImageIndex): void {
  const keepBlobs = new Set<string>();
  const keepChains = new Set<string>();
  for (const digest of new Set(index.manifests.map((m) => m.digest))) {
    const img = readImage(paths, digest);
    if (!img) continue;
    keepBlobs.add(img.manifestDigest).add(img.id);
    for (const l of img.layers) keepBlobs.add(l.digest);
    for (const c of chainIds(img.layers.map((l) => l.diffId))) keepChains.add(c);
  }
  for (const digest of [gone.manifestDigest, gone.id, ...gone.layers.map((l) => l.digest)]) {
    if (!keepBlobs.has(digest)) rmSync(blobPath(paths.images, digest), { force: true });
  }
  for (const chain of chainIds(gone.layers.map((l) => l.diffId))) {
    if (!keepChains.has(chain)) removeLayerDir(paths, chain);
  }
}

/** Rename first, so that no one ever sees a half-deleted layer under its real name. */
function removeLayerDir(paths: Layout, chainId: string): void {
  const dir = join(paths.layers, digestHex(chainId));
  if (!existsSync(dir)) return;
  const doomed = join(paths.layers, `.${digestHex(chainId)}.delete-${randomBytes(4).toString('hex')}`);
  explain('rm', `layer ${dir}`);
  renameSync(dir, doomed);
  rmSync(doomed, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Layers for overlayfs

/**
 * Unpack the image's layers that are not unpacked yet, each into <root>/layers/<chain ID hex>,
 * and return those directories topmost first (the order of overlayfs' lowerdir).
 */
export async function ensureLayers(paths: Layout, image: ImageRecord): Promise<string[]> {
  const chains = chainIds(image.layers.map((l) => l.diffId));
  const dirs = chains.map((c) => join(paths.layers, digestHex(c)));
  if (dirs.some((d) => !existsSync(d))) {
    await withLock(paths.lock, async () => {
      mkdirSync(paths.layers, { recursive: true });
      for (const [i, layer] of image.layers.entries()) {
        if (existsSync(dirs[i]!)) continue; // unpacked by another process while we waited
        if (!UNPACKABLE.has(layer.mediaType)) {
          throw new EngineError('unsupported_layer', `layer ${layer.digest} has media type ${layer.mediaType}, which mini-docker cannot unpack`, {
            hint: 'mini-docker unpacks tar and tar+gzip layers',
          });
        }
        const blob = blobPath(paths.images, layer.digest);
        if (!existsSync(blob)) {
          throw new EngineError('missing_blob', `layer ${layer.digest} of image ${image.id.slice(7, 19)} is missing from the store`, {
            hint: 'the image was removed meanwhile, or the store is damaged: load the image again',
          });
        }
        await unpackLayer(blob, dirs[i]!, { expectDiffId: layer.diffId });
      }
    });
  }
  return [...dirs].reverse();
}

function noSuchImage(name: string): EngineError {
  return new EngineError('no_such_image', `No such image: ${name}`, { exitCode: 1, hint: "'mini-docker images' lists the images here" });
}
