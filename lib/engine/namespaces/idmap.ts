import { writeFileSync } from 'node:fs';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';

/** One line of /proc/PID/uid_map: container ids [inside, inside+size) are host ids [host, ...). */
export interface IdMapping {
  inside: number;
  host: number;
  size: number;
}

const MAX_ID = 2 ** 32 - 1;

/** Parse podman's --uidmap/--gidmap form "CONTAINER:HOST:SIZE". */
export function parseIdMapping(spec: string, flag = '--uidmap'): IdMapping {
  const m = /^(\d+):(\d+):(\d+)$/.exec(spec.trim());
  if (!m) {
    throw new EngineError('bad_idmap', `invalid ${flag} "${spec}": expected CONTAINER_ID:HOST_ID:SIZE`, {
      hint: `for example ${flag} 0:100000:65536 maps root inside to uid 100000 on the host`,
    });
  }
  const [inside, host, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (size < 1) throw new EngineError('bad_idmap', `invalid ${flag} "${spec}": SIZE must be at least 1`);
  if (inside + size - 1 > MAX_ID || host + size - 1 > MAX_ID) {
    throw new EngineError('bad_idmap', `invalid ${flag} "${spec}": the range goes past ${MAX_ID}`);
  }
  return { inside, host, size };
}

/** The kernel refuses overlapping ranges (user_namespaces(7)); say so before it does. */
export function validateIdMappings(maps: IdMapping[], flag = '--uidmap'): void {
  if (maps.length > 340) throw new EngineError('bad_idmap', `too many ${flag} ranges (the kernel takes at most 340)`);
  const overlap = (a0: number, a1: number, b0: number, b1: number) => a0 < b1 && b0 < a1;
  for (let i = 0; i < maps.length; i++) {
    for (let j = i + 1; j < maps.length; j++) {
      const a = maps[i]!;
      const b = maps[j]!;
      if (overlap(a.inside, a.inside + a.size, b.inside, b.inside + b.size) || overlap(a.host, a.host + a.size, b.host, b.host + b.size)) {
        throw new EngineError('bad_idmap', `${flag} ranges ${a.inside}:${a.host}:${a.size} and ${b.inside}:${b.host}:${b.size} overlap`);
      }
    }
  }
}

export function formatIdMap(maps: IdMapping[]): string {
  return maps.map((m) => `${m.inside} ${m.host} ${m.size}`).join('\n') + '\n';
}

/** Map a container id to the host id it is, or undefined when it is not mapped. */
export function hostId(maps: IdMapping[], inside: number): number | undefined {
  for (const m of maps) if (inside >= m.inside && inside < m.inside + m.size) return m.host + (inside - m.inside);
  return undefined;
}

/**
 * Written from outside, by the engine (root on the host), while the child waits: a process
 * privileged in the parent namespace may write any mapping, including gid_map without first
 * denying setgroups.
 */
export function writeIdMaps(pid: number, uidMap: IdMapping[], gidMap: IdMapping[]): void {
  const u = formatIdMap(uidMap);
  const g = formatIdMap(gidMap);
  explain('write', `/proc/${pid}/uid_map <- ${JSON.stringify(u.trim())}`);
  writeFileSync(`/proc/${pid}/uid_map`, u);
  explain('write', `/proc/${pid}/gid_map <- ${JSON.stringify(g.trim())}`);
  writeFileSync(`/proc/${pid}/gid_map`, g);
}
