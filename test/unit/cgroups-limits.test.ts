// docker's limit flags, parsed and validated as docker does, and the docker -> kernel value
// mappings (runc's formulas for cgroup v2). Pure: runs on every machine.
import t, { type Test } from 'tap';
import {
  blkioWeightToIoWeight, controllersFor, cpuMaxValue, cpuQuotaPeriod, cpuSharesToWeight, ioMaxLines, memorySwapToV2, parseCpuList,
  parseLimits, parseNanoCpus, ramInBytes, v1Writes, v2Writes, type DeviceStat, type LimitFlags, type ParseOptions,
} from '../../lib/engine/cgroups/limits.js';
import { EngineError } from '../../lib/engine/errors.js';

const MiB = 1024 * 1024;

// a host of 2 CPUs with one block device, 8:16 at /dev/sdb, and a character device
const devices: Record<string, DeviceStat> = {
  '/dev/sdb': { isBlockDevice: true, major: 8, minor: 16 },
  '/dev/loop3': { isBlockDevice: true, major: 7, minor: 3 },
  '/dev/null': { isBlockDevice: false, major: 1, minor: 3 },
};
const host: ParseOptions = {
  ncpu: 2,
  availableCpus: '0-1',
  statDevice: (p) => {
    const d = devices[p];
    if (!d) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return d;
  },
};
const parse = (flags: LimitFlags, opts: ParseOptions = {}) => parseLimits(flags, { ...host, ...opts });

function refuses(t: Test, flags: LimitFlags, message: string | RegExp, opts: ParseOptions = {}): void {
  try {
    parse(flags, opts);
    t.fail(`${JSON.stringify(flags)} should be refused`);
  } catch (e) {
    t.type(e, EngineError, `${JSON.stringify(flags)}: an EngineError`);
    t.equal((e as EngineError).code, 'invalid_limit');
    t.equal((e as EngineError).exitCode, 125, 'exit 125, as docker for a bad flag');
    if (typeof message === 'string') t.equal((e as Error).message, message);
    else t.match((e as Error).message, message);
  }
}

