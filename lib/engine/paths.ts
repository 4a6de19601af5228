import { join } from 'node:path';

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
