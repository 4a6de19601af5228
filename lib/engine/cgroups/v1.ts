// cgroup v1: every controller is its own hierarchy (its own mount), so a container's cgroup is
// one directory per controller, <mount>/<parent>/<name>, and a process joins each of them.
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EngineError } from '../errors.js';
import {
  checkName, checkParent, childCgroups, errnoOf, killLoop, mkdirCgroup, pidsTree, readKeyed, readNumber, readText,
  removeCgroupDir, removeIfEmpty, sleep, writeError, writeFile, writeRaw, kernelDirOps, type DirOps,
} from './cgfs.js';
import type { CgroupDriver, CgroupStats, ContainerCgroup, IoDeviceStats } from './driver.js';
import { controllersFor, v1Writes, type CgroupWrite, type Limits, type V1Controller } from './limits.js';

/** The controllers the engine manages on v1, in the order their directories are made. */
export const V1_CONTROLLERS: readonly V1Controller[] = ['cpuset', 'cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'freezer'];

export type V1Mounts = Partial<Record<V1Controller, string>>;

/** Undo mountinfo's octal escapes (a space in a mount point is "\040"). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Where each v1 controller's hierarchy is mounted under `root`, from /proc/self/mountinfo
 * (fstype "cgroup", the controllers in the super options, as "cpu,cpuacct" when co-mounted).
 * When nothing is mounted there (a test's directory laid out like v1), <root>/<controller>.
 */
export function v1Mounts(root: string, mountinfo?: string): V1Mounts {
  const out: V1Mounts = {};
  let info = mountinfo;
  if (info === undefined) {
    try {
      info = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      info = '';
    }
  }
  for (const line of info.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountPoint = unescapeMount(pre.split(' ')[4] ?? '');
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    if (mountPoint !== root && !mountPoint.startsWith(root.endsWith('/') ? root : root + '/')) continue;
    for (const opt of superOpts.split(',')) {
      const c = opt as V1Controller;
      if (V1_CONTROLLERS.includes(c) && !out[c]) out[c] = mountPoint;
    }
  }
  if (Object.keys(out).length > 0) return out;
  for (const c of V1_CONTROLLERS) {
    if (existsSync(join(root, c, 'cgroup.procs'))) out[c] = join(root, c);
  }
  return out;
}

export interface V1Options {
  root?: string;
  parent?: string;
  /** how cgroup directories are made and removed; tests play the kernel here */
  ops?: DirOps;
  /** controller -> mount point; default: found by v1Mounts(root) */
  mounts?: V1Mounts;
}

const FLAG_OF: Record<V1Controller, string> = {
  memory: '-m/--memory-swap/--memory-reservation/--oom-kill-disable',
  cpu: '--cpus/--cpu-shares/--cpu-period/--cpu-quota',
  cpuacct: 'stats',
  cpuset: '--cpuset-cpus',
  pids: '--pids-limit',
  blkio: '--blkio-weight/--device-*-bps/--device-*-iops',
  freezer: 'pause',
};

export class V1Driver implements CgroupDriver {
  readonly version = 1 as const;
  readonly root: string;
  readonly parent: string;
  readonly mounts: V1Mounts;
  private readonly parentParts: string[];
  private readonly ops: DirOps;

  constructor(opts: V1Options = {}) {
    this.root = opts.root ?? '/sys/fs/cgroup';
    this.parent = opts.parent ?? 'mini-docker';
    this.parentParts = checkParent(this.parent);
    this.ops = opts.ops ?? kernelDirOps;
    this.mounts = opts.mounts ?? v1Mounts(this.root);
  }

  /** The container's directory in each mounted hierarchy. */
  private dirsOf(name: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const c of V1_CONTROLLERS) {
      const m = this.mounts[c];
      if (m) out[c] = join(m, ...this.parentParts, name);
    }
    return out;
  }

  validate(limits: Partial<Limits>): string[] {
    const warnings: string[] = [];
    for (const kind of controllersFor(limits)) {
      const c: V1Controller = kind === 'io' ? 'blkio' : kind;
      if (!this.mounts[c]) {
        throw new EngineError('cgroup_controller_missing', `${FLAG_OF[c]}: the ${c} controller has no cgroup v1 hierarchy under ${this.root}`, {
          hint: `mount it (mount -t cgroup -o ${c} cgroup ${join(this.root, c)}) or use a kernel with CONFIG_CGROUP_${c.toUpperCase()}`,
        });
      }
    }
    const mem = this.mounts.memory;
    if (mem && limits.memorySwap !== undefined && limits.memorySwap !== -1 && !existsSync(join(mem, 'memory.memsw.limit_in_bytes'))) {
      warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    }
    const blkio = this.mounts.blkio;
    if (blkio && limits.blkioWeight) {
      // blkio.weight (CFQ, gone since 5.0) or blkio.bfq.weight (BFQ) exist only below the root
      // cgroup; BFQ's statistics files at the root tell that its policy is registered
      const root = readdirNames(blkio);
      if (!root.includes('blkio.weight') && !root.some((f) => f.startsWith('blkio.bfq.'))) {
        throw new EngineError('cgroup_unsupported', '--blkio-weight: this kernel has no proportional I/O policy for cgroup v1 (neither blkio.weight, CFQ, nor blkio.bfq.weight, BFQ)', {
          hint: 'load the BFQ scheduler (modprobe bfq) and select it for the disk: echo bfq > /sys/block/DEV/queue/scheduler',
        });
      }
    }
    return warnings;
  }

  // #region lesson-09-v1-create
  create(name: string, limits: Limits): ContainerCgroup {
    checkName(name);
    this.validate(limits);
    const dirs = this.dirsOf(name);
    // Moving a task into a v1 cpuset costs about 10 ms (the kernel rebuilds its placement), most
    // of a container's start: a container without --cpuset-cpus stays in its parent's cpuset.
    if (!limits.cpusetCpus) delete dirs.cpuset;
    for (const d of Object.values(dirs)) {
      if (existsSync(d)) throw new EngineError('cgroup_exists', `cgroup ${d} already exists`, { hint: 'another container has this name, or a cgroup was left behind: remove it with rmdir' });
    }
    const made: string[] = [];
    try {
      for (const [c, dir] of uniqueDirs(dirs)) {
        this.ensureParent(c as V1Controller);
        mkdirCgroup(dir, this.ops);
        made.push(dir);
        // a new cpuset cgroup starts with no CPUs and no memory nodes: no task could join it
        if (c === 'cpuset') copyCpuset(join(dir, '..'), dir);
      }
      const cg = new V1Cgroup(name, dirs, this.ops);
      cg.apply(limits);
      return cg;
    } catch (e) {
      for (const d of made.reverse()) removeIfEmpty(d, this.ops);
      throw e;
    }
  }
  // #endregion lesson-09-v1-create

  /** mkdir -p the engine's parent in one hierarchy; cpuset levels get their parent's CPUs and nodes. */
  private ensureParent(c: V1Controller): void {
    let cur = this.mounts[c]!;
    for (const part of this.parentParts) {
      const next = join(cur, part);
      if (!existsSync(next)) {
        try {
          mkdirCgroup(next, this.ops);
        } catch (e) {
          if (errnoOf(e) !== 'EEXIST') throw e;
        }
      }
      if (c === 'cpuset') copyCpuset(cur, next);
      cur = next;
    }
  }

  open(name: string): ContainerCgroup | undefined {
    checkName(name);
    const dirs = Object.fromEntries(Object.entries(this.dirsOf(name)).filter(([, d]) => existsSync(d)));
    return Object.keys(dirs).length > 0 ? new V1Cgroup(name, dirs, this.ops) : undefined;
  }

  list(): string[] {
    const names = new Set<string>();
    for (const m of new Set(Object.values(this.mounts))) {
      for (const n of childCgroups(join(m, ...this.parentParts))) names.add(n);
    }
    return [...names].sort();
  }

  removeParent(): boolean {
    let gone = true;
    for (const m of new Set(Object.values(this.mounts))) {
      for (let i = this.parentParts.length; i > 0; i--) {
        const dir = join(m, ...this.parentParts.slice(0, i));
        if (!removeIfEmpty(dir, this.ops)) {
          if (i === this.parentParts.length) gone = false;
          break;
        }
      }
    }
    return gone;
  }
}

