// The OCI image format's documents and digests (github.com/opencontainers/image-spec), as data.
import { createHash } from 'node:crypto';
import { EngineError } from '../errors.js';

export const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Annotations on index.json entries: the tag (OCI) and the full image name (containerd). */
export const ANNOTATION = {
  refName: 'org.opencontainers.image.ref.name',
  imageName: 'io.containerd.image.name',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** The `config` of an image config: what a container started from it gets by default. */
export interface ContainerDefaults {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[] | null;
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: ContainerDefaults;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
}

const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The hex of a sha256 digest, checked: digests from a layout name files on disk, so anything but
 * 64 lowercase hex digits is refused before it becomes part of a path.
 */
export function digestHex(digest: string): string {
  if (!SHA256_DIGEST.test(digest)) {
    throw new EngineError('invalid_digest', `invalid or unsupported digest: ${JSON.stringify(digest)}`, {
      hint: 'mini-docker handles sha256 digests only (sha256:<64 hex digits>)',
    });
  }
  return digest.slice('sha256:'.length);
}

export function isDigest(s: string): boolean {
  return SHA256_DIGEST.test(s);
}

// #region lesson-10-chainid
/**
 * The chain ID of each layer (image-spec config.md, "Layer ChainID"): a layer's content on disk
 * depends on every layer beneath it, so its unpacked directory is named for the whole stack.
 * ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
 */
export function chainIds(diffIds: string[]): string[] {
  const chain: string[] = [];
  for (const diffId of diffIds) {
    const parent = chain[chain.length - 1];
    chain.push(parent === undefined ? diffId : sha256Digest(`${parent} ${diffId}`));
  }
  return chain;
}
// #endregion lesson-10-chainid

/** OCI's names for Node's process.arch values (image-spec config.md, "architecture"). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = {
    x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x',
    riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle',
  };
  return names[arch] ?? arch;
}

export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE.manifest || mediaType === MEDIA_TYPE.dockerManifest;
}

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MEDIA_TYPE.index || mediaType === MEDIA_TYPE.dockerManifestList;
}
