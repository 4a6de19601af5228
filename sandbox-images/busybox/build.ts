// The busybox base image, built offline from the host's static busybox: one layer with
// /bin/busybox and a symlink per applet, the skeleton of docker's busybox image, and an OCI
// config and manifest. Every byte is fixed by the binary and the date, so two builds from the
// same binary give the same image ID and manifest digest.
//
//   node dist/sandbox-images/busybox/build.js [--out DIR] [--root DATAROOT] [--tag busybox:latest]
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EngineError, isEngineError, messageOf } from '../../lib/engine/errors.js';
import { layout, resolveRoot } from '../../lib/engine/paths.js';
import { importOciLayout } from '../../lib/engine/image/store.js';
import { parseReference } from '../../lib/engine/image/reference.js';
import { tarBuffer, type TarEntry } from '../../lib/engine/image/tar-write.js';
import { ANNOTATION, MEDIA_TYPE, ociArchitecture, sha256Digest, type ImageConfig, type ImageIndex, type ImageManifest } from '../../lib/engine/image/oci.js';

export const DEFAULT_TAG = 'busybox:latest';
/** 2024-01-01T00:00:00Z: the date of every file and of the image, unless SOURCE_DATE_EPOCH says otherwise. */
export const DEFAULT_EPOCH = 1704067200;
/** Bump when the recipe changes what it builds, so cached layouts are rebuilt. */
const RECIPE_VERSION = 1;
const STAMP_FILE = '.build-stamp.json';
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface BuildOptions {
  /** The static busybox binary: default $BUSYBOX, else /bin/busybox. */
  busybox?: string;
  /** Image name written into the layout's index.json. */
  tag?: string;
  /** Seconds since the epoch for all dates: default $SOURCE_DATE_EPOCH, else DEFAULT_EPOCH. */
  epoch?: number;
}

export interface BuiltImage {
  layoutDir: string;
  imageId: string;
  manifestDigest: string;
}

interface Stamp {
  recipe: number;
  busyboxSha256: string;
  epoch: number;
  tag: string;
  architecture: string;
  imageId: string;
  manifestDigest: string;
}

