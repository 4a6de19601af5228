// Resource limits as docker's `run` flags describe them, parsed and validated the way docker
// does, once, at the edge: the result is plain data (Limits) that the cgroup drivers apply.
// Also the docker -> cgroup v2 conversions, as runc does them, as pure functions: the chapter's
// mapping table is exactly v2Writes() below.
import { readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { EngineError } from '../errors.js';

/** A block device named on the command line, resolved to the kernel's MAJ:MIN by stat(2). */
export interface ThrottleDevice {
  path: string;
  major: number;
  minor: number;
  /** bytes per second (bps flags) or operations per second (iops flags) */
  rate: number;
}

/**
 * The limits of one container, in docker's terms and units (bytes, microseconds, shares).
 * Absent means "not set". Negative values are docker's "unlimited" (-1).
 */
export interface Limits {
  /** -m/--memory, bytes */
  memory?: number;
  /** --memory-swap: memory + swap together, bytes; -1 unlimited swap */
  memorySwap?: number;
  /** --memory-reservation (soft limit), bytes */
  memoryReservation?: number;
  /** --oom-kill-disable (cgroup v1 only) */
  oomKillDisable?: boolean;
  /** --cpus, in billionths of a CPU (docker's NanoCpus) */
  nanoCpus?: number;
  /** -c/--cpu-shares, relative weight (docker default 1024) */
  cpuShares?: number;
  /** --cpu-period, microseconds */
  cpuPeriod?: number;
  /** --cpu-quota, microseconds per period; -1 unlimited */
  cpuQuota?: number;
  /** --cpuset-cpus, a CPU list such as "0-1,3" */
  cpusetCpus?: string;
  /** --pids-limit; -1 unlimited */
  pidsLimit?: number;
  /** --blkio-weight, 10..1000 */
  blkioWeight?: number;
  deviceReadBps?: ThrottleDevice[];
  deviceWriteBps?: ThrottleDevice[];
  deviceReadIops?: ThrottleDevice[];
  deviceWriteIops?: ThrottleDevice[];
}

/** The raw values of the run/update flags, as a flag parser hands them over (commander's names). */
export interface LimitFlags {
  memory?: string | number;
  memorySwap?: string | number;
  memoryReservation?: string | number;
  oomKillDisable?: boolean | string;
  cpus?: string | number;
  cpuShares?: string | number;
  cpuPeriod?: string | number;
  cpuQuota?: string | number;
  cpusetCpus?: string;
  pidsLimit?: string | number;
  blkioWeight?: string | number;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
}

export interface DeviceStat {
  isBlockDevice: boolean;
  major: number;
  minor: number;
}

export interface ParseOptions {
  /** `update` rather than `run`: no defaults, and --memory-swap may come without -m (docker's rules). */
  update?: boolean;
  /** CPUs this process may use (docker's runtime.NumCPU()); default os.availableParallelism(). */
  ncpu?: number;
  /** The host's CPU list, e.g. "0-1"; default /sys/devices/system/cpu/online. */
  availableCpus?: string;
  /** stat(2) of a device path; default node's statSync (follows symlinks, as docker's Stat does). */
  statDevice?: (path: string) => DeviceStat;
}

export interface ParsedLimits {
  limits: Limits;
  /** docker's warnings: the run goes on, the user is told. */
  warnings: string[];
}

/** Docker refuses less: "to account for overhead during startup" (daemon_unix.go linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;
export const MIN_CPU_SHARES = 2;
export const MAX_CPU_SHARES = 262144;
/** The CFS period docker uses for --cpus: 100 ms. */
export const DEFAULT_CPU_PERIOD = 100000;

const FLAG = {
  memory: '-m, --memory',
  memorySwap: '--memory-swap',
  memoryReservation: '--memory-reservation',
  oomKillDisable: '--oom-kill-disable',
  cpus: '--cpus',
  cpuShares: '-c, --cpu-shares',
  cpuPeriod: '--cpu-period',
  cpuQuota: '--cpu-quota',
  cpusetCpus: '--cpuset-cpus',
  pidsLimit: '--pids-limit',
  blkioWeight: '--blkio-weight',
  deviceReadBps: '--device-read-bps',
  deviceWriteBps: '--device-write-bps',
  deviceReadIops: '--device-read-iops',
  deviceWriteIops: '--device-write-iops',
} as const;

function invalid(message: string, hint?: string): EngineError {
  return new EngineError('invalid_limit', message, { hint, exitCode: 125 });
}

/** pflag's wording for a value its parser refused. */
function flagError(flag: string, value: string, why: string): EngineError {
  return invalid(`invalid argument "${value}" for "${flag}" flag: ${why}`);
}

// ---- sizes ----------------------------------------------------------------------------------

const SIZE = /^(\d+(\.\d+)*) ?([kmgtp])?i?b?$/i;
const BINARY: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * docker/go-units RAMInBytes: "64m", "64MB", "64MiB", "1.5g", "100", "100b", "2 G"; binary
 * multiples, case-insensitive, the trailing "b" optional. Throws go-units' message.
 */
export function ramInBytes(size: string): number {
  const m = SIZE.exec(size);
  if (!m) throw new Error(`invalid size: '${size}'`);
  // "1.2.3" passes go-units' regexp and then fails strconv.ParseFloat
  if (!/^\d+(\.\d+)?$/.test(m[1]!)) throw new Error(`strconv.ParseFloat: parsing "${m[1]}": invalid syntax`);
  const n = Number(m[1]) * (m[3] ? BINARY[m[3].toLowerCase()]! : 1);
  return Math.trunc(n);
}

// ---- integers as Go's strconv parses them (base 0, as pflag's int flags do) -----------------

function parseGoInt(s: string, fn: 'ParseInt' | 'ParseUint', bits: number): number {
  const syntax = new Error(`strconv.${fn}: parsing "${s}": invalid syntax`);
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9]\d*)$/.exec(s);
  if (!m || (fn === 'ParseUint' && m[1] !== '')) throw syntax;
  const body = m[2]!;
  let v: bigint;
  if (/^0[xXoObB]/.test(body)) v = BigInt(body.toLowerCase());
  else if (body.length > 1 && body.startsWith('0')) v = BigInt('0o' + body.slice(1));
  else v = BigInt(body);
  if (m[1] === '-') v = -v;
  const max = fn === 'ParseUint' ? (1n << BigInt(bits)) - 1n : (1n << BigInt(bits - 1)) - 1n;
  const min = fn === 'ParseUint' ? 0n : -(1n << BigInt(bits - 1));
  if (v > max || v < min) throw new Error(`strconv.${fn}: parsing "${s}": value out of range`);
  // docker's values stay far below 2^53 in practice; keep the number exact where it matters
  return Number(v);
}

