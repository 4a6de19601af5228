import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_ROOT = '/var/lib/mini-docker';

/** The data root: --root, else MINI_DOCKER_ROOT, else /var/lib/mini-docker. */
export function resolveRoot(flag?: string): string {
  return flag || process.env.MINI_DOCKER_ROOT || DEFAULT_ROOT;
}

/** Where each kind of state lives under a data root (see ARCHITECTURE.md, "State on disk"). */
export function layout(root: string) {
  return {
    root,
    images: join(root, 'images'),
    layers: join(root, 'layers'),
    containers: join(root, 'containers'),
    volumes: join(root, 'volumes'),
    networks: join(root, 'networks'),
    tmp: join(root, 'tmp'),
    lock: join(root, 'lock'),
  };
}
export type Layout = ReturnType<typeof layout>;

/**
 * Where container-lab is installed (the folder with package.json and native/): found by walking up
 * from this module, so that it holds for dist/lib/... and for the bundled dist/mini-docker.mjs.
 */
export function installRoot(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== '/'; d = dirname(d)) {
    if (existsSync(join(d, 'native', 'shim', 'shim.c'))) return d;
  }
  throw new Error('container-lab: cannot find its own install folder (native/shim/shim.c)');
}