// Like the official image (buildroot's skeleton): https://github.com/docker-library/busybox
const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`;
/** Directories and their modes; /proc and /sys are there as mount points. */
const DIRS: Record<string, number> = {
  bin: 0o755, dev: 0o755, etc: 0o755, home: 0o755, lib: 0o755, proc: 0o555, root: 0o700, sys: 0o555,
  tmp: 0o1777, usr: 0o755, 'usr/sbin': 0o755, var: 0o755, 'var/spool': 0o755, 'var/spool/mail': 0o755, 'var/www': 0o755,
};

/** Build the busybox image as an OCI layout in `outDir` (replaced as a whole when done). */
export async function buildBusyboxImage(outDir: string, opts: BuildOptions = {}): Promise<BuiltImage> {
  const inputs = buildInputs(opts);
  const { busybox, epoch, tag } = inputs;
  const created = new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
  const applets = listApplets(busybox);
  const version = busyboxVersion(busybox);

  const meta = { uid: 0, gid: 0, mtime: epoch };
  const entries: TarEntry[] = [
    ...Object.entries(DIRS).map(([path, mode]): TarEntry => ({ type: 'dir', path, mode, ...meta })),
    { type: 'file', path: 'bin/busybox', mode: 0o755, source: busybox, ...meta },
    ...applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox', mode: 0o777, ...meta })),
    { type: 'file', path: 'etc/group', mode: 0o644, data: GROUP, ...meta },
    { type: 'file', path: 'etc/passwd', mode: 0o644, data: PASSWD, ...meta },
  ];
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  const layer = tarBuffer(entries);
  const layerDigest = sha256Digest(layer);

  const config: ImageConfig = {
    created,
    architecture: inputs.architecture,
    os: 'linux',
    config: { Env: [PATH_ENV], Cmd: ['sh'] },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
    history: [
      { created, created_by: `container-lab sandbox-images/busybox: ${version}, ${applets.length} applets linked in /bin`, comment: 'built offline from the host busybox' },
      { created, created_by: 'CMD ["sh"]', empty_layer: true },
    ],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config: { mediaType: MEDIA_TYPE.config, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: [{ mediaType: MEDIA_TYPE.layer, digest: layerDigest, size: layer.length }],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256Digest(manifestBytes);
  const ref = parseReference(tag);
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [
      {
        mediaType: MEDIA_TYPE.manifest,
        digest: manifestDigest,
        size: manifestBytes.length,
        annotations: { [ANNOTATION.imageName]: ref.canonical, [ANNOTATION.refName]: ref.tag ?? 'latest' },
      },
    ],
  };
  const stamp: Stamp = {
    recipe: RECIPE_VERSION, busyboxSha256: inputs.busyboxSha256, epoch, tag, architecture: inputs.architecture,
    imageId: manifest.config.digest, manifestDigest,
  };

  const out = resolve(outDir);
  mkdirSync(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(tmp, 'blobs', 'sha256'), { recursive: true });
    const blob = (digest: string, data: Buffer) => writeFileSync(join(tmp, 'blobs', 'sha256', digest.slice(7)), data);
    blob(layerDigest, layer);
    blob(manifest.config.digest, configBytes);
    blob(manifestDigest, manifestBytes);
    writeFileSync(join(tmp, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(tmp, 'index.json'), JSON.stringify(index));
    writeFileSync(join(tmp, STAMP_FILE), JSON.stringify(stamp, null, 2) + '\n');
    replaceDir(tmp, out, stamp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { layoutDir: out, imageId: stamp.imageId, manifestDigest };
}

/**
 * Put the busybox image into the store of data root `root` (tagged busybox:latest unless `tag`
 * says otherwise) and return its image ID. The layout is built once into
 * sandbox-images/busybox/out and reused while the busybox binary and the recipe are unchanged.
 */
export async function installBusyboxImage(root: string, opts: { tag?: string; busybox?: string } = {}): Promise<string> {
  const out = defaultOutDir();
  const inputs = buildInputs({ busybox: opts.busybox });
  if (!isFresh(out, inputs)) await buildBusyboxImage(out, { busybox: opts.busybox });
  const [image] = await importOciLayout(layout(root), out, { tag: opts.tag ?? DEFAULT_TAG });
  return image!.id;
}

/** sandbox-images/busybox/out of this checkout, found from this file (in the source or in dist). */
export function defaultOutDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new EngineError('no_project_root', 'cannot find the project root (package.json) above the busybox recipe');
    dir = up;
  }
  return join(dir, 'sandbox-images', 'busybox', 'out');
}

function buildInputs(opts: BuildOptions) {
  const busybox = opts.busybox ?? process.env.BUSYBOX ?? '/bin/busybox';
  if (!existsSync(busybox)) {
    throw new EngineError('no_busybox', `busybox not found at ${busybox}`, {
      hint: 'install a static busybox (apt-get install busybox-static) or point $BUSYBOX at one',
    });
  }
  const binary = readFileSync(busybox);
  if (!isStaticElf(binary)) {
    throw new EngineError('busybox_not_static', `${busybox} is dynamically linked`, {
      hint: 'the image has no C library: use a static busybox (Debian: busybox-static) via $BUSYBOX',
    });
  }
  const envEpoch = process.env.SOURCE_DATE_EPOCH;
  const epoch = opts.epoch ?? (envEpoch && /^\d+$/.test(envEpoch) ? Number(envEpoch) : DEFAULT_EPOCH);
  return {
    busybox,
    busyboxSha256: createHash('sha256').update(binary).digest('hex'),
    epoch,
    tag: opts.tag ?? DEFAULT_TAG,
    architecture: ociArchitecture(),
  };
}

function isFresh(out: string, inputs: ReturnType<typeof buildInputs>): boolean {
  const stamp = readStamp(out);
  return (
    stamp !== undefined &&
    stamp.recipe === RECIPE_VERSION &&
    stamp.busyboxSha256 === inputs.busyboxSha256 &&
    stamp.epoch === inputs.epoch &&
    stamp.tag === inputs.tag &&
    stamp.architecture === inputs.architecture
  );
}

function readStamp(dir: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, STAMP_FILE), 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/**
 * Move the new layout into place. If another build already put the same image there, keep
 * theirs: builds are deterministic, and a reader may be using it.
 */
function replaceDir(tmp: string, out: string, stamp: Stamp): void {
  if (existsSync(out)) {
    if (readStamp(out)?.manifestDigest === stamp.manifestDigest) return;
    const old = join(dirname(out), `.${basename(out)}.old-${randomBytes(4).toString('hex')}`);
    renameSync(out, old);
    rmSync(old, { recursive: true, force: true });
  }
  try {
    renameSync(tmp, out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOTEMPTY' || code === 'EEXIST') && readStamp(out)?.manifestDigest === stamp.manifestDigest) return;
    throw e;
  }
}

function listApplets(busybox: string): string[] {
  const names = execFileSync(busybox, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'busybox' && !s.includes('/'));
  return [...new Set(names)].sort();
}

function busyboxVersion(busybox: string): string {
  // `busybox --help` exits 0 on some builds and 1 on others; only its first line matters.
  let text: string;
  try {
    text = execFileSync(busybox, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    text = String((e as { stdout?: string }).stdout ?? '');
  }
  return /BusyBox v[^\s]+/.exec(text)?.[0] ?? 'BusyBox';
}

/** An ELF file with no PT_INTERP program header needs no dynamic loader (elf(5)). */
function isStaticElf(b: Buffer): boolean {
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46) return false;
  const is64 = b[4] === 2;
  const le = b[5] === 1;
  const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const phoff = is64 ? Number(le ? b.readBigUInt64LE(0x20) : b.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) if (u32(phoff + i * phentsize) === PT_INTERP) return false;
  return true;
}

async function main(argv: string[]): Promise<number> {
  const opts: { out?: string; root?: string; tag?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--out') opts.out = value();
    else if (flag === '--root') opts.root = value();
    else if (flag === '--tag') opts.tag = value();
    else if (flag === '-h' || flag === '--help') {
      process.stdout.write('Usage: node dist/sandbox-images/busybox/build.js [--out DIR] [--root DATAROOT] [--tag busybox:latest]\n');
      return 0;
    } else {
      process.stderr.write(`build: unknown flag ${flag}\n`);
      return 2;
    }
  }
  try {
    const tag = opts.tag ?? DEFAULT_TAG;
    const built = await buildBusyboxImage(opts.out ?? defaultOutDir(), { tag });
    const [image] = await importOciLayout(layout(resolveRoot(opts.root)), built.layoutDir, { tag });
    process.stdout.write(`${image!.id}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`build: ${messageOf(e)}\n`);
    if (isEngineError(e) && e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    return isEngineError(e) ? e.exitCode : 1;
  }
}

const invokedAs = process.argv[1];
if (invokedAs && import.meta.url === pathToFileURL(realpathSync(invokedAs)).href) {
  process.exitCode = await main(process.argv.slice(2));
}