// ---- --cpus: a rational number of CPUs, kept exact (docker uses big.Rat) ---------------------

/** docker's ParseCPUs: "0.5", "1.25", "3/4", "1e-1" -> billionths of a CPU. */
export function parseNanoCpus(value: string): number {
  const bad = new Error(`failed to parse ${value} as a rational number`);
  let num: bigint;
  let den: bigint;
  const frac = /^([+-]?\d+)\/(\d+)$/.exec(value);
  if (frac) {
    num = BigInt(frac[1]!);
    den = BigInt(frac[2]!);
    if (den === 0n) throw bad;
  } else {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(value);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw bad;
    const intPart = m[2] ?? '';
    const fracPart = m[3] ?? '';
    const exp = Number(m[4] ?? '0') - fracPart.length;
    num = BigInt((intPart + fracPart) || '0');
    den = 1n;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den = 10n ** BigInt(-exp);
    if (m[1] === '-') num = -num;
  }
  const scaled = num * 1_000_000_000n;
  if (scaled % den !== 0n) throw new Error('value is too precise');
  return Number(scaled / den);
}

// ---- CPU lists ("0-1,3") -------------------------------------------------------------------

/** docker's parsers.ParseUintList: the set of CPUs a list names; throws "invalid format: ..." */
export function parseCpuList(list: string): Set<number> {
  const out = new Set<number>();
  if (list === '') return out;
  const bad = new Error(`invalid format: ${list}`);
  for (const part of list.split(',')) {
    const [lo, hi] = part.split('-', 2) as [string, string | undefined];
    const num = (s: string) => {
      if (!/^[+-]?\d+$/.test(s)) throw bad;
      return Number(s);
    };
    if (hi === undefined || hi === '') {
      if (part.includes('-') && hi === '') throw bad;
      out.add(num(part));
      continue;
    }
    const a = num(lo);
    const b = num(hi);
    if (b < a) throw bad;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

// ---- devices --------------------------------------------------------------------------------

function defaultStatDevice(path: string): DeviceStat {
  const st = statSync(path, { bigint: true });
  // glibc's major()/minor() of a dev_t
  const dev = st.rdev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return { isBlockDevice: st.isBlockDevice(), major: Number(major), minor: Number(minor) };
}

const BPS_FORMAT = 'The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb';
const IOPS_FORMAT = 'The correct format is <device-path>:<number>. Number must be a positive integer';

function parseThrottle(flag: string, val: string, kind: 'bps' | 'iops', stat: (p: string) => DeviceStat): ThrottleDevice {
  const colon = val.indexOf(':');
  const path = colon < 0 ? '' : val.slice(0, colon);
  const rateText = colon < 0 ? '' : val.slice(colon + 1);
  if (colon < 0 || path === '') throw flagError(flag, val, `bad format: ${val}`);
  if (!path.startsWith('/dev/')) throw flagError(flag, val, `bad format for device path: ${val}`);
  let rate: number;
  try {
    rate = kind === 'bps' ? ramInBytes(rateText) : parseGoInt(rateText, 'ParseUint', 64);
  } catch {
    throw flagError(flag, val, `invalid rate for device: ${val}. ${kind === 'bps' ? BPS_FORMAT : IOPS_FORMAT}`);
  }
  let st: DeviceStat;
  try {
    st = stat(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code ?? String(e);
    throw invalid(`${flag.replace(/^-., /, '')}: stat ${path}: ${why}`, 'name a block device of this host, e.g. /dev/sda or a loop device from `losetup -f --show FILE`');
  }
  if (!st.isBlockDevice) {
    throw invalid(`${flag.replace(/^-., /, '')}: ${path} is not a block device`, 'block IO limits apply to block devices (disks, partitions, loop devices), as the kernel throttles them by MAJ:MIN');
  }
  return { path, major: st.major, minor: st.minor, rate };
}

// ---- the whole set --------------------------------------------------------------------------

function text(v: string | number): string {
  return typeof v === 'number' ? String(v) : v;
}

function hostCpuList(): string {
  try {
    return readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  } catch {
    return `0-${availableParallelism() - 1}`;
  }
}

/**
 * Parse and validate the limit flags of `run` (or `update`) as docker does: the flag parser's
 * errors first (pflag wording), then the daemon's checks. Throws EngineError('invalid_limit')
 * before anything is created.
 */
export function parseLimits(flags: LimitFlags, opts: ParseOptions = {}): ParsedLimits {
  const limits: Limits = {};
  const warnings: string[] = [];
  const stat = opts.statDevice ?? defaultStatDevice;

  const size = (key: 'memory' | 'memoryReservation'): number | undefined => {
    const v = flags[key];
    if (v === undefined) return undefined;
    try {
      return ramInBytes(text(v));
    } catch (e) {
      throw flagError(FLAG[key], text(v), (e as Error).message);
    }
  };
  const int = (key: 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'pidsLimit'): number | undefined => {
    const v = flags[key];
    if (v === undefined) return undefined;
    try {
      return parseGoInt(text(v), 'ParseInt', 64);
    } catch (e) {
      throw flagError(FLAG[key], text(v), (e as Error).message);
    }
  };

  // #region lesson-09-parse-memory
  const memory = size('memory');
  if (memory !== undefined && memory !== 0) limits.memory = memory;
  if (flags.memorySwap !== undefined) {
    const v = text(flags.memorySwap);
    try {
      const swap = v === '-1' ? -1 : ramInBytes(v);
      if (swap !== 0) limits.memorySwap = swap;
    } catch (e) {
      throw flagError(FLAG.memorySwap, v, (e as Error).message);
    }
  }
  const reservation = size('memoryReservation');
  if (reservation !== undefined && reservation !== 0) limits.memoryReservation = reservation;
  // #endregion lesson-09-parse-memory

  if (flags.oomKillDisable !== undefined) {
    const v = flags.oomKillDisable;
    if (typeof v === 'boolean') limits.oomKillDisable = v;
    else if (/^(1|t|true)$/i.test(v)) limits.oomKillDisable = true;
    else if (/^(0|f|false)$/i.test(v)) limits.oomKillDisable = false;
    else throw flagError(FLAG.oomKillDisable, v, `strconv.ParseBool: parsing "${v}": invalid syntax`);
  }

  const ncpu = opts.ncpu ?? availableParallelism();
  if (flags.cpus !== undefined) {
    const v = text(flags.cpus);
    let nano: number;
    try {
      nano = parseNanoCpus(v);
    } catch (e) {
      throw flagError(FLAG.cpus, v, (e as Error).message);
    }
    // Docker checks only the upper bound and leaves 0 < cpus < 0.01 to the kernel, which then
    // refuses a quota under 1 ms; its message names the real lower bound, so we enforce it here.
    if (nano < 0 || (nano > 0 && nano < 10_000_000) || nano > ncpu * 1e9) {
      throw flagError(FLAG.cpus, v, `range of CPUs is from 0.01 to ${ncpu}.00, as there are only ${ncpu} CPUs available`);
    }
    if (nano > 0) limits.nanoCpus = nano;
  }
  const shares = int('cpuShares');
  if (shares !== undefined && shares !== 0) {
    if (shares < 0) throw invalid('shares: invalid argument');
    // runc reads cpu.shares back and fails with these words when the kernel clamped the value
    if (shares < MIN_CPU_SHARES) throw invalid(`the minimum allowed cpu-shares is ${MIN_CPU_SHARES}`);
    if (shares > MAX_CPU_SHARES) throw invalid(`the maximum allowed cpu-shares is ${MAX_CPU_SHARES}`);
    limits.cpuShares = shares;
  }
  const period = int('cpuPeriod');
  if (period !== undefined && period !== 0) limits.cpuPeriod = period;
  const quota = int('cpuQuota');
  if (quota !== undefined && quota !== 0) limits.cpuQuota = quota < 0 ? -1 : quota;
  if (flags.cpusetCpus !== undefined && flags.cpusetCpus !== '') {
    const want = flags.cpusetCpus;
    let requested: Set<number>;
    try {
      requested = parseCpuList(want);
    } catch (e) {
      throw invalid(`Invalid value ${want} for cpuset cpus: ${(e as Error).message}`);
    }
    const avail = opts.availableCpus ?? hostCpuList();
    const have = parseCpuList(avail);
    if ([...requested].some((c) => !have.has(c))) {
      throw invalid(`Requested CPUs are not available - requested ${want}, available: ${avail}`);
    }
    limits.cpusetCpus = want;
  }

  const pids = int('pidsLimit');
  // docker: 0 and negative values mean "unlimited" (-1 for runc)
  if (pids !== undefined) limits.pidsLimit = pids <= 0 ? -1 : pids;

  if (flags.blkioWeight !== undefined) {
    const v = text(flags.blkioWeight);
    let w: number;
    try {
      w = parseGoInt(v, 'ParseUint', 16);
    } catch (e) {
      throw flagError(FLAG.blkioWeight, v, (e as Error).message);
    }
    if (w > 0 && (w < 10 || w > 1000)) throw invalid('Range of blkio weight is from 10 to 1000');
    if (w > 0) limits.blkioWeight = w;
  }
  for (const key of ['deviceReadBps', 'deviceWriteBps', 'deviceReadIops', 'deviceWriteIops'] as const) {
    const vals = flags[key];
    if (!vals || vals.length === 0) continue;
    const kind = key.endsWith('Bps') ? 'bps' : 'iops';
    limits[key] = vals.map((v) => parseThrottle(FLAG[key], v, kind, stat));
  }

  validateLimits(limits, { update: opts.update ?? false, warnings });
  return { limits, warnings };
}

/**
 * The daemon's checks (moby verifyPlatformContainerResources) on limits already parsed; pushes
 * docker's warnings and applies its create-time defaults unless `update`.
 */
export function validateLimits(limits: Limits, ctx: { update: boolean; warnings: string[] }): void {
  const { memory = 0, memorySwap = 0, memoryReservation = 0 } = limits;
  if (memory !== 0 && memory < MIN_MEMORY) throw invalid('Minimum memory limit allowed is 6MB');
  if (memory > 0 && memorySwap > 0 && memorySwap < memory) {
    throw invalid('Minimum memoryswap limit should be larger than memory limit, see usage', 'docker\'s --memory-swap is memory and swap together: give it at least the value of -m, or -1 for unlimited swap');
  }
  if (memory === 0 && memorySwap > 0 && !ctx.update) {
    throw invalid('You should always set the Memory limit when using Memoryswap limit, see usage');
  }
  if (memoryReservation > 0 && memoryReservation < MIN_MEMORY) throw invalid('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && memoryReservation > 0 && memory < memoryReservation) {
    throw invalid('Minimum memory limit can not be less than memory reservation limit, see usage');
  }
  if (limits.oomKillDisable && memory === 0) {
    ctx.warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }
  const { nanoCpus = 0, cpuPeriod = 0, cpuQuota = 0 } = limits;
  if (nanoCpus > 0 && cpuPeriod > 0) throw invalid('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nanoCpus > 0 && cpuQuota > 0) throw invalid('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (cpuPeriod !== 0 && (cpuPeriod < 1000 || cpuPeriod > 1000000)) {
    throw invalid('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  }
  if (cpuQuota > 0 && cpuQuota < 1000) throw invalid('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  // docker's default at create: swap as large as the memory limit (memory+swap = 2 x memory)
  if (!ctx.update && memory > 0 && memorySwap === 0) limits.memorySwap = memory * 2;
}

// ---- docker -> kernel values ------------------------------------------------------------------

/**
 * The CFS quota and period that --cpus or --cpu-quota/--cpu-period ask for (microseconds, quota
 * -1 = unlimited); undefined if none. Either may be absent on `update`: the kernel keeps it.
 */
// #region lesson-09-cpu-quota
export function cpuQuotaPeriod(l: Partial<Limits>): { quota?: number; period?: number } | undefined {
  if (l.nanoCpus !== undefined && l.nanoCpus > 0) {
    // moby getCPUResources: period 100 ms, quota = NanoCPUs * period / 1e9
    return { quota: Math.trunc((l.nanoCpus * DEFAULT_CPU_PERIOD) / 1e9), period: DEFAULT_CPU_PERIOD };
  }
  if (l.cpuQuota === undefined && l.cpuPeriod === undefined) return undefined;
  return { quota: l.cpuQuota, period: l.cpuPeriod };
}
// #endregion lesson-09-cpu-quota

// #region lesson-09-v2-mapping
/** runc's ConvertCPUSharesToCgroupV2Value: shares [2, 262144] -> cpu.weight [1, 10000]. */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's ConvertMemorySwapToCgroupV2Value: docker's memory+swap -> memory.swap.max (swap only). */
export function memorySwapToV2(memorySwap: number, memory: number): number {
  if (memory === -1 && memorySwap === 0) return -1;
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === 0 || memory === -1) throw invalid('unable to set swap limit without memory limit');
  if (memorySwap < memory) throw invalid('memory+swap limit should be >= memory limit');
  return memorySwap - memory;
}

/**
 * cpu.max: "quota period", "max period" when unlimited; the kernel also takes the quota alone
 * (the period stays). `current` is today's cpu.max, for a new period that comes without a quota.
 */
export function cpuMaxValue(quota: number | undefined, period: number | undefined, current?: string): string {
  const q = quota === undefined ? (current?.trim().split(/\s+/)[0] ?? 'max') : quota > 0 ? String(quota) : 'max';
  return period === undefined ? q : `${q} ${period}`;
}

/** runc's ConvertBlkIOToIOWeightValue: blkio weight [10, 1000] -> io.weight [1, 10000]. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** io.max lines, one per device: "MAJ:MIN rbps=N wbps=N riops=N wiops=N" (only the keys set). */
export function ioMaxLines(l: Partial<Limits>): string[] {
  const byDev = new Map<string, string[]>();
  const add = (list: ThrottleDevice[] | undefined, key: string) => {
    for (const d of list ?? []) {
      const k = `${d.major}:${d.minor}`;
      const keys = byDev.get(k) ?? [];
      // a rate of 0 removes the limit, as it does in v1's throttle files
      keys.push(`${key}=${d.rate === 0 ? 'max' : d.rate}`);
      byDev.set(k, keys);
    }
  };
  add(l.deviceReadBps, 'rbps');
  add(l.deviceWriteBps, 'wbps');
  add(l.deviceReadIops, 'riops');
  add(l.deviceWriteIops, 'wiops');
  return [...byDev].map(([dev, keys]) => `${dev} ${keys.join(' ')}`);
}
// #endregion lesson-09-v2-mapping

/** The kind of controller each limit needs (v1 calls "io" blkio). */
export type LimitController = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'io';

const CONTROLLER_OF: Record<keyof Limits, LimitController> = {
  memory: 'memory', memorySwap: 'memory', memoryReservation: 'memory', oomKillDisable: 'memory',
  nanoCpus: 'cpu', cpuShares: 'cpu', cpuPeriod: 'cpu', cpuQuota: 'cpu', cpusetCpus: 'cpuset', pidsLimit: 'pids',
  blkioWeight: 'io', deviceReadBps: 'io', deviceWriteBps: 'io', deviceReadIops: 'io', deviceWriteIops: 'io',
};

/** The controllers the limits that are set need, in a stable order. */
export function controllersFor(l: Partial<Limits>): LimitController[] {
  const out = new Set<LimitController>();
  for (const [k, v] of Object.entries(l)) {
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    const c = CONTROLLER_OF[k as keyof Limits];
    if (c) out.add(c);
  }
  return (['memory', 'cpu', 'cpuset', 'pids', 'io'] as const).filter((c) => out.has(c));
}

/**
 * One file write a driver performs. `alternatives` are other names for the same knob, tried in
 * order when the file is missing (e.g. blkio.weight needs CFQ, blkio.bfq.weight BFQ); `optional`
 * writes are skipped when no name exists (the feature is absent and docker would have warned).
 */
export interface CgroupWrite {
  /** the v1 controller whose hierarchy holds the file; undefined on v2 */
  controller?: V1Controller;
  file: string;
  value: string;
  alternatives?: { file: string; value: string }[];
  optional?: boolean;
}

export type V1Controller = 'memory' | 'cpu' | 'cpuacct' | 'cpuset' | 'pids' | 'blkio' | 'freezer';

const v2num = (n: number): string => (n < 0 ? 'max' : String(n));

/**
 * Docker limits -> cgroup v2 files, in the order runc writes them. `current` holds values read
 * from the cgroup that a partial update needs (today's cpu.max and memory.max).
 */
export function v2Writes(l: Partial<Limits>, current: { cpuMax?: string; memoryMax?: string } = {}): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memorySwap !== undefined) {
    const curMem = current.memoryMax === undefined ? 0 : current.memoryMax.trim() === 'max' ? -1 : Number(current.memoryMax);
    const swap = memorySwapToV2(l.memorySwap, l.memory ?? curMem);
    const value = swap === 0 ? '0' : v2num(swap);
    // without swap accounting there is no memory.swap.max: "max" and "0" are then no-ops (runc)
    w.push({ file: 'memory.swap.max', value, optional: value === 'max' || value === '0' });
  }
  if (l.memory !== undefined) w.push({ file: 'memory.max', value: v2num(l.memory) });
  if (l.memoryReservation !== undefined) w.push({ file: 'memory.low', value: v2num(l.memoryReservation) });
  if (l.cpuShares !== undefined && l.cpuShares > 0) w.push({ file: 'cpu.weight', value: String(cpuSharesToWeight(l.cpuShares)) });
  const qp = cpuQuotaPeriod(l);
  if (qp) w.push({ file: 'cpu.max', value: cpuMaxValue(qp.quota, qp.period, current.cpuMax) });
  if (l.cpusetCpus !== undefined) w.push({ file: 'cpuset.cpus', value: l.cpusetCpus });
  if (l.pidsLimit !== undefined) w.push({ file: 'pids.max', value: v2num(l.pidsLimit <= 0 ? -1 : l.pidsLimit) });
  if (l.blkioWeight !== undefined && l.blkioWeight > 0) {
    // BFQ takes the v1 range as is; io.weight (blk-iocost) needs runc's conversion
    w.push({ file: 'io.bfq.weight', value: String(l.blkioWeight), alternatives: [{ file: 'io.weight', value: String(blkioWeightToIoWeight(l.blkioWeight)) }] });
  }
  for (const line of ioMaxLines(l)) w.push({ file: 'io.max', value: line });
  return w;
}

/** Docker limits -> cgroup v1 files (the driver orders memory and memsw against the current values). */
// #region lesson-09-v1-writes
export function v1Writes(l: Partial<Limits>): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (l.memory !== undefined) w.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(l.memory < 0 ? -1 : l.memory) });
  // memsw exists only with swap accounting (CONFIG_MEMCG_SWAP and swapaccount=1)
  if (l.memorySwap !== undefined) w.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(l.memorySwap < 0 ? -1 : l.memorySwap), optional: true });
  if (l.memoryReservation !== undefined) w.push({ controller: 'memory', file: 'memory.soft_limit_in_bytes', value: String(l.memoryReservation < 0 ? -1 : l.memoryReservation) });
  if (l.oomKillDisable !== undefined) w.push({ controller: 'memory', file: 'memory.oom_control', value: l.oomKillDisable ? '1' : '0' });
  if (l.cpuShares !== undefined && l.cpuShares > 0) w.push({ controller: 'cpu', file: 'cpu.shares', value: String(l.cpuShares) });
  const qp = cpuQuotaPeriod(l);
  if (qp?.period !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(qp.period) });
  if (qp?.quota !== undefined) w.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(qp.quota > 0 ? qp.quota : -1) });
  if (l.cpusetCpus !== undefined) w.push({ controller: 'cpuset', file: 'cpuset.cpus', value: l.cpusetCpus });
  if (l.pidsLimit !== undefined) w.push({ controller: 'pids', file: 'pids.max', value: v2num(l.pidsLimit <= 0 ? -1 : l.pidsLimit) });
  if (l.blkioWeight !== undefined && l.blkioWeight > 0) {
    w.push({ controller: 'blkio', file: 'blkio.weight', value: String(l.blkioWeight), alternatives: [{ file: 'blkio.bfq.weight', value: String(l.blkioWeight) }] });
  }
  const throttle: [keyof Limits, string][] = [
    ['deviceReadBps', 'blkio.throttle.read_bps_device'],
    ['deviceWriteBps', 'blkio.throttle.write_bps_device'],
    ['deviceReadIops', 'blkio.throttle.read_iops_device'],
    ['deviceWriteIops', 'blkio.throttle.write_iops_device'],
  ];
  for (const [key, file] of throttle) {
    for (const d of (l[key] as ThrottleDevice[] | undefined) ?? []) {
      w.push({ controller: 'blkio', file, value: `${d.major}:${d.minor} ${d.rate}` });
    }
  }
  return w;
}
// #endregion lesson-09-v1-writes
