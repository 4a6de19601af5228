// The cgroup v1 driver against a temporary directory laid out like v1: one hierarchy per
// controller. As for v2, the test plays the kernel in mkdir/rmdir and checks what is written
// and how the kernel's files are read.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { V1Driver, V1Cgroup, V1_CONTROLLERS, parseLimits, type DirOps, type ParseOptions, type V1Mounts } from '../../lib/engine/cgroups/index.js';
import { setExplainSink } from '../../lib/engine/log.js';

const MiB = 1024 * 1024;
const UNLIMITED = '9223372036854771712';
const host: ParseOptions = { ncpu: 2, availableCpus: '0-1', statDevice: () => ({ isBlockDevice: true, major: 7, minor: 0 }) };

interface FakeOpts {
  /** BFQ's files in blkio (blkio.bfq.*), as on Linux >= 5.0 with bfq loaded */
  bfq?: boolean;
  /** CFQ's blkio.weight, as before Linux 5.0 */
  cfq?: boolean;
  /** memory.memsw.* (swap accounting) */
  memsw?: boolean;
  /** the oom_kill line of memory.oom_control (Linux >= 4.13) */
  oomKillLine?: boolean;
  /** mount cpu and cpuacct together, as most distributions do */
  comount?: boolean;
}

const read = (...p: string[]) => readFileSync(join(...p), 'utf8');
const put = (dir: string, files: Record<string, string>) => {
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
};

/** The interface files a new cgroup shows in each hierarchy (as read on Linux 6.x). */
function filesOf(controllers: string[], o: FakeOpts): Record<string, string> {
  const f: Record<string, string> = { 'cgroup.procs': '', tasks: '', notify_on_release: '0\n', 'cgroup.clone_children': '0\n' };
  for (const c of controllers) {
    if (c === 'cpuset') Object.assign(f, { 'cpuset.cpus': '\n', 'cpuset.mems': '\n', 'cpuset.effective_cpus': '\n' });
    if (c === 'cpu') Object.assign(f, { 'cpu.shares': '1024\n', 'cpu.cfs_period_us': '100000\n', 'cpu.cfs_quota_us': '-1\n', 'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0\n' });
    if (c === 'cpuacct') Object.assign(f, { 'cpuacct.usage': '0\n', 'cpuacct.usage_user': '0\n', 'cpuacct.usage_sys': '0\n', 'cpuacct.stat': 'user 0\nsystem 0\n' });
    if (c === 'memory') {
      Object.assign(f, {
        'memory.limit_in_bytes': `${UNLIMITED}\n`, 'memory.soft_limit_in_bytes': `${UNLIMITED}\n`, 'memory.usage_in_bytes': '0\n',
        'memory.max_usage_in_bytes': '0\n', 'memory.failcnt': '0\n', 'memory.stat': 'cache 0\nrss 0\ntotal_inactive_file 0\n',
        'memory.oom_control': `oom_kill_disable 0\nunder_oom 0\n${o.oomKillLine === false ? '' : 'oom_kill 0\n'}`,
      });
      if (o.memsw !== false) Object.assign(f, { 'memory.memsw.limit_in_bytes': `${UNLIMITED}\n`, 'memory.memsw.usage_in_bytes': '0\n' });
    }
    if (c === 'pids') Object.assign(f, { 'pids.max': 'max\n', 'pids.current': '0\n', 'pids.events': 'max 0\n' });
    if (c === 'blkio') {
      Object.assign(f, {
        'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_bps_device': '', 'blkio.throttle.read_iops_device': '',
        'blkio.throttle.write_iops_device': '', 'blkio.throttle.io_service_bytes': 'Total 0\n', 'blkio.throttle.io_serviced': 'Total 0\n',
      });
      if (o.bfq) Object.assign(f, { 'blkio.bfq.weight': '100\n', 'blkio.bfq.io_service_bytes': 'Total 0\n' });
      if (o.cfq) f['blkio.weight'] = '500\n';
    }
    if (c === 'freezer') Object.assign(f, { 'freezer.state': 'THAWED\n', 'freezer.self_freezing': '0\n', 'freezer.parent_freezing': '0\n' });
  }
  return f;
}

