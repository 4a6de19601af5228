// An OCI image layout on disk (image-spec image-layout.md): oci-layout, index.json and
// blobs/sha256/<hex>, and the naming of index.json entries the store and `load` share.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { writeJsonAtomic } from '../util/fs.js';
import { parseReference, type ImageRef } from './reference.js';
import { ANNOTATION, MEDIA_TYPE, digestHex, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './oci.js';

export const OCI_LAYOUT = { imageLayoutVersion: '1.0.0' };

export function blobPath(layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digestHex(digest));
}

export function readBlobJson<T>(layoutDir: string, digest: string): T {
  return JSON.parse(readFileSync(blobPath(layoutDir, digest), 'utf8')) as T;
}

/** The layout's index.json; an empty index if there is none yet. */
export function readIndex(layoutDir: string): ImageIndex {
  const path = join(layoutDir, 'index.json');
  if (!existsSync(path)) return { schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests: [] };
  return JSON.parse(readFileSync(path, 'utf8')) as ImageIndex;
}

/** Replace index.json in one step, creating the layout around it if needed. */
export function writeIndex(layoutDir: string, index: ImageIndex): void {
  mkdirSync(join(layoutDir, 'blobs', 'sha256'), { recursive: true });
  if (!existsSync(join(layoutDir, 'oci-layout'))) writeJsonAtomic(join(layoutDir, 'oci-layout'), OCI_LAYOUT);
  writeJsonAtomic(join(layoutDir, 'index.json'), index);
}

/** The image name an index entry carries (containerd's annotation), if any. */
export function entryName(desc: Descriptor): ImageRef | undefined {
  const name = desc.annotations?.[ANNOTATION.imageName];
  if (name === undefined) return undefined;
  try {
    return parseReference(name);
  } catch {
    return undefined;
  }
}

/** Point `name` at the manifest; an image that loses its last name stays, untagged. */
export function setTag(index: ImageIndex, entry: Descriptor, name: ImageRef): void {
  const displaced = index.manifests.filter((m) => entryName(m)?.canonical === name.canonical);
  index.manifests = index.manifests.filter((m) => !displaced.includes(m) && !(m.digest === entry.digest && entryName(m) === undefined));
  index.manifests.push({
    mediaType: entry.mediaType,
    digest: entry.digest,
    size: entry.size,
    annotations: { [ANNOTATION.imageName]: name.canonical, [ANNOTATION.refName]: name.tag! },
  });
  for (const d of displaced) if (d.digest !== entry.digest) addUntagged(index, d);
}

/** Keep the manifest in the index without a name, unless it is there already. */
export function addUntagged(index: ImageIndex, entry: Descriptor): void {
  if (index.manifests.some((m) => m.digest === entry.digest)) return;
  index.manifests.push({ mediaType: entry.mediaType, digest: entry.digest, size: entry.size });
}

/** config.rootfs.diff_ids, checked to pair one to one with the manifest's layers. */
export function diffIdsOf(manifest: ImageManifest, config: ImageConfig): string[] {
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (!Array.isArray(manifest.layers) || diffIds.length !== manifest.layers.length) {
    throw new EngineError('corrupt_image', `image ${manifest.config?.digest} lists ${manifest.layers?.length} layers but ${diffIds.length} diff_ids`, {
      hint: 'the image is malformed: remove it and load it again',
    });
  }
  return diffIds;
}
