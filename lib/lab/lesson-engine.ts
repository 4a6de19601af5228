// For lessons that use images and containers that outlive a command (detached, restarted): the
// busybox image for the lesson's engine, and, when the lesson ends however it ends, the removal of
// every container of the lesson's data root (its monitor included), so nothing keeps running.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { act, type ActStep } from './lesson.js';
import { referenceEngine } from './paths.js';
import { cmdline, isAlive, startTimeOf } from './proc.js';
import { sandboxImageLayout } from './sandbox-image.js';

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** `mini-docker rm -f` every container of a data root; then kill what still runs of them. */
export function removeEngineContainers(root: string): void {
  const dir = join(root, 'containers');
  const ids = existsSync(dir) ? readdirSync(dir).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
  if (!ids.length) return;
  spawnSync(referenceEngine(), ['rm', '-f', ...ids], { env: { ...process.env, MINI_DOCKER_ROOT: root }, stdio: 'ignore', timeout: 60_000 });
  for (const id of ids) {
    try {
      const st = JSON.parse(readFileSync(join(dir, id, 'state.json'), 'utf8')) as { pid?: number; pidStartTime?: string; shimPid?: number };
      if (st.pid && st.pid > 0 && isAlive(st.pid) && startTimeOf(st.pid) === st.pidStartTime) kill(st.pid);
      if (st.shimPid && st.shimPid > 0 && cmdline(st.shimPid)?.[0]?.startsWith(`mini-docker-shim [${id.slice(0, 12)}]`)) kill(st.shimPid);
    } catch {
      // removed, or never started
    }
  }
}

/**
 * A lesson's first step when it uses images: $BUSYBOX_OCI is the sandbox image's OCI layout (for
 * `mini-docker load -i`), and every container the lesson makes is removed when it ends.
 */
export function prepareEngine(): ActStep {
  return act('Prepare the lesson\'s engine: the busybox image at hand, its containers removed at the end', async (ctx) => {
    ctx.vars.BUSYBOX_OCI = await sandboxImageLayout();
    const root = ctx.vars.MINI_DOCKER_ROOT!;
    ctx.defer(`the containers of the lesson's engine (${root})`, () => removeEngineContainers(root));
    return `BUSYBOX_OCI=${ctx.vars.BUSYBOX_OCI}`;
  });
}
