// Where a container's "/" comes from: an image's unpacked layers (an overlay), or a plain
// directory given with --rootfs.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import type { ContainerConfig, ImageRunConfig } from './config.js';

export interface Rootfs {
  /** The directory that becomes "/" inside, for --rootfs. */
  dir: string;
  /** Image layers (topmost first), when the rootfs is an overlay of an image. */
  lowerdirs?: string[];
  imageConfig: ImageRunConfig;
  imageId?: string;
  imageName: string;
}

/** The rootfs a new container asks for: --rootfs DIR, or an image by reference. */
export async function rootfsForRequest(paths: Layout, req: { rootfs?: string; image?: string }): Promise<Rootfs> {
  if (req.rootfs) return { dir: req.rootfs, imageConfig: {}, imageName: req.rootfs };
  const { parseReference } = await import('../image/reference.js');
  const { resolveImage, ensureLayers } = await import('../image/store.js');
  const ref = parseReference(req.image!);
  const image = resolveImage(paths, req.image!);
  if (!image) {
    throw new EngineError('no_such_image', `Unable to find image '${ref.familiar}' locally`, {
      hint: 'build or load it first (mini-docker images lists what is here; the busybox sandbox image comes with set-up)',
    });
  }
  const lowerdirs = await ensureLayers(paths, image);
  return { dir: '', lowerdirs, imageConfig: image.config.config ?? {}, imageId: image.id, imageName: req.image! };
}

/** The rootfs of an existing container, for start and restart. */
export async function rootfsForConfig(paths: Layout, config: ContainerConfig): Promise<Rootfs> {
  if (config.rootfs) return { dir: config.rootfs, imageConfig: {}, imageName: config.rootfs };
  const { resolveImage, ensureLayers } = await import('../image/store.js');
  const image = resolveImage(paths, config.imageId!);
  if (!image) {
    throw new EngineError('image_gone', `the image of container ${config.name} (${config.imageId!.slice(7, 19)}) is no longer in the store`, {
      hint: 'load the image again, or remove the container',
    });
  }
  return { dir: '', lowerdirs: await ensureLayers(paths, image), imageConfig: image.config.config ?? {}, imageId: image.id, imageName: config.image };
}

/** A file of the container's rootfs, read from the host before anything is mounted. */
export function readRootfsFile(rootfs: Rootfs, rel: string): string | undefined {
  const dirs = rootfs.lowerdirs ?? [rootfs.dir];
  for (const d of dirs) {
    const p = join(d, rel);
    try {
      const st = lstatSync(p);
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // an overlay whiteout: deleted above
      return readFileSync(p, 'utf8');
    } catch {
      // not in this layer: look below
    }
  }
  return undefined;
}