/** <root>/<controller> hierarchies as the kernel shows them, and mkdir/rmdir as cgroupfs does them. */
function fakeV1(t: Test, o: FakeOpts = {}): { root: string; ops: DirOps; mounts: V1Mounts } {
  const root = mkdtempSync(join(tmpdir(), 'mdtest-cg-v1-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const hier = o.comount ? ['cpuset', 'cpu,cpuacct', 'memory', 'pids', 'blkio', 'freezer'] : ['cpuset', 'cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'freezer'];
  const mounts: V1Mounts = {};
  for (const h of hier) {
    const dir = join(root, h);
    mkdirSync(dir);
    const controllers = h.split(',');
    const files = filesOf(controllers, o);
    // the root cgroup: no limits files, but its CPUs, nodes and statistics
    for (const f of Object.keys(files)) if (/limit_in_bytes|cfs_|shares|pids\.max|freezer\.state|bfq\.weight|^blkio\.weight$/.test(f)) delete files[f];
    Object.assign(files, { 'cgroup.procs': '1\n' });
    if (h === 'cpuset') Object.assign(files, { 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n' });
    if (h === 'memory') files['memory.oom_control'] = `oom_kill_disable 0\nunder_oom 0\n${o.oomKillLine === false ? '' : 'oom_kill 0\n'}`;
    if (h === 'memory' && o.memsw !== false) files['memory.memsw.limit_in_bytes'] = `${UNLIMITED}\n`;
    if (h === 'blkio' && o.cfq) files['blkio.weight'] = '500\n';
    put(dir, files);
    for (const c of controllers) mounts[c as keyof V1Mounts] = dir;
  }
  const ops: DirOps = {
    mkdir(dir) {
      mkdirSync(dir);
      const h = relative(root, dir).split('/')[0]!;
      put(dir, filesOf(h.split(','), o));
    },
    rmdir(dir) {
      const busy = readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory()) || read(dir, 'cgroup.procs').trim() !== '';
      if (busy) throw Object.assign(new Error(`EBUSY: rmdir ${dir}`), { code: 'EBUSY' });
      rmSync(dir, { recursive: true });
    },
  };
  return { root, ops, mounts };
}

function explained(t: Test): string[] {
  const lines: string[] = [];
  setExplainSink((l) => lines.push(l));
  t.teardown(() => setExplainSink(undefined));
  return lines;
}

const writesIn = (lines: string[]) => lines.filter((l) => l.includes(' write ')).map((l) => /write (\S+) <- (.*) \(/.exec(l)!.slice(1, 3).join('='));

t.test('create: a directory per hierarchy, cpuset filled in, every limit in its v1 file', async (t) => {
  const { root, ops } = fakeV1(t, { bfq: true });
  const driver = new V1Driver({ root, parent: 'mini-docker', ops });
  t.same(Object.keys(driver.mounts).sort(), [...V1_CONTROLLERS].sort(), 'mounts found as <root>/<controller> (no mountinfo entries there)');
  const lines = explained(t);
  const { limits } = parseLimits({
    memory: '32m', memoryReservation: '16m', oomKillDisable: true, cpus: '0.5', cpuShares: '512', pidsLimit: '20', blkioWeight: '300',
    deviceWriteBps: ['/dev/loop0:1mb'], deviceReadIops: ['/dev/loop0:100'], cpusetCpus: '0-1',
  }, host);
  const cg = driver.create('c1', limits);
  t.same(cg.paths, Object.fromEntries(V1_CONTROLLERS.map((c) => [c, join(root, c, 'mini-docker', 'c1')])), '<root>/<controller>/mini-docker/<name>');
  const p = cg.paths as Record<string, string>;
  const expect: [string, string, string][] = [
    ['memory', 'memory.limit_in_bytes', '33554432'], ['memory', 'memory.memsw.limit_in_bytes', '67108864'],
    ['memory', 'memory.soft_limit_in_bytes', '16777216'], ['memory', 'memory.oom_control', '1'],
    ['cpu', 'cpu.cfs_period_us', '100000'], ['cpu', 'cpu.cfs_quota_us', '50000'], ['cpu', 'cpu.shares', '512'],
    ['pids', 'pids.max', '20'], ['blkio', 'blkio.bfq.weight', '300'],
    ['blkio', 'blkio.throttle.write_bps_device', '7:0 1048576'], ['blkio', 'blkio.throttle.read_iops_device', '7:0 100'],
  ];
  for (const [c, f, v] of expect) t.equal(read(p[c]!, f), v, `${c}/${f} = "${v}"`);
  for (const d of [join(root, 'cpuset', 'mini-docker'), p.cpuset!]) {
    t.equal(read(d, 'cpuset.cpus'), '0-1', `${relative(root, d)}: cpuset.cpus copied from its parent`);
    t.equal(read(d, 'cpuset.mems'), '0', `${relative(root, d)}: cpuset.mems copied (else no task could join: ENOSPC)`);
  }
  const w = writesIn(lines);
  t.ok(w.indexOf('memory.limit_in_bytes=33554432') < w.indexOf('memory.memsw.limit_in_bytes=67108864'), 'memory before memsw in a new cgroup');
  t.match(lines.join('\n'), /cgroup +mkdir .*\/memory\/mini-docker\n/, 'mkdir of the parent is explained');
});

t.test('--cpuset-cpus in the leaf; blkio.weight where CFQ has it', async (t) => {
  const { root, ops } = fakeV1(t, { cfq: true });
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ cpusetCpus: '1', blkioWeight: '300' }, host).limits);
  t.equal(read(cg.paths.cpuset!, 'cpuset.cpus'), '1');
  t.equal(read(cg.paths.cpuset!, 'cpuset.mems'), '0');
  t.equal(read(cg.paths.blkio!, 'blkio.weight'), '300');
});

