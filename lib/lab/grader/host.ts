// What the grading host offers. A check that needs a missing capability is skipped, with the
// reason: the host's lack is not the engine's failure.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostCapability } from './check.js';

const cache = new Map<HostCapability, string | undefined>();

function probe(cap: HostCapability, tmp: string): string | undefined {
  const has = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return !r.error && r.status === 0;
  };
  switch (cap) {
    case 'host:cc-static': {
      const src = join(tmp, 'probe-static.c');
      writeFileSync(src, 'int main(void) { return 0; }\n');
      return has('cc', ['-static', '-o', join(tmp, 'probe-static'), src]) ? undefined : 'no C compiler with a static libc on the host (apt-get install -y gcc libc6-dev)';
    }
    case 'host:ipcmk':
      return has('ipcmk', ['--version']) && has('ipcrm', ['--version']) ? undefined : 'ipcmk/ipcrm are missing on the host (apt-get install -y util-linux)';
    case 'host:loop-device':
      if (!has('losetup', ['--version'])) return 'losetup is missing on the host (apt-get install -y util-linux)';
      if (!has('mkfs.ext4', ['-V'])) return 'mkfs.ext4 is missing on the host (apt-get install -y e2fsprogs)';
      return existsSync('/dev/loop-control') ? undefined : 'the kernel offers no loop devices (/dev/loop-control is missing: modprobe loop)';
    case 'host:nsenter':
      return has('nsenter', ['--version']) ? undefined : 'nsenter is missing on the host (apt-get install -y util-linux)';
  }
}

/** Why the host lacks `cap`, or undefined when it has it. */
export function missingCapability(cap: HostCapability, tmp: string): string | undefined {
  if (!cache.has(cap)) cache.set(cap, probe(cap, tmp));
  return cache.get(cap);
}
