// The image checks run containers from (lesson 10 on): the busybox sandbox image, handed to the
// engine as an OCI archive through its own `load -i`, under a random name, once per grading, and
// removed from the engine's store (`rmi`) when grading ends: podman's store is the host's.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CleanupStack } from '../cleanup.js';
import { writeSandboxArchive } from '../sandbox-image.js';
import { described } from './check.js';
import { CheckAbort, spawnEngine, type EngineSpec } from './context.js';

export class GradeImage {
  private loading?: Promise<string>;

  /** `stack` outlives the checks (the grading's own); `dir` is the grader's directory. */
  constructor(
    private readonly engine: EngineSpec,
    private readonly dir: string,
    private readonly stack: CleanupStack,
  ) {}

  /** The image's name in the engine's store; loaded on first use. */
  get(): Promise<string> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<string> {
    const tag = `lab${randomBytes(5).toString('hex')}`;
    const name = `localhost/container-lab-busybox:${tag}`;
    const file = join(this.dir, `busybox-${tag}.tar`);
    await writeSandboxArchive(file, name);
    this.stack.defer(`the image ${name} in the engine's store`, async () => {
      await spawnEngine(this.engine, ['rmi', name], { timeoutMs: 60_000 }).result;
    });
    const r = await spawnEngine(this.engine, ['load', '-i', file], { timeoutMs: 120_000 }).result;
    if (r.code !== 0) throw new CheckAbort(`the engine cannot load the busybox image (an OCI archive) with \`load -i FILE\`: ${described(r)}`);
    return name;
  }
}