t.test('no BFQ and no CFQ: --blkio-weight is refused before anything is made', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  t.throws(() => driver.create('c', { blkioWeight: 300 }), { code: 'cgroup_unsupported', message: /--blkio-weight: this kernel has no proportional I\/O policy/ });
  t.same(driver.list(), []);
  t.notOk(existsSync(join(root, 'memory', 'md')), 'not even the parent');
});

t.test('no swap accounting: docker\'s warning, and memsw is skipped', async (t) => {
  const { root, ops } = fakeV1(t, { memsw: false });
  const driver = new V1Driver({ root, parent: 'md', ops });
  const { limits } = parseLimits({ memory: '32m' }, host);
  t.same(driver.validate(limits), ['Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.']);
  const cg = driver.create('c', limits);
  t.equal(read(cg.paths.memory!, 'memory.limit_in_bytes'), '33554432');
  t.notOk(existsSync(join(cg.paths.memory!, 'memory.memsw.limit_in_bytes')), 'no memsw file made up');
});

t.test('a controller that is not mounted: refused before anything is made', async (t) => {
  const { root, ops, mounts } = fakeV1(t);
  const { pids: _gone, ...rest } = mounts;
  const driver = new V1Driver({ root, parent: 'md', ops, mounts: rest });
  t.throws(() => driver.create('c', { pidsLimit: 20 }), { code: 'cgroup_controller_missing', message: /--pids-limit: the pids controller has no cgroup v1 hierarchy/ });
  t.same(driver.list(), []);
  const cg = driver.create('d', { memory: 32 * MiB });
  t.notOk('pids' in cg.paths, 'without the limit, the cgroup is made in the hierarchies there are');
});

t.test('without --cpuset-cpus the container stays in its parent\'s cpuset (joining one costs ~10 ms)', async (t) => {
  const { root, ops } = fakeV1(t, {});
  const driver = new V1Driver({ root, parent: 'mini-docker', ops });
  const cg = driver.create('plain', parseLimits({ memory: '32m' }, host).limits);
  t.equal(cg.paths.cpuset, undefined);
  t.notOk(existsSync(join(root, 'cpuset', 'mini-docker', 'plain')));
  t.throws(() => cg.update({ cpusetCpus: '0' }), { code: 'cgroup_controller_missing', message: /no cpuset directory/ });
  await cg.remove();
});

t.test('cpu and cpuacct mounted together: one directory for both', async (t) => {
  const { root, ops, mounts } = fakeV1(t, { comount: true });
  t.equal(mounts.cpu, mounts.cpuacct);
  const driver = new V1Driver({ root, parent: 'md', ops, mounts });
  const lines = explained(t);
  const cg = driver.create('c', parseLimits({ cpus: '1' }, host).limits);
  t.equal(cg.paths.cpu, cg.paths.cpuacct);
  t.equal(basename(join(cg.paths.cpu!, '..', '..')), 'cpu,cpuacct');
  t.equal(lines.filter((l) => /mkdir .*\/c$/.test(l)).length, 5, 'five hierarchies (no cpuset without --cpuset-cpus), five directories');
  t.equal(read(cg.paths.cpu!, 'cpu.cfs_quota_us'), '100000');
  cg.addProcess(4000001);
  t.equal(lines.filter((l) => /write cgroup\.procs <- 4000001/.test(l)).length, 5, 'the PID joins each hierarchy once');
  writeFileSync(join(cg.paths.cpu!, 'cgroup.procs'), '');
  for (const d of Object.values(cg.paths)) writeFileSync(join(d, 'cgroup.procs'), '');
  await cg.remove();
  t.same(driver.list(), []);
});

