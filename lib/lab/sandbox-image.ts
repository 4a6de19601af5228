// The busybox sandbox image (sandbox-images/busybox, built by set-up) as the lab hands it to an
// engine: the OCI layout directory for `mini-docker load -i DIR` in a lesson, or an OCI archive
// (a tar of a layout) under a name of the grader's for `ENGINE load -i FILE`, which docker,
// podman and mini-docker all read.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LabError } from './errors.js';
import { repoRoot } from './paths.js';

/** Where set-up builds the image: an OCI image layout. */
export const sandboxImageDir = join(repoRoot, 'sandbox-images', 'busybox', 'out');

/** The image's OCI layout directory; built from the host's static busybox if set-up has not. */
export async function sandboxImageLayout(): Promise<string> {
  if (existsSync(join(sandboxImageDir, 'index.json'))) return sandboxImageDir;
  const recipe = join(repoRoot, 'dist', 'sandbox-images', 'busybox', 'build.js');
  if (!existsSync(recipe)) throw new LabError('the busybox sandbox image is not built, and its recipe is not compiled', 'run the set-up (./setup.sh), or: npm run build && node dist/sandbox-images/busybox/build.js');
  const { buildBusyboxImage } = (await import(pathToFileURL(recipe).href)) as { buildBusyboxImage(out: string): Promise<unknown> };
  try {
    await buildBusyboxImage(sandboxImageDir);
  } catch (e) {
    throw new LabError(`cannot build the busybox sandbox image: ${(e as Error).message}`, 'install a static busybox: apt-get install -y busybox-static');
  }
  return sandboxImageDir;
}

interface Index {
  manifests: { annotations?: Record<string, string> }[];
}

/**
 * Write `file`: an OCI archive of the sandbox image named `name` (a full reference such as
 * localhost/container-lab-busybox:lab0123456789). The name goes in both annotations engines read:
 * containerd's io.containerd.image.name and the OCI ref.name.
 */
export async function writeSandboxArchive(file: string, name: string): Promise<void> {
  const layout = await sandboxImageLayout();
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as Index;
  for (const m of index.manifests) m.annotations = { ...m.annotations, 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name };
  const dir = mkdtempSync(join(dirname(file), '.layout-'));
  try {
    cpSync(join(layout, 'blobs'), join(dir, 'blobs'), { recursive: true });
    cpSync(join(layout, 'oci-layout'), join(dir, 'oci-layout'));
    writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
    const tar = spawnSync('tar', ['-cf', file, '-C', dir, 'oci-layout', 'index.json', 'blobs'], { encoding: 'utf8' });
    if (tar.error || tar.status !== 0) throw new LabError(`cannot write the image archive ${file}: ${tar.error?.message ?? tar.stderr.trim()}`, 'the grader needs tar on the host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