t.test('sizes as docker/go-units RAMInBytes reads them', async (t) => {
  const cases: [string, number][] = [
    ['0', 0], ['100', 100], ['100b', 100], ['100B', 100], ['1k', 1024], ['1K', 1024], ['1kb', 1024], ['1KiB', 1024],
    ['64m', 64 * MiB], ['64M', 64 * MiB], ['64mb', 64 * MiB], ['64MB', 64 * MiB], ['64MiB', 64 * MiB], ['64 m', 64 * MiB],
    ['1g', 1024 * MiB], ['1.5g', 1.5 * 1024 * MiB], ['2t', 2 * 1024 ** 4], ['1p', 1024 ** 5], ['0.5k', 512], ['1 ', 1],
  ];
  for (const [s, n] of cases) t.equal(ramInBytes(s), n, s);
  for (const bad of ['1x', 'm', '', '-1', ' 1', '1mm', '64 mb ', 'one', '1e6']) {
    t.throws(() => ramInBytes(bad), { message: `invalid size: '${bad}'` }, JSON.stringify(bad));
  }
  t.throws(() => ramInBytes('1.2.3m'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
});

t.test('-m/--memory, --memory-swap, --memory-reservation', async (t) => {
  t.same(parse({ memory: '32m' }).limits, { memory: 32 * MiB, memorySwap: 64 * MiB }, 'docker\'s default: memory+swap = 2 x memory');
  t.same(parse({ memory: '32m', memorySwap: '-1' }).limits, { memory: 32 * MiB, memorySwap: -1 }, '-1: unlimited swap');
  t.same(parse({ memory: '32m', memorySwap: '32m' }).limits, { memory: 32 * MiB, memorySwap: 32 * MiB }, 'equal: no swap at all');
  t.same(parse({ memory: '64mb', memoryReservation: '16m' }).limits, { memory: 64 * MiB, memorySwap: 128 * MiB, memoryReservation: 16 * MiB });
  t.same(parse({ memory: '32m' }, { update: true }).limits, { memory: 32 * MiB }, 'update: no default for swap');
  t.same(parse({ memorySwap: '64m' }, { update: true }).limits, { memorySwap: 64 * MiB }, 'update: swap alone is allowed');
  t.same(parse({ memory: '0' }).limits, {}, '0: not set');
  t.same(parse({ memory: 32 * MiB }).limits.memory, 32 * MiB, 'a number passes as bytes');

  refuses(t, { memory: '1x' }, 'invalid argument "1x" for "-m, --memory" flag: invalid size: \'1x\'');
  refuses(t, { memory: '4m' }, 'Minimum memory limit allowed is 6MB');
  refuses(t, { memory: '6291455' }, 'Minimum memory limit allowed is 6MB');
  t.equal(parse({ memory: '6m' }).limits.memory, 6 * MiB, 'exactly 6 MiB is allowed');
  refuses(t, { memory: '64m', memorySwap: '32m' }, 'Minimum memoryswap limit should be larger than memory limit, see usage');
  refuses(t, { memorySwap: '64m' }, 'You should always set the Memory limit when using Memoryswap limit, see usage');
  refuses(t, { memory: '64m', memorySwap: 'lots' }, 'invalid argument "lots" for "--memory-swap" flag: invalid size: \'lots\'');
  refuses(t, { memory: '64m', memoryReservation: '1m' }, 'Minimum memory reservation allowed is 6MB');
  refuses(t, { memory: '64m', memoryReservation: '128m' }, 'Minimum memory limit can not be less than memory reservation limit, see usage');
  refuses(t, { memoryReservation: '12q' }, 'invalid argument "12q" for "--memory-reservation" flag: invalid size: \'12q\'');
});

t.test('--oom-kill-disable', async (t) => {
  t.same(parse({ memory: '32m', oomKillDisable: true }), { limits: { memory: 32 * MiB, memorySwap: 64 * MiB, oomKillDisable: true }, warnings: [] });
  t.same(parse({ oomKillDisable: true }).warnings, ['OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.'], 'docker\'s warning without -m');
  t.equal(parse({ oomKillDisable: 'false' }).limits.oomKillDisable, false);
  refuses(t, { oomKillDisable: 'maybe' }, 'invalid argument "maybe" for "--oom-kill-disable" flag: strconv.ParseBool: parsing "maybe": invalid syntax');
});

t.test('--cpus: exact decimals, range from 0.01 to the CPUs there are', async (t) => {
  t.equal(parseNanoCpus('0.5'), 500_000_000);
  t.equal(parseNanoCpus('1.25'), 1_250_000_000);
  t.equal(parseNanoCpus('.5'), 500_000_000);
  t.equal(parseNanoCpus('3/4'), 750_000_000, 'a fraction, as big.Rat reads it');
  t.equal(parseNanoCpus('1e-1'), 100_000_000);
  t.equal(parseNanoCpus('0.000000001'), 1);
  t.throws(() => parseNanoCpus('0.0000000001'), { message: 'value is too precise' });
  t.throws(() => parseNanoCpus('half'), { message: 'failed to parse half as a rational number' });
  t.throws(() => parseNanoCpus('1/0'), { message: 'failed to parse 1/0 as a rational number' });

  t.same(parse({ cpus: '0.5' }).limits, { nanoCpus: 500_000_000 });
  t.same(cpuQuotaPeriod(parse({ cpus: '0.5' }).limits), { quota: 50000, period: 100000 }, 'docker: period 100 ms, quota cpus x period');
  t.same(cpuQuotaPeriod(parse({ cpus: '1.5' }).limits), { quota: 150000, period: 100000 });
  t.same(cpuQuotaPeriod(parse({ cpus: '0.01' }).limits), { quota: 1000, period: 100000 }, '0.01: the smallest quota the kernel takes, 1 ms');
  t.same(parse({ cpus: '2' }).limits, { nanoCpus: 2e9 }, 'all the CPUs there are');
  t.same(parse({ cpus: '0' }).limits, {}, '0: not set');
  const range = (v: string) => `invalid argument "${v}" for "--cpus" flag: range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available`;
  refuses(t, { cpus: '-1' }, range('-1'));
  refuses(t, { cpus: '2.5' }, range('2.5'));
  refuses(t, { cpus: '0.001' }, range('0.001'));
  refuses(t, { cpus: '-1' }, 'invalid argument "-1" for "--cpus" flag: range of CPUs is from 0.01 to 8.00, as there are only 8 CPUs available', { ncpu: 8 });
  refuses(t, { cpus: 'lots' }, 'invalid argument "lots" for "--cpus" flag: failed to parse lots as a rational number');
  refuses(t, { cpus: '0.1234567891' }, 'invalid argument "0.1234567891" for "--cpus" flag: value is too precise');
  refuses(t, { cpus: '0.5', cpuPeriod: '50000' }, 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  refuses(t, { cpus: '0.5', cpuQuota: '50000' }, 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
});

t.test('--cpu-shares, --cpu-period, --cpu-quota', async (t) => {
  t.same(parse({ cpuShares: '512', cpuPeriod: '50000', cpuQuota: '25000' }).limits, { cpuShares: 512, cpuPeriod: 50000, cpuQuota: 25000 });
  t.same(parse({ cpuShares: '0x200' }).limits, { cpuShares: 512 }, 'pflag parses integers with base 0');
  t.same(parse({ cpuQuota: '-1' }).limits, { cpuQuota: -1 }, '-1: unlimited');
  t.same(parse({ cpuQuota: '-5' }).limits, { cpuQuota: -1 }, 'any negative quota: unlimited');
  refuses(t, { cpuShares: 'x' }, 'invalid argument "x" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "x": invalid syntax');
  refuses(t, { cpuShares: '1.5' }, 'invalid argument "1.5" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "1.5": invalid syntax');
  refuses(t, { cpuShares: '99999999999999999999' }, 'invalid argument "99999999999999999999" for "-c, --cpu-shares" flag: strconv.ParseInt: parsing "99999999999999999999": value out of range');
  refuses(t, { cpuShares: '1' }, 'the minimum allowed cpu-shares is 2');
  refuses(t, { cpuShares: '262145' }, 'the maximum allowed cpu-shares is 262144');
  refuses(t, { cpuShares: '-3' }, 'shares: invalid argument');
  refuses(t, { cpuPeriod: '999' }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  refuses(t, { cpuPeriod: '1000001' }, 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  refuses(t, { cpuQuota: '999' }, 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  refuses(t, { cpuPeriod: 'soon' }, 'invalid argument "soon" for "--cpu-period" flag: strconv.ParseInt: parsing "soon": invalid syntax');
  refuses(t, { cpuQuota: '' }, 'invalid argument "" for "--cpu-quota" flag: strconv.ParseInt: parsing "": invalid syntax');
});

t.test('--cpuset-cpus', async (t) => {
  t.same([...parseCpuList('0-1,3')], [0, 1, 3]);
  t.same([...parseCpuList('2')], [2]);
  t.same([...parseCpuList('')], []);
  for (const bad of ['0-x', '1-0', 'a', '0,', '-1', '0-']) t.throws(() => parseCpuList(bad), { message: `invalid format: ${bad}` }, bad);
  t.same(parse({ cpusetCpus: '0-1' }).limits, { cpusetCpus: '0-1' });
  t.same(parse({ cpusetCpus: '1' }).limits, { cpusetCpus: '1' });
  refuses(t, { cpusetCpus: '0-x' }, 'Invalid value 0-x for cpuset cpus: invalid format: 0-x');
  refuses(t, { cpusetCpus: '0-1,3' }, 'Requested CPUs are not available - requested 0-1,3, available: 0-1');
  t.same(parse({ cpusetCpus: '0-1,3' }, { availableCpus: '0-3' }).limits, { cpusetCpus: '0-1,3' });
});

t.test('--pids-limit', async (t) => {
  t.same(parse({ pidsLimit: '20' }).limits, { pidsLimit: 20 });
  t.same(parse({ pidsLimit: '-1' }).limits, { pidsLimit: -1 }, '-1: unlimited');
  t.same(parse({ pidsLimit: '0' }).limits, { pidsLimit: -1 }, 'docker: 0 means unlimited as well');
  refuses(t, { pidsLimit: 'many' }, 'invalid argument "many" for "--pids-limit" flag: strconv.ParseInt: parsing "many": invalid syntax');
});

t.test('--blkio-weight', async (t) => {
  t.same(parse({ blkioWeight: '500' }).limits, { blkioWeight: 500 });
  t.same(parse({ blkioWeight: '10' }).limits, { blkioWeight: 10 });
  t.same(parse({ blkioWeight: '1000' }).limits, { blkioWeight: 1000 });
  t.same(parse({ blkioWeight: '0' }).limits, {}, '0: not set');
  refuses(t, { blkioWeight: '5' }, 'Range of blkio weight is from 10 to 1000');
  refuses(t, { blkioWeight: '1001' }, 'Range of blkio weight is from 10 to 1000');
  refuses(t, { blkioWeight: '70000' }, 'invalid argument "70000" for "--blkio-weight" flag: strconv.ParseUint: parsing "70000": value out of range');
  refuses(t, { blkioWeight: '-5' }, 'invalid argument "-5" for "--blkio-weight" flag: strconv.ParseUint: parsing "-5": invalid syntax');
});

t.test('--device-{read,write}-{bps,iops}: PATH:RATE, the path resolved to MAJ:MIN', async (t) => {
  t.same(parse({ deviceWriteBps: ['/dev/sdb:1mb'] }).limits, { deviceWriteBps: [{ path: '/dev/sdb', major: 8, minor: 16, rate: MiB }] });
  t.same(parse({ deviceReadBps: ['/dev/sdb:10M', '/dev/loop3:512k'] }).limits.deviceReadBps, [
    { path: '/dev/sdb', major: 8, minor: 16, rate: 10 * MiB },
    { path: '/dev/loop3', major: 7, minor: 3, rate: 512 * 1024 },
  ]);
  t.same(parse({ deviceWriteIops: ['/dev/sdb:100'] }).limits.deviceWriteIops, [{ path: '/dev/sdb', major: 8, minor: 16, rate: 100 }]);
  t.same(parse({ deviceReadIops: ['/dev/sdb:0'] }).limits.deviceReadIops, [{ path: '/dev/sdb', major: 8, minor: 16, rate: 0 }]);
  const bpsFormat = 'The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb';
  refuses(t, { deviceWriteBps: ['/dev/sdb'] }, 'invalid argument "/dev/sdb" for "--device-write-bps" flag: bad format: /dev/sdb');
  refuses(t, { deviceWriteBps: [':1mb'] }, 'invalid argument ":1mb" for "--device-write-bps" flag: bad format: :1mb');
  refuses(t, { deviceWriteBps: ['sdb:1mb'] }, 'invalid argument "sdb:1mb" for "--device-write-bps" flag: bad format for device path: sdb:1mb');
  refuses(t, { deviceReadBps: ['/dev/sdb:fast'] }, `invalid argument "/dev/sdb:fast" for "--device-read-bps" flag: invalid rate for device: /dev/sdb:fast. ${bpsFormat}`);
  refuses(t, { deviceReadIops: ['/dev/sdb:1k'] }, 'invalid argument "/dev/sdb:1k" for "--device-read-iops" flag: invalid rate for device: /dev/sdb:1k. The correct format is <device-path>:<number>. Number must be a positive integer');
  refuses(t, { deviceWriteIops: ['/dev/sdb:-3'] }, /invalid rate for device: \/dev\/sdb:-3/);
  refuses(t, { deviceWriteBps: ['/dev/nope:1mb'] }, '--device-write-bps: stat /dev/nope: no such file or directory');
  refuses(t, { deviceWriteBps: ['/dev/null:1mb'] }, '--device-write-bps: /dev/null is not a block device');
});

t.test('device paths on this machine: stat(2) for real', async (t) => {
  refuses(t, { deviceWriteBps: ['/dev/null:1mb'] }, '--device-write-bps: /dev/null is not a block device', { statDevice: undefined });
  refuses(t, { deviceWriteBps: ['/dev/mdtest-no-such-device:1mb'] }, '--device-write-bps: stat /dev/mdtest-no-such-device: no such file or directory', { statDevice: undefined });
});

t.test('docker -> cgroup v2 values, as runc converts them', async (t) => {
  // cpu.weight = 1 + ((shares - 2) * 9999) / 262142
  t.equal(cpuSharesToWeight(2), 1, 'the smallest share -> the smallest weight');
  t.equal(cpuSharesToWeight(1024), 39, 'docker\'s default 1024 -> 39 (not the v2 default 100)');
  t.equal(cpuSharesToWeight(512), 20);
  t.equal(cpuSharesToWeight(262144), 10000, 'the largest share -> the largest weight');
  t.equal(cpuSharesToWeight(0), 0, 'unset stays unset');
  // memory.swap.max = memory+swap - memory
  t.equal(memorySwapToV2(64 * MiB, 32 * MiB), 32 * MiB);
  t.equal(memorySwapToV2(32 * MiB, 32 * MiB), 0, 'equal: no swap');
  t.equal(memorySwapToV2(-1, 32 * MiB), -1, 'unlimited');
  t.equal(memorySwapToV2(0, 32 * MiB), 0, 'unset');
  t.equal(memorySwapToV2(0, -1), -1, 'memory unlimited and swap unset: both unlimited');
  t.throws(() => memorySwapToV2(64 * MiB, 0), { message: 'unable to set swap limit without memory limit' });
  t.throws(() => memorySwapToV2(16 * MiB, 32 * MiB), { message: 'memory+swap limit should be >= memory limit' });
  // cpu.max
  t.equal(cpuMaxValue(50000, 100000), '50000 100000');
  t.equal(cpuMaxValue(-1, 100000), 'max 100000');
  t.equal(cpuMaxValue(25000, undefined), '25000', 'the quota alone: the kernel keeps the period');
  t.equal(cpuMaxValue(undefined, 200000, '50000 100000\n'), '50000 200000', 'a new period keeps today\'s quota');
  t.equal(cpuMaxValue(undefined, 200000, 'max 100000\n'), 'max 200000');
  // io.weight = 1 + (weight - 10) * 9999 / 990
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(500), 4950);
  t.equal(blkioWeightToIoWeight(1000), 10000);
  t.equal(blkioWeightToIoWeight(0), 0);
  const { limits } = parse({ deviceReadBps: ['/dev/sdb:2mb'], deviceWriteBps: ['/dev/sdb:1mb', '/dev/loop3:512k'], deviceReadIops: ['/dev/sdb:100'], deviceWriteIops: ['/dev/sdb:50'] });
  t.same(ioMaxLines(limits), ['8:16 rbps=2097152 wbps=1048576 riops=100 wiops=50', '7:3 wbps=524288'], 'one io.max line per device');
  t.same(ioMaxLines({ deviceWriteBps: [{ path: '/dev/sdb', major: 8, minor: 16, rate: 0 }] }), ['8:16 wbps=max'], 'rate 0 lifts the limit');
});

t.test('the mapping tables: every flag to its v1 and v2 file', async (t) => {
  const { limits } = parse({
    memory: '32m', memoryReservation: '16m', oomKillDisable: true, cpuShares: '512', cpuPeriod: '50000', cpuQuota: '25000',
    cpusetCpus: '1', pidsLimit: '20', blkioWeight: '300', deviceWriteBps: ['/dev/sdb:1mb'], deviceReadIops: ['/dev/sdb:100'],
  });
  const pairs = (ws: { file: string; value: string }[]) => ws.map((w) => `${w.file}=${w.value}`);
  t.same(pairs(v2Writes(limits)), [
    'memory.swap.max=33554432', 'memory.max=33554432', 'memory.low=16777216', 'cpu.weight=20', 'cpu.max=25000 50000',
    'cpuset.cpus=1', 'pids.max=20', 'io.bfq.weight=300', 'io.max=8:16 wbps=1048576 riops=100',
  ], 'v2 (memory.swap.max before memory.max, as runc; no oom-kill-disable on v2)');
  t.same(v2Writes(limits).find((w) => w.file === 'io.bfq.weight')?.alternatives, [{ file: 'io.weight', value: '2930' }], 'io.weight when BFQ is absent');
  t.same(v1Writes(limits).map((w) => `${w.controller}/${w.file}=${w.value}`), [
    'memory/memory.limit_in_bytes=33554432', 'memory/memory.memsw.limit_in_bytes=67108864', 'memory/memory.soft_limit_in_bytes=16777216',
    'memory/memory.oom_control=1', 'cpu/cpu.shares=512', 'cpu/cpu.cfs_period_us=50000', 'cpu/cpu.cfs_quota_us=25000',
    'cpuset/cpuset.cpus=1', 'pids/pids.max=20', 'blkio/blkio.weight=300',
    'blkio/blkio.throttle.write_bps_device=8:16 1048576', 'blkio/blkio.throttle.read_iops_device=8:16 100',
  ], 'v1');
  t.same(v1Writes(limits).find((w) => w.file === 'blkio.weight')?.alternatives, [{ file: 'blkio.bfq.weight', value: '300' }], 'blkio.bfq.weight without CFQ');
  t.equal(v1Writes(limits).find((w) => w.file === 'memory.memsw.limit_in_bytes')?.optional, true, 'memsw is skipped without swap accounting');
  // "unlimited" in both dialects
  const unl = { memory: -1, memorySwap: -1, cpuQuota: -1, pidsLimit: -1 };
  t.same(pairs(v2Writes(unl)), ['memory.swap.max=max', 'memory.max=max', 'cpu.max=max', 'pids.max=max']);
  t.same(pairs(v1Writes(unl)), ['memory.limit_in_bytes=-1', 'memory.memsw.limit_in_bytes=-1', 'cpu.cfs_quota_us=-1', 'pids.max=max']);
  t.same(pairs(v2Writes(parse({ cpus: '0.5' }).limits)), ['cpu.max=50000 100000']);
  t.same(pairs(v2Writes({ memorySwap: 128 * MiB }, { memoryMax: `${64 * MiB}\n` })), [`memory.swap.max=${64 * MiB}`], 'update of swap alone: against today\'s memory.max');
  t.same(pairs(v2Writes({}, {})), [], 'nothing set, nothing written');
  t.same(controllersFor(limits), ['memory', 'cpu', 'cpuset', 'pids', 'io'], 'what each limit needs');
  t.same(controllersFor({ nanoCpus: 5e8, deviceWriteBps: [] }), ['cpu']);
  t.same(controllersFor({}), []);
});