t.test('cpu and cpuacct as symlinks to "cpu,cpuacct", found by looking: still one directory', async (t) => {
  const { root, ops } = fakeV1(t, { comount: true });
  symlinkSync('cpu,cpuacct', join(root, 'cpu'));
  symlinkSync('cpu,cpuacct', join(root, 'cpuacct'));
  const driver = new V1Driver({ root, parent: 'md', ops });
  t.equal(driver.mounts.cpu, join(root, 'cpu'));
  t.equal(driver.mounts.cpuacct, join(root, 'cpuacct'));
  const lines = explained(t);
  const cg = driver.create('c', parseLimits({ cpus: '1' }, host).limits);
  t.equal(lines.filter((l) => /mkdir .*\/c$/.test(l)).length, 5, 'the symlinked hierarchy gets one directory');
  t.equal(lines.filter((l) => /mkdir .*\/md$/.test(l)).length, 5, 'and one parent');
  t.equal(read(root, 'cpu,cpuacct', 'md', 'c', 'cpu.cfs_quota_us'), '100000');
  t.same(driver.list(), ['c']);
  await cg.remove();
  t.ok(driver.removeParent());
  t.notOk(existsSync(join(root, 'cpu,cpuacct', 'md')));
});

t.test('update: memsw first when the new memory is above it; docker\'s words when not given', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ memory: '32m' }, host).limits);
  const mem = cg.paths.memory!;
  const lines = explained(t);
  cg.update(parseLimits({ memory: '256m', memorySwap: '512m' }, { ...host, update: true }).limits);
  t.same(writesIn(lines), ['memory.memsw.limit_in_bytes=536870912', 'memory.limit_in_bytes=268435456'], 'raise: memsw, then memory');
  lines.length = 0;
  cg.update(parseLimits({ memory: '16m', memorySwap: '32m' }, { ...host, update: true }).limits);
  t.same(writesIn(lines), ['memory.limit_in_bytes=16777216', 'memory.memsw.limit_in_bytes=33554432'], 'lower: memory, then memsw');
  t.equal(read(mem, 'memory.limit_in_bytes'), '16777216');
  lines.length = 0;
  cg.update({ pidsLimit: -1, cpuQuota: -1, cpuShares: 2048 });
  t.same(writesIn(lines), ['cpu.shares=2048', 'cpu.cfs_quota_us=-1', 'pids.max=max'], 'only what is given');
});

t.test('stats and oomKilled: the kernel\'s v1 files parsed', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ memory: '32m', pidsLimit: '20' }, host).limits);
  const p = cg.paths as Record<string, string>;
  t.notOk(cg.oomKilled());
  put(p.cpu!, { 'cpu.stat': 'nr_periods 30\nnr_throttled 29\nthrottled_time 1320000000\nnr_bursts 0\nburst_time 0\n' });
  put(p.cpuacct!, { 'cpuacct.usage': '1500000000\n', 'cpuacct.usage_user': '1400000000\n', 'cpuacct.usage_sys': '100000000\n' });
  put(p.memory!, {
    'memory.usage_in_bytes': '33521664\n', 'memory.max_usage_in_bytes': '33554432\n', 'memory.failcnt': '83\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n', 'memory.stat': 'cache 4096\nrss 33517568\ntotal_inactive_file 4096\n',
  });
  put(p.pids!, { 'pids.current': '3\n' });
  put(p.blkio!, {
    'blkio.throttle.io_service_bytes': '7:0 Read 0\n7:0 Write 4194304\n7:0 Sync 4194304\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 4194304\nTotal 4194304\n',
    'blkio.throttle.io_serviced': '7:0 Read 0\n7:0 Write 16\n7:0 Sync 16\n7:0 Async 0\n7:0 Discard 0\n7:0 Total 16\nTotal 16\n',
  });
  t.same(cg.stats(), {
    cpu: { usageNs: 1.5e9, userNs: 1.4e9, systemNs: 1e8, nrPeriods: 30, nrThrottled: 29, throttledNs: 1.32e9 },
    memory: { usage: 33521664, limit: 32 * MiB, maxUsage: 32 * MiB, failcnt: 83, oomKills: 1, inactiveFile: 4096 },
    pids: { current: 3, limit: 20 },
    io: [{ device: '7:0', major: 7, minor: 0, readBytes: 0, writeBytes: 4194304, readOps: 0, writeOps: 16 }],
  });
  t.ok(cg.oomKilled(), 'memory.oom_control oom_kill 1');
  const free = driver.create('d', {});
  t.equal(free.stats().memory.limit, null, `${UNLIMITED}: no limit`);
  t.equal(free.stats().pids.limit, null, 'max: no limit');
});

