// run = create + start (+ remove, with --rm, once a foreground container exited).
import type { Layout } from '../paths.js';
import type { RunRequest } from './config.js';
import { createContainer } from './create.js';
import { startContainer, type StartOptions } from './start.js';
import { destroyContainer } from './lifecycle.js';

export async function runContainer(paths: Layout, req: RunRequest, opts: Omit<StartOptions, 'mode'> = {}): Promise<{ id: string; exitCode?: number }> {
  const config = await createContainer(paths, req);
  if (req.detach) {
    try {
      await startContainer(paths, config.id, { ...opts, mode: 'detached' });
    } catch (e) {
      if (req.autoRemove) await destroyContainer(paths, config.id);
      throw e;
    }
    return { id: config.id };
  }
  try {
    return { id: config.id, exitCode: await startContainer(paths, config.id, { ...opts, mode: 'foreground' }) };
  } finally {
    if (req.autoRemove) await destroyContainer(paths, config.id);
  }
}
