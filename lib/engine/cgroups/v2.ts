// cgroup v2: one unified tree. A container's cgroup is one directory, <root>/<parent>/<name>,
// and a controller works in it only if every ancestor lists it in cgroup.subtree_control.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EngineError } from '../errors.js';
import {
  checkName, checkParent, childCgroups, errnoOf, killLoop, mkdirCgroup, pidsTree, readKeyed, readNumber, readText,
  removeCgroupDir, removeIfEmpty, sleep, writeError, writeFile, writeRaw, kernelDirOps, type DirOps,
} from './cgfs.js';
import type { CgroupDriver, CgroupStats, ContainerCgroup, IoDeviceStats } from './driver.js';
import { controllersFor, v2Writes, type Limits } from './limits.js';

/** The controllers the engine enables for its containers, where the kernel offers them. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids'] as const;

export interface V2Options {
  /** the cgroup2 mount, default /sys/fs/cgroup */
  root?: string;
  parent?: string;
  /** how cgroup directories are made and removed; tests play the kernel here */
  ops?: DirOps;
}

const FLAG_OF: Record<string, string> = {
  memory: '-m/--memory-swap/--memory-reservation',
  cpu: '--cpus/--cpu-shares/--cpu-period/--cpu-quota',
  cpuset: '--cpuset-cpus',
  pids: '--pids-limit',
  io: '--blkio-weight/--device-*-bps/--device-*-iops',
};

function words(dir: string, file: string): string[] {
  return (readText(dir, file) ?? '').split(/\s+/).filter(Boolean);
}

export class V2Driver implements CgroupDriver {
  readonly version = 2 as const;
  readonly root: string;
  readonly parent: string;
  private readonly parentParts: string[];
  private readonly ops: DirOps;

  constructor(opts: V2Options = {}) {
    this.root = opts.root ?? '/sys/fs/cgroup';
    this.parent = opts.parent ?? 'mini-docker';
    this.parentParts = checkParent(this.parent);
    this.ops = opts.ops ?? kernelDirOps;
  }

  private dirOf(name: string): string {
    return join(this.root, ...this.parentParts, name);
  }

  validate(limits: Partial<Limits>): string[] {
    const warnings: string[] = [];
    if (limits.oomKillDisable) warnings.push('Your kernel does not support OomKillDisable. OomKillDisable discarded.');
    const available = words(this.root, 'cgroup.controllers');
    // --oom-kill-disable is discarded on v2 and needs no controller
    for (const c of controllersFor({ ...limits, oomKillDisable: undefined })) {
      if (!available.includes(c)) {
        throw new EngineError('cgroup_controller_missing', `${FLAG_OF[c]}: the ${c} controller is not available in the cgroup v2 hierarchy at ${this.root} (cgroup.controllers: ${available.join(' ') || 'none'})`, {
          hint: 'on a hybrid host the controllers are bound to the v1 hierarchies and the unified one has none: use the v1 driver (MINI_DOCKER_CGROUP_VERSION=1)',
        });
      }
    }
    return warnings;
  }

  // #region lesson-09-v2-create
  create(name: string, limits: Limits): ContainerCgroup {
    checkName(name);
    this.validate(limits);
    const dir = this.dirOf(name);
    if (existsSync(dir)) throw new EngineError('cgroup_exists', `cgroup ${dir} already exists`, { hint: 'another container has this name, or a cgroup was left behind: remove it with rmdir' });
    this.ensureParent();
    mkdirCgroup(dir, this.ops);
    try {
      const cg = new V2Cgroup(name, dir, this.ops);
      cg.apply(limits, {});
      return cg;
    } catch (e) {
      removeIfEmpty(dir, this.ops);
      throw e;
    }
  }