function readdirNames(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A path with symlinks resolved, as far as it exists (cpu -> cpu,cpuacct on many distributions). */
function canonical(path: string): string {
  let head = path;
  const rest: string[] = [];
  while (!existsSync(head) && head !== dirname(head)) {
    rest.unshift(basename(head));
    head = dirname(head);
  }
  try {
    return join(realpathSync(head), ...rest);
  } catch {
    return path;
  }
}

/** Distinct directories: co-mounted controllers (cpu,cpuacct) share one. */
function uniqueDirs(dirs: Record<string, string>): [string, string][] {
  const seen = new Set<string>();
  const out: [string, string][] = [];
  for (const [c, d] of Object.entries(dirs)) {
    const key = canonical(d);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push([c, d]);
  }
  return out;
}

function copyCpuset(from: string, to: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if ((readText(to, f) ?? '').trim() !== '') continue;
    const v = (readText(from, f) ?? '').trim();
    if (v !== '') writeFile(to, f, v);
  }
}

function pickFile(dir: string, w: CgroupWrite): { file: string; value: string } | undefined {
  for (const c of [{ file: w.file, value: w.value }, ...(w.alternatives ?? [])]) {
    if (existsSync(join(dir, c.file))) return c;
  }
  return undefined;
}

export class V1Cgroup implements ContainerCgroup {
  constructor(readonly name: string, readonly paths: Readonly<Record<string, string>>, private readonly ops: DirOps = kernelDirOps) {}