t.test('oomKilled before Linux 4.13 (no oom_kill line): failcnt is the evidence', async (t) => {
  const { root, ops } = fakeV1(t, { oomKillLine: false });
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', { memory: 32 * MiB });
  t.notOk(cg.oomKilled());
  writeFileSync(join(cg.paths.memory!, 'memory.failcnt'), '12\n');
  t.ok(cg.oomKilled());
});

t.test('freezer: FROZEN, THAWED; a cgroup stuck in FREEZING is asked again, then given up', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', {}) as V1Cgroup;
  const dir = cg.paths.freezer!;
  await cg.freeze();
  t.equal(read(dir, 'freezer.state'), 'FROZEN');
  t.ok(cg.frozen());
  cg.thaw();
  t.equal(read(dir, 'freezer.state'), 'THAWED');
  t.notOk(cg.frozen());
  // play a kernel that never reaches FROZEN: the state file swallows writes and reads empty
  rmSync(join(dir, 'freezer.state'));
  symlinkSync('/dev/null', join(dir, 'freezer.state'));
  const lines = explained(t);
  await t.rejects(cg.freeze(400), { code: 'cgroup_freeze_timeout' });
  t.ok(lines.filter((l) => l.includes('freezer.state <- FROZEN')).length >= 3, 'FROZEN asked again while FREEZING');
  t.match(lines.at(-1), /freezer\.state <- THAWED/, 'given up: thawed');
});

t.test('killAll: SIGKILL, then freeze-kill-thaw for what escaped, until empty; remove takes every hierarchy\'s directory', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', {});
  const [first, second] = [spawn('sleep', ['30'], { stdio: 'ignore' }), spawn('sleep', ['30'], { stdio: 'ignore' })];
  t.teardown(() => {
    for (const c of [first, second]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const exit = (c: typeof first) => new Promise<NodeJS.Signals | null>((r) => c.on('exit', (_c, s) => r(s)));
  const [firstExit, secondExit] = [exit(first), exit(second)];
  cg.addProcess(first.pid!);
  for (const d of Object.values(cg.paths)) t.equal(read(d, 'cgroup.procs'), String(first.pid), `${relative(root, d)}: joined`);
  t.same(cg.pids(), [first.pid]);
  const setProcs = (v: string) => {
    for (const d of Object.values(cg.paths)) writeFileSync(join(d, 'cgroup.procs'), v);
  };
  // play the kernel: the first dies, but a child it forked a moment before shows up
  void firstExit.then(() => setProcs(`${second.pid}\n`));
  void secondExit.then(() => setProcs(''));
  const lines = explained(t);
  const paths = { ...cg.paths };
  await cg.remove();
  t.equal(await firstExit, 'SIGKILL');
  t.equal(await secondExit, 'SIGKILL');
  const ops2 = lines.filter((l) => / kill | write freezer/.test(l)).map((l) => l.replace(/^cgroup +/, '').replace(/ \(.*$/, ''));
  t.same(ops2, [`kill -SIGKILL ${first.pid}`, 'write freezer.state <- FROZEN', `kill -SIGKILL ${second.pid}`, 'write freezer.state <- THAWED'], 'SIGKILL at once; then freeze, kill, thaw for the escaped one');
  for (const d of Object.values(paths)) t.notOk(existsSync(d), `${relative(root, d)} removed`);
  t.ok(driver.removeParent());
  for (const c of V1_CONTROLLERS) t.same(readdirSync(join(root, c)).filter((n) => !n.includes('.') && n !== 'tasks' && n !== 'notify_on_release'), [], `${c}: the parent is gone`);
});

t.test('list, open and names', async (t) => {
  const { root, ops } = fakeV1(t);
  const driver = new V1Driver({ root, parent: 'md', ops });
  driver.create('b', {});
  driver.create('a', {});
  t.same(driver.list(), ['a', 'b']);
  t.equal(driver.open('zzz'), undefined);
  t.same(Object.keys(driver.open('a')!.paths).sort(), V1_CONTROLLERS.filter((c) => c !== 'cpuset').sort(), 'every hierarchy but cpuset (no --cpuset-cpus)');
  t.throws(() => driver.create('a', {}), { code: 'cgroup_exists' });
  for (const bad of ['..', 'x/y', '', '-x']) t.throws(() => driver.open(bad), { code: 'bad_cgroup_name' }, JSON.stringify(bad));
  t.notOk(driver.removeParent(), 'containers are still in it');
});