  /**
   * mkdir -p the engine's parent, enabling our controllers in cgroup.subtree_control at every
   * level from the root down, so the container's cgroup gets them. The "no internal processes"
   * rule: a non-root cgroup with processes cannot hand controllers to children (EBUSY), which
   * is why the engine never puts a process in its parent, only in the leaves.
   */
  private ensureParent(): void {
    let cur = this.root;
    for (const part of this.parentParts) {
      enableControllers(cur);
      const next = join(cur, part);
      if (!existsSync(next)) {
        try {
          mkdirCgroup(next, this.ops);
        } catch (e) {
          if (errnoOf(e) !== 'EEXIST') throw e;
        }
      }
      cur = next;
    }
    enableControllers(cur);
  }
  // #endregion lesson-09-v2-create

  open(name: string): ContainerCgroup | undefined {
    checkName(name);
    const dir = this.dirOf(name);
    return existsSync(dir) ? new V2Cgroup(name, dir, this.ops) : undefined;
  }

  list(): string[] {
    return childCgroups(join(this.root, ...this.parentParts));
  }

  removeParent(): boolean {
    for (let i = this.parentParts.length; i > 0; i--) {
      if (!removeIfEmpty(join(this.root, ...this.parentParts.slice(0, i)), this.ops)) return i < this.parentParts.length;
    }
    return true;
  }
}

function enableControllers(dir: string): void {
  const available = words(dir, 'cgroup.controllers');
  const enabled = words(dir, 'cgroup.subtree_control');
  const missing = V2_CONTROLLERS.filter((c) => available.includes(c) && !enabled.includes(c));
  if (missing.length === 0) return;
  const value = missing.map((c) => `+${c}`).join(' ');
  try {
    writeRaw(dir, 'cgroup.subtree_control', value);
  } catch (e) {
    throw writeError(dir, 'cgroup.subtree_control', value, e, errnoOf(e) === 'EBUSY'
      ? `${dir} has processes of its own, and a cgroup v2 that hands controllers to its children may hold none ("no internal processes"): move them into a child cgroup first`
      : undefined);
  }
}

export class V2Cgroup implements ContainerCgroup {
  readonly paths: Readonly<Record<string, string>>;

  constructor(readonly name: string, readonly dir: string, private readonly ops: DirOps = kernelDirOps) {
    this.paths = { unified: dir };
  }

  addProcess(pid: number): void {
    try {
      writeRaw(this.dir, 'cgroup.procs', String(pid));
    } catch (e) {
      if (errnoOf(e) === 'ESRCH') throw new EngineError('no_such_process', `process ${pid} does not exist: it cannot join cgroup ${this.dir}`, { cause: e });
      throw writeError(this.dir, 'cgroup.procs', String(pid), e);
    }
  }

  update(limits: Partial<Limits>): void {
    this.apply(limits, { cpuMax: readText(this.dir, 'cpu.max'), memoryMax: readText(this.dir, 'memory.max') });
  }

  apply(limits: Partial<Limits>, current: { cpuMax?: string; memoryMax?: string }): void {
    for (const w of v2Writes(limits, current)) {
      const pick = [{ file: w.file, value: w.value }, ...(w.alternatives ?? [])].find((c) => existsSync(join(this.dir, c.file)));
      if (!pick) {
        if (w.optional) continue;
        throw new EngineError('cgroup_unsupported', `this kernel offers no ${[w.file, ...(w.alternatives ?? []).map((a) => a.file)].join(' or ')} in ${this.dir}`, {
          hint: w.file === 'memory.swap.max' ? 'swap accounting is off (CONFIG_MEMCG_SWAP, or swapaccount=0 on the kernel command line)'
            : w.file === 'io.bfq.weight' ? 'a proportional weight needs the BFQ scheduler (modprobe bfq) or blk-iocost (io.weight)'
              : 'the controller is not enabled for this cgroup, or the feature is not built into this kernel',
        });
      }
      writeFile(this.dir, pick.file, pick.value);
    }
  }

  // #region lesson-09-v2-freeze
  async freeze(timeoutMs = 5000): Promise<void> {
    if (!existsSync(join(this.dir, 'cgroup.freeze'))) {
      throw new EngineError('cgroup_unsupported', `no cgroup.freeze in ${this.dir}: the cgroup v2 freezer needs Linux 5.2`);
    }
    writeFile(this.dir, 'cgroup.freeze', '1');
    // the write only asks; cgroup.events says "frozen 1" once every task has stopped
    const deadline = Date.now() + timeoutMs;
    while (!this.frozen()) {
      if (Date.now() > deadline) {
        this.thaw();
        throw new EngineError('cgroup_freeze_timeout', `cgroup ${this.dir} did not report "frozen 1" within ${timeoutMs} ms`);
      }
      await sleep(5);
    }
  }