  private get unique(): string[] {
    return uniqueDirs({ ...this.paths }).map(([, d]) => d);
  }

  // #region lesson-09-v1-add
  addProcess(pid: number): void {
    for (const dir of this.unique) {
      try {
        writeRaw(dir, 'cgroup.procs', String(pid));
      } catch (e) {
        if (errnoOf(e) === 'ESRCH') throw new EngineError('no_such_process', `process ${pid} does not exist: it cannot join cgroup ${dir}`, { cause: e });
        throw writeError(dir, 'cgroup.procs', String(pid), e);
      }
    }
  }
  // #endregion lesson-09-v1-add

  update(limits: Partial<Limits>): void {
    this.apply(limits);
  }

  /** Write the limits' files, in an order the kernel accepts. */
  apply(limits: Partial<Limits>): void {
    let writes = v1Writes(limits);
    const mem = this.paths.memory;
    // The kernel keeps memory <= memory+swap at every moment: when the new memory limit is above
    // today's memsw limit, raise memsw first (runc's setMemoryAndSwap)
    if (mem && limits.memory !== undefined && limits.memorySwap !== undefined) {
      const curSwap = readNumber(mem, 'memory.memsw.limit_in_bytes');
      if (typeof curSwap === 'number' && (limits.memory < 0 || limits.memory > curSwap)) {
        const sw = writes.filter((w) => w.file === 'memory.memsw.limit_in_bytes');
        writes = [...sw, ...writes.filter((w) => w.file !== 'memory.memsw.limit_in_bytes')];
      }
    }
    let retryPeriod: CgroupWrite | undefined;
    for (const w of writes) {
      const dir = this.paths[w.controller!];
      if (!dir) {
        throw new EngineError('cgroup_controller_missing', `cgroup ${this.name} has no ${w.controller} directory: ${w.file} cannot be set`, {
          hint: w.controller === 'cpuset' ? 'a container joins a cpuset only when it starts with --cpuset-cpus: restart it with the flag' : undefined,
        });
      }
      const pick = pickFile(dir, w);
      if (!pick) {
        if (w.optional) continue;
        throw new EngineError('cgroup_unsupported', `this kernel offers no ${[w.file, ...(w.alternatives ?? []).map((a) => a.file)].join(' or ')} in ${dir}`, {
          hint: w.controller === 'blkio' ? 'a proportional weight needs the BFQ I/O scheduler (modprobe bfq)' : 'the feature is not built into this kernel',
        });
      }
      try {
        writeRaw(dir, pick.file, pick.value);
      } catch (e) {
        const code = errnoOf(e);
        if (pick.file === 'cpu.cfs_period_us' && code === 'EINVAL' && writes.some((x) => x.file === 'cpu.cfs_quota_us')) {
          // a shorter period can be refused until the new quota is in (runc retries after it)
          retryPeriod = { ...w, ...pick };
          continue;
        }
        throw this.explainWriteError(dir, pick.file, pick.value, e);
      }
      if (pick.file === 'cpu.cfs_quota_us' && retryPeriod) {
        writeFile(dir, retryPeriod.file, retryPeriod.value);
        retryPeriod = undefined;
      }
      if (pick.file === 'cpu.shares') {
        // the kernel clamps shares silently; say so, as runc does
        const got = readNumber(dir, 'cpu.shares');
        const want = Number(pick.value);
        if (typeof got === 'number' && got !== want) {
          throw new EngineError('invalid_limit', `the ${want > got ? 'maximum' : 'minimum'} allowed cpu-shares is ${got}`);
        }
      }
    }
  }

