// Which cgroup version does this host run? Pure v2: <root> itself is the cgroup2 mount (it has
// cgroup.controllers). v1: controller hierarchies are mounted below <root>. Hybrid (systemd's
// old default, and this lab's machines): v1 hierarchies plus a cgroup2 at <root>/unified that
// holds no controllers; the limits then live in v1, so hybrid is driven as v1.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import { readText } from './cgfs.js';
import type { CgroupDriver } from './driver.js';
import { V1Driver, v1Mounts, type V1Mounts } from './v1.js';
import { V2Driver } from './v2.js';

export interface DetectOptions {
  /** default $MINI_DOCKER_CGROUP_ROOT, else /sys/fs/cgroup */
  root?: string;
  /** default $MINI_DOCKER_CGROUP_VERSION, else detected */
  force?: 1 | 2;
  /** the engine's parent cgroup, default "mini-docker" */
  parent?: string;
  /** for tests: the text of /proc/self/mountinfo */
  mountinfo?: string;
}

function envVersion(): 1 | 2 | undefined {
  const v = process.env.MINI_DOCKER_CGROUP_VERSION;
  if (v === undefined || v === '') return undefined;
  if (v === '1' || v === '2') return Number(v) as 1 | 2;
  throw new EngineError('bad_cgroup_version', `MINI_DOCKER_CGROUP_VERSION=${v}: use 1 or 2`);
}

/** The cgroup2 mount to drive: <root> when pure v2, <root>/unified on a hybrid host. */
function unifiedRoot(root: string): string | undefined {
  if (existsSync(join(root, 'cgroup.controllers'))) return root;
  if (existsSync(join(root, 'unified', 'cgroup.controllers'))) return join(root, 'unified');
  return undefined;
}

// #region lesson-09-detect
/** 2 for a pure unified host, 1 when v1 controller hierarchies are mounted, else undefined. */
export function detectCgroupVersion(root = '/sys/fs/cgroup', mountinfo?: string): 1 | 2 | undefined {
  if (existsSync(join(root, 'cgroup.controllers'))) return 2;
  if (Object.keys(v1Mounts(root, mountinfo)).length > 0) return 1;
  if (unifiedRoot(root)) return 2;
  return undefined;
}
// #endregion lesson-09-detect

/** The driver for this host (or the one forced by option or environment). */
export function detectCgroups(opts: DetectOptions = {}): CgroupDriver {
  const root = opts.root ?? (process.env.MINI_DOCKER_CGROUP_ROOT || '/sys/fs/cgroup');
  const parent = opts.parent ?? 'mini-docker';
  const version = opts.force ?? envVersion() ?? detectCgroupVersion(root, opts.mountinfo);
  if (version === 2) {
    const unified = unifiedRoot(root);
    if (!unified) {
      throw new EngineError('no_cgroups', `no cgroup v2 hierarchy at ${root} (no cgroup.controllers there or in ${join(root, 'unified')})`, {
        hint: 'mount it: mount -t cgroup2 none /sys/fs/cgroup',
      });
    }
    return new V2Driver({ root: unified, parent });
  }
  if (version === 1) {
    const mounts = v1Mounts(root, opts.mountinfo);
    if (Object.keys(mounts).length === 0) {
      throw new EngineError('no_cgroups', `no cgroup v1 controller is mounted under ${root}`, { hint: 'mount them, e.g. mount -t cgroup -o memory cgroup /sys/fs/cgroup/memory' });
    }
    return new V1Driver({ root, parent, mounts });
  }
  throw new EngineError('no_cgroups', `no cgroup filesystem is mounted at ${root}`, {
    hint: 'mount cgroup2 (mount -t cgroup2 none /sys/fs/cgroup), or set MINI_DOCKER_CGROUP_ROOT',
  });
}

export interface CgroupInfo {
  version: 1 | 2;
  root: string;
  /** v1 hierarchies beside a cgroup2 mount */
  hybrid: boolean;
  /** the controllers the engine can use */
  controllers: string[];
  /** v1: controller -> mount point */
  mounts?: V1Mounts;
  /** the cgroup2 mount and the controllers it offers (on a hybrid host usually none) */
  unified?: { path: string; controllers: string[] };
  features: {
    /** memory+swap limits: v1 memory.memsw.*, v2 memory.swap.max */
    swapAccounting: boolean;
    /** v2 cgroup.kill (Linux 5.14) */
    cgroupKill: boolean;
    /** v1 freezer hierarchy, v2 cgroup.freeze (Linux 5.2) */
    freezer: boolean;
    /** a proportional IO weight: v1 blkio.weight/blkio.bfq.*, v2 io.bfq.weight/io.weight */
    ioWeight: boolean;
    /** an OOM-kill counter: v1 memory.oom_control oom_kill (Linux 4.13), v2 memory.events */
    oomKillCounter: boolean;
  };
}

/** Some files exist only below the root cgroup: look in the first child cgroups that have them. */
function someChildHas(dir: string, file: string): boolean {
  let names: string[] = [];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return false;
  }
  return names.some((n) => existsSync(join(dir, n, file)));
}

/** What `doctor` shows: the version, the controllers, and the features that vary by kernel. */
export function cgroupInfo(opts: DetectOptions = {}): CgroupInfo {
  const driver = detectCgroups(opts);
  const root = opts.root ?? (process.env.MINI_DOCKER_CGROUP_ROOT || '/sys/fs/cgroup');
  const unifiedPath = unifiedRoot(root);
  const unified = unifiedPath ? { path: unifiedPath, controllers: (readText(unifiedPath, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean) } : undefined;
  if (driver instanceof V1Driver) {
    const m = driver.mounts;
    const has = (dir: string | undefined, f: string) => dir !== undefined && existsSync(join(dir, f));
    const blkioRoot = m.blkio ? readdirSync(m.blkio) : [];
    return {
      version: 1,
      root,
      hybrid: unified !== undefined,
      controllers: Object.keys(m).sort(),
      mounts: m,
      unified,
      features: {
        swapAccounting: has(m.memory, 'memory.memsw.limit_in_bytes'),
        cgroupKill: false,
        freezer: m.freezer !== undefined,
        ioWeight: blkioRoot.includes('blkio.weight') || blkioRoot.some((f) => f.startsWith('blkio.bfq.')),
        oomKillCounter: m.memory !== undefined && /^oom_kill /m.test(readText(m.memory, 'memory.oom_control') ?? ''),
      },
    };
  }
  const dir = driver.root;
  return {
    version: 2,
    root: dir,
    hybrid: false,
    controllers: (readText(dir, 'cgroup.controllers') ?? '').split(/\s+/).filter(Boolean).sort(),
    unified,
    features: {
      swapAccounting: someChildHas(dir, 'memory.swap.max'),
      cgroupKill: someChildHas(dir, 'cgroup.kill'),
      freezer: someChildHas(dir, 'cgroup.freeze'),
      ioWeight: someChildHas(dir, 'io.bfq.weight') || someChildHas(dir, 'io.weight'),
      oomKillCounter: true,
    },
  };
}

/** The host's /proc/cgroups: controllers the kernel has and whether they are enabled. */
export function kernelControllers(): { name: string; hierarchy: number; enabled: boolean }[] {
  try {
    return readFileSync('/proc/cgroups', 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/\s+/))
      .map(([name, hier, , en]) => ({ name: name!, hierarchy: Number(hier), enabled: en === '1' }));
  } catch {
    return [];
  }
}