  thaw(): void {
    writeFile(this.dir, 'cgroup.freeze', '0');
  }
  // #endregion lesson-09-v2-freeze

  frozen(): boolean {
    return readKeyed(this.dir, 'cgroup.events').get('frozen') === 1;
  }

  stats(): CgroupStats {
    const d = this.dir;
    if (!existsSync(d)) throw new EngineError('no_such_cgroup', `cgroup ${d} does not exist (any more)`);
    const cs = readKeyed(d, 'cpu.stat');
    const ev = readKeyed(d, 'memory.events');
    const ms = readKeyed(d, 'memory.stat');
    const us = (k: string) => (cs.get(k) ?? 0) * 1000;
    return {
      cpu: {
        usageNs: us('usage_usec'),
        userNs: us('user_usec'),
        systemNs: us('system_usec'),
        nrPeriods: cs.get('nr_periods') ?? 0,
        nrThrottled: cs.get('nr_throttled') ?? 0,
        throttledNs: us('throttled_usec'),
      },
      memory: {
        usage: readNumber(d, 'memory.current') ?? 0,
        limit: readNumber(d, 'memory.max') ?? null,
        maxUsage: readNumber(d, 'memory.peak') ?? null,
        failcnt: ev.get('max') ?? 0,
        oomKills: ev.get('oom_kill') ?? 0,
        inactiveFile: ms.get('inactive_file') ?? 0,
      },
      pids: { current: readNumber(d, 'pids.current') ?? 0, limit: readNumber(d, 'pids.max') ?? null },
      io: ioStat(readText(d, 'io.stat') ?? ''),
    };
  }

  // #region lesson-09-v2-oom
  oomKilled(): boolean {
    return (readKeyed(this.dir, 'memory.events').get('oom_kill') ?? 0) > 0;
  }
  // #endregion lesson-09-v2-oom

  pids(): number[] {
    return [...new Set(pidsTree(this.dir))].sort((a, b) => a - b);
  }

  async killAll(signal: NodeJS.Signals | number = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const isKill = signal === 'SIGKILL' || signal === 9;
    if (isKill && existsSync(join(this.dir, 'cgroup.kill'))) {
      // Linux 5.14: the kernel kills the whole subtree at once, forks in flight included
      if (this.pids().length === 0) return;
      writeFile(this.dir, 'cgroup.kill', '1');
      const deadline = Date.now() + timeoutMs;
      while (this.pids().length > 0) {
        if (Date.now() > deadline) {
          throw new EngineError('cgroup_kill_timeout', `processes ${this.pids().join(' ')} of cgroup ${this.dir} are still alive ${timeoutMs} ms after cgroup.kill`);
        }
        await sleep(5);
      }
      return;
    }
    const canFreeze = existsSync(join(this.dir, 'cgroup.freeze'));
    await killLoop({
      pids: () => this.pids(),
      freeze: canFreeze ? () => this.freeze(1000) : undefined,
      thaw: canFreeze ? () => this.thaw() : undefined,
      where: `cgroup ${this.dir}`,
    }, signal, timeoutMs);
  }

  async remove(): Promise<void> {
    if (this.pids().length > 0) await this.killAll('SIGKILL');
    await removeCgroupDir(this.dir, this.ops);
  }
}

/** io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device. */
export function ioStat(text: string): IoDeviceStats[] {
  const out: IoDeviceStats[] = [];
  for (const line of text.split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const v = new Map(kv.map((p) => p.split('=') as [string, string]));
    const n = (k: string) => Number(v.get(k) ?? 0);
    out.push({ device: dev!, major: Number(m[1]), minor: Number(m[2]), readBytes: n('rbytes'), writeBytes: n('wbytes'), readOps: n('rios'), writeOps: n('wios') });
  }
  return out;
}