  private explainWriteError(dir: string, file: string, value: string, e: unknown): EngineError {
    const code = errnoOf(e);
    if (file === 'memory.limit_in_bytes' && code === 'EBUSY') {
      const usage = readNumber(dir, 'memory.usage_in_bytes');
      const peak = readNumber(dir, 'memory.max_usage_in_bytes');
      return new EngineError('cgroup_write', `unable to set memory limit to ${value} (current usage: ${usage}, peak usage: ${peak})`, {
        hint: 'the kernel could not reclaim enough of what the container uses now to fit under the new limit',
        cause: e,
      });
    }
    if (file === 'memory.limit_in_bytes' && code === 'EINVAL' && existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) {
      return new EngineError('cgroup_write', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time', {
        hint: 'on cgroup v1 memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes: pass --memory-swap too',
        cause: e,
      });
    }
    return writeError(dir, file, value, e);
  }

  // #region lesson-09-v1-freeze
  async freeze(timeoutMs = 5000): Promise<void> {
    const dir = this.freezerDir();
    writeFile(dir, 'freezer.state', 'FROZEN');
    const deadline = Date.now() + timeoutMs;
    let lastWrite = Date.now();
    // FREEZING until every task has stopped; a task busy in the kernel can miss the first
    // request, so ask again now and then (runc does the same)
    while ((readText(dir, 'freezer.state') ?? '').trim() !== 'FROZEN') {
      if (Date.now() > deadline) {
        this.thaw();
        throw new EngineError('cgroup_freeze_timeout', `cgroup ${dir} did not reach FROZEN within ${timeoutMs} ms`, {
          hint: 'a task is stuck in an uninterruptible kernel call (state D); try again later',
        });
      }
      if (Date.now() - lastWrite > 100) {
        writeFile(dir, 'freezer.state', 'FROZEN');
        lastWrite = Date.now();
      }
      await sleep(5);
    }
  }

  thaw(): void {
    writeFile(this.freezerDir(), 'freezer.state', 'THAWED');
  }
  // #endregion lesson-09-v1-freeze

  frozen(): boolean {
    const dir = this.paths.freezer;
    return dir !== undefined && (readText(dir, 'freezer.state') ?? '').trim() === 'FROZEN';
  }

  private freezerDir(): string {
    const dir = this.paths.freezer;
    if (!dir) throw new EngineError('cgroup_controller_missing', `cgroup ${this.name} has no freezer directory: pause needs the v1 freezer controller`);
    return dir;
  }

  stats(): CgroupStats {
    if (!Object.values(this.paths).some((d) => existsSync(d))) {
      throw new EngineError('no_such_cgroup', `cgroup ${this.name} does not exist (any more)`);
    }
    const { cpu, cpuacct, memory, pids, blkio } = this.paths;
    const cs = cpu ? readKeyed(cpu, 'cpu.stat') : new Map<string, number>();
    const num = (dir: string | undefined, f: string) => (dir ? readNumber(dir, f) : undefined);
    let userNs = num(cpuacct, 'cpuacct.usage_user') ?? undefined;
    let systemNs = num(cpuacct, 'cpuacct.usage_sys') ?? undefined;
    if (userNs === undefined && cpuacct) {
      // older kernels: cpuacct.stat in USER_HZ ticks (100 per second on every Linux ABI)
      const st = readKeyed(cpuacct, 'cpuacct.stat');
      userNs = (st.get('user') ?? 0) * 1e7;
      systemNs = (st.get('system') ?? 0) * 1e7;
    }
    const ms = memory ? readKeyed(memory, 'memory.stat') : new Map<string, number>();
    const oc = memory ? readKeyed(memory, 'memory.oom_control') : new Map<string, number>();
    return {
      cpu: {
        usageNs: num(cpuacct, 'cpuacct.usage') ?? 0,
        userNs: userNs ?? 0,
        systemNs: systemNs ?? 0,
        nrPeriods: cs.get('nr_periods') ?? 0,
        nrThrottled: cs.get('nr_throttled') ?? 0,
        throttledNs: cs.get('throttled_time') ?? 0,
      },
      memory: {
        usage: num(memory, 'memory.usage_in_bytes') ?? 0,
        limit: num(memory, 'memory.limit_in_bytes') ?? null,
        maxUsage: num(memory, 'memory.max_usage_in_bytes') ?? null,
        failcnt: num(memory, 'memory.failcnt') ?? 0,
        oomKills: oc.get('oom_kill') ?? 0,
        inactiveFile: ms.get('total_inactive_file') ?? ms.get('inactive_file') ?? 0,
      },
      pids: {
        current: num(pids, 'pids.current') ?? 0,
        limit: num(pids, 'pids.max') ?? null,
      },
      io: blkio ? blkioStats(blkio) : [],
    };
  }

  // #region lesson-09-v1-oom
  oomKilled(): boolean {
    const dir = this.paths.memory;
    if (!dir) return false;
    const oc = readKeyed(dir, 'memory.oom_control');
    // the oom_kill counter came with Linux 4.13; before it, failcnt > 0 (the limit was hit) is
    // the only evidence the kernel keeps
    if (oc.has('oom_kill')) return oc.get('oom_kill')! > 0;
    return (readNumber(dir, 'memory.failcnt') ?? 0) > 0;
  }
  // #endregion lesson-09-v1-oom

  pids(): number[] {
    const all = new Set<number>();
    for (const dir of this.unique) for (const p of pidsTree(dir)) all.add(p);
    return [...all].sort((a, b) => a - b);
  }

  async killAll(signal: NodeJS.Signals | number = 'SIGKILL', timeoutMs = 10_000): Promise<void> {
    const hasFreezer = this.paths.freezer !== undefined && existsSync(this.paths.freezer);
    await killLoop({
      pids: () => this.pids(),
      freeze: hasFreezer ? () => this.freeze(1000) : undefined,
      thaw: hasFreezer ? () => this.thaw() : undefined,
      where: `cgroup ${this.name}`,
    }, signal, timeoutMs);
  }

  async remove(): Promise<void> {
    if (this.pids().length > 0) await this.killAll('SIGKILL');
    if (this.paths.freezer && existsSync(this.paths.freezer) && (readText(this.paths.freezer, 'freezer.state') ?? '').trim() !== 'THAWED') this.thaw();
    for (const dir of this.unique) await removeCgroupDir(dir, this.ops);
  }
}

/** blkio.throttle.io_service_bytes(_recursive) and io_serviced: "MAJ:MIN Read N" lines. */
export function blkioStats(dir: string): IoDeviceStats[] {
  const byDev = new Map<string, IoDeviceStats>();
  const take = (file: string, bytes: boolean) => {
    for (const line of (readText(dir, file) ?? '').split('\n')) {
      const m = /^(\d+):(\d+) (Read|Write) (\d+)$/.exec(line.trim());
      if (!m) continue;
      const device = `${m[1]}:${m[2]}`;
      const s = byDev.get(device) ?? { device, major: Number(m[1]), minor: Number(m[2]), readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
      const v = Number(m[4]);
      const read = m[3] === 'Read';
      if (bytes && read) s.readBytes = v;
      else if (bytes) s.writeBytes = v;
      else if (read) s.readOps = v;
      else s.writeOps = v;
      byDev.set(device, s);
    }
  };
  const pick = (a: string, b: string) => (readText(dir, a) !== undefined ? a : b);
  take(pick('blkio.throttle.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes'), true);
  take(pick('blkio.throttle.io_serviced_recursive', 'blkio.throttle.io_serviced'), false);
  return [...byDev.values()];
}
