// The cgroup v2 driver against a temporary directory laid out like cgroup2. A plain directory
// cannot enforce anything: these tests check what the driver writes and how it reads what the
// kernel would show. The test plays the kernel in mkdir/rmdir (interface files appear, a cgroup
// with processes or children cannot go) and in the few files it updates (cgroup.events, ...).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { V2Driver, V2Cgroup, parseLimits, type DirOps, type ParseOptions } from '../../lib/engine/cgroups/index.js';
import { setExplainSink } from '../../lib/engine/log.js';

const MiB = 1024 * 1024;
const host: ParseOptions = { ncpu: 2, availableCpus: '0-1', statDevice: () => ({ isBlockDevice: true, major: 8, minor: 16 }) };

interface FakeOpts {
  controllers?: string;
  bfq?: boolean;
  /** files the kernel would not offer in new cgroups */
  without?: string[];
}

const read = (...p: string[]) => readFileSync(join(...p), 'utf8');
const put = (dir: string, files: Record<string, string>) => {
  for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, f), v);
};

/** A cgroup2 root as the kernel shows it, and the mkdir/rmdir a real cgroupfs would do. */
function fakeV2(t: Test, o: FakeOpts = {}): { root: string; ops: DirOps } {
  const root = mkdtempSync(join(tmpdir(), 'mdtest-cg-v2-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  put(root, {
    'cgroup.controllers': `${o.controllers ?? 'cpuset cpu io memory hugetlb pids rdma misc'}\n`,
    'cgroup.subtree_control': '\n',
    'cgroup.procs': '1\n',
    'cpu.stat': 'usage_usec 1000\nuser_usec 600\nsystem_usec 400\n',
  });
  const ops: DirOps = {
    mkdir(dir) {
      const parent = join(dir, '..');
      // the kernel shows what we wrote to subtree_control ("+cpu +memory") as "cpu memory"
      const enabled = read(parent, 'cgroup.subtree_control').split(/\s+/).filter(Boolean).map((c) => c.replace(/^\+/, ''));
      writeFileSync(join(parent, 'cgroup.subtree_control'), enabled.join(' ') + '\n');
      mkdirSync(dir);
      const has = (c: string) => enabled.includes(c);
      const files: Record<string, string> = {
        'cgroup.controllers': enabled.join(' ') + '\n',
        'cgroup.subtree_control': '\n',
        'cgroup.procs': '',
        'cgroup.events': 'populated 0\nfrozen 0\n',
        'cgroup.freeze': '0\n',
        'cgroup.kill': '',
        'cgroup.type': 'domain\n',
        'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n' + (has('cpu') ? 'nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n' : ''),
      };
      if (has('cpu')) Object.assign(files, { 'cpu.max': 'max 100000\n', 'cpu.weight': '100\n' });
      if (has('cpuset')) Object.assign(files, { 'cpuset.cpus': '\n', 'cpuset.cpus.effective': '0-1\n', 'cpuset.mems': '\n' });
      if (has('memory')) {
        Object.assign(files, {
          'memory.max': 'max\n', 'memory.swap.max': 'max\n', 'memory.low': '0\n', 'memory.current': '0\n', 'memory.peak': '0\n',
          'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n', 'memory.stat': 'anon 0\nfile 0\ninactive_file 0\n',
        });
      }
      if (has('pids')) Object.assign(files, { 'pids.max': 'max\n', 'pids.current': '0\n', 'pids.events': 'max 0\n' });
      if (has('io')) Object.assign(files, { 'io.max': '', 'io.stat': '', 'io.weight': 'default 100\n', ...(o.bfq ? { 'io.bfq.weight': 'default 100\n' } : {}) });
      for (const f of o.without ?? []) delete files[f];
      put(dir, files);
    },
    rmdir(dir) {
      const busy = readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory()) || read(dir, 'cgroup.procs').trim() !== '';
      if (busy) throw Object.assign(new Error(`EBUSY: rmdir ${dir}`), { code: 'EBUSY' });
      rmSync(dir, { recursive: true });
    },
  };
  return { root, ops };
}

function explained(t: Test): string[] {
  const lines: string[] = [];
  setExplainSink((l) => lines.push(l));
  t.teardown(() => setExplainSink(undefined));
  return lines;
}

t.test('create: controllers enabled down the parent chain, every limit in its file', async (t) => {
  const { root, ops } = fakeV2(t, { bfq: true });
  const driver = new V2Driver({ root, parent: 'mini-docker', ops });
  const lines = explained(t);
  const { limits, warnings } = parseLimits({
    memory: '32m', memoryReservation: '16m', cpus: '0.5', cpuShares: '512', cpusetCpus: '1', pidsLimit: '20', blkioWeight: '300',
    deviceWriteBps: ['/dev/sdb:1mb'], deviceReadIops: ['/dev/sdb:100'],
  }, host);
  t.same(driver.validate(limits), warnings);
  const cg = driver.create('c1', limits);
  const dir = join(root, 'mini-docker', 'c1');
  t.same(cg.paths, { unified: dir }, 'one directory: <root>/mini-docker/<name>');
  t.equal(read(root, 'cgroup.subtree_control').trim(), 'cpuset cpu io memory pids', 'the root hands our controllers to its children (not hugetlb, rdma, misc)');
  t.equal(read(root, 'mini-docker', 'cgroup.subtree_control').trim(), 'cpuset cpu io memory pids', 'and so does the parent');
  t.equal(read(dir, 'cgroup.subtree_control').trim(), '', 'the leaf enables nothing: its processes live in it');
  const files: Record<string, string> = {
    'memory.max': '33554432', 'memory.swap.max': '33554432', 'memory.low': '16777216', 'cpu.max': '50000 100000', 'cpu.weight': '20',
    'cpuset.cpus': '1', 'pids.max': '20', 'io.bfq.weight': '300', 'io.max': '8:16 wbps=1048576 riops=100',
  };
  for (const [f, v] of Object.entries(files)) t.equal(read(dir, f), v, `${f} = "${v}"`);
  t.equal(read(dir, 'io.weight'), 'default 100\n', 'BFQ present: io.weight untouched');
  const writes = lines.filter((l) => l.includes(' write ')).map((l) => /write (\S+) <- /.exec(l)![1]);
  t.ok(writes.indexOf('memory.swap.max') < writes.indexOf('memory.max'), 'memory.swap.max before memory.max, as runc');
  t.match(lines.join('\n'), new RegExp(`write memory\\.max <- 33554432 \\(${dir}\\)`), 'explain() names file, value and cgroup');
  t.match(lines[0], /^cgroup +write cgroup\.subtree_control <- \+cpuset \+cpu \+io \+memory \+pids/);

  // a second container: the parent chain is in place, nothing is enabled twice
  lines.length = 0;
  driver.create('c2', {});
  t.notMatch(lines.join('\n'), /subtree_control/, 'controllers already enabled are not written again');
  t.same(driver.list(), ['c1', 'c2']);
});

t.test('io.weight with runc\'s conversion where BFQ is absent; only controllers the kernel has', async (t) => {
  const { root, ops } = fakeV2(t, { controllers: 'cpu io memory pids' });
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ blkioWeight: '500' }, host).limits);
  t.equal(read(cg.paths.unified!, 'io.weight'), '4950');
  t.equal(read(root, 'cgroup.subtree_control').trim(), 'cpu io memory pids', 'no cpuset where the kernel offers none');
});

t.test('validate: a limit without its controller is refused before anything is made', async (t) => {
  const { root, ops } = fakeV2(t, { controllers: 'cpu memory pids' });
  const driver = new V2Driver({ root, parent: 'md', ops });
  const io = parseLimits({ deviceWriteBps: ['/dev/sdb:1mb'] }, host).limits;
  t.throws(() => driver.create('c', io), { code: 'cgroup_controller_missing', message: /--blkio-weight\/--device-\*-bps\/--device-\*-iops: the io controller is not available in the cgroup v2 hierarchy at .* \(cgroup\.controllers: cpu memory pids\)/ });
  t.notOk(existsSync(join(root, 'md')), 'no directory made');
  t.equal(read(root, 'cgroup.subtree_control'), '\n', 'no controller enabled');
  t.same(driver.validate(parseLimits({ memory: '32m', oomKillDisable: true }, host).limits), ['Your kernel does not support OomKillDisable. OomKillDisable discarded.'], 'docker\'s warning on v2');
});

t.test('a limit the kernel does not offer: error, and the half-made cgroup is gone', async (t) => {
  const { root, ops } = fakeV2(t, { without: ['pids.max'] });
  const driver = new V2Driver({ root, parent: 'md', ops });
  t.throws(() => driver.create('c', { pidsLimit: 10 }), { code: 'cgroup_unsupported', message: /no pids\.max in / });
  t.notOk(existsSync(join(root, 'md', 'c')), 'the cgroup was removed');
  t.same(driver.list(), []);
  const noSwap = fakeV2(t, { without: ['memory.swap.max'] });
  const d2 = new V2Driver({ root: noSwap.root, parent: 'md', ops: noSwap.ops });
  t.throws(() => d2.create('c', parseLimits({ memory: '32m' }, host).limits), { message: /no memory\.swap\.max/ }, 'a swap limit without swap accounting is an error');
  const cg = d2.create('d', parseLimits({ memory: '32m', memorySwap: '32m' }, host).limits);
  t.equal(read(cg.paths.unified!, 'memory.max'), '33554432', 'but "no swap" (0) is fine without memory.swap.max, as runc');
});

t.test('update: only what is given; a partial cpu or swap update keeps the rest', async (t) => {
  const { root, ops } = fakeV2(t);
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ memory: '64m', cpuQuota: '50000', pidsLimit: '20' }, host).limits);
  const dir = cg.paths.unified!;
  t.equal(read(dir, 'cpu.max'), '50000', 'the quota alone: the kernel keeps its period');
  writeFileSync(join(dir, 'cpu.max'), '50000 100000\n'); // as the kernel shows it
  cg.update(parseLimits({ cpuPeriod: '200000' }, { ...host, update: true }).limits);
  t.equal(read(dir, 'cpu.max'), '50000 200000', 'a new period keeps the quota');
  cg.update(parseLimits({ memory: '32m' }, { ...host, update: true }).limits);
  t.equal(read(dir, 'memory.max'), '33554432');
  t.equal(read(dir, 'memory.swap.max'), '67108864', 'swap untouched by -m alone');
  cg.update(parseLimits({ memorySwap: '48m' }, { ...host, update: true }).limits);
  t.equal(read(dir, 'memory.swap.max'), String(16 * MiB), 'memory+swap 48m over today\'s memory.max 32m: 16m of swap');
  cg.update({ pidsLimit: -1, cpuQuota: -1 });
  t.equal(read(dir, 'pids.max'), 'max');
  t.equal(read(dir, 'cpu.max'), 'max', 'unlimited');
  t.equal(read(dir, 'memory.max'), '33554432', 'and nothing else changed');
});

t.test('stats and oomKilled: the kernel\'s files parsed', async (t) => {
  const { root, ops } = fakeV2(t);
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', parseLimits({ memory: '32m', pidsLimit: '20' }, host).limits);
  const dir = cg.paths.unified!;
  t.notOk(cg.oomKilled());
  put(dir, {
    'cpu.stat': 'usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\nnr_periods 30\nnr_throttled 29\nthrottled_usec 1320000\nnr_bursts 0\nburst_usec 0\n',
    'memory.current': '1048576\n',
    'memory.peak': '33554432\n',
    'memory.events': 'low 0\nhigh 0\nmax 83\noom 1\noom_kill 1\noom_group_kill 0\n',
    'memory.stat': 'anon 917504\nfile 131072\ninactive_file 65536\n',
    'pids.current': '3\n',
    'io.stat': '8:16 rbytes=4096 wbytes=4194304 rios=1 wios=16 dbytes=0 dios=0\n7:0 rbytes=0 wbytes=512 rios=0 wios=1 dbytes=0 dios=0\n',
  });
  t.same(cg.stats(), {
    cpu: { usageNs: 2.5e9, userNs: 2e9, systemNs: 0.5e9, nrPeriods: 30, nrThrottled: 29, throttledNs: 1.32e9 },
    memory: { usage: MiB, limit: 32 * MiB, maxUsage: 32 * MiB, failcnt: 83, oomKills: 1, inactiveFile: 65536 },
    pids: { current: 3, limit: 20 },
    io: [
      { device: '8:16', major: 8, minor: 16, readBytes: 4096, writeBytes: 4194304, readOps: 1, writeOps: 16 },
      { device: '7:0', major: 7, minor: 0, readBytes: 0, writeBytes: 512, readOps: 0, writeOps: 1 },
    ],
  });
  t.ok(cg.oomKilled(), 'memory.events oom_kill 1');
  const free = driver.create('d', {});
  t.same(free.stats().memory.limit, null, '"max": no limit');
  t.same(free.stats().pids.limit, null);
});

t.test('freeze waits for the kernel\'s "frozen 1"; thaw; a freeze that never settles is undone', async (t) => {
  const { root, ops } = fakeV2(t);
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', {}) as V2Cgroup;
  const dir = cg.paths.unified!;
  let settled = false;
  const p = cg.freeze().then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(read(dir, 'cgroup.freeze'), '1', 'asked: cgroup.freeze 1');
  t.notOk(settled, 'still waiting for cgroup.events');
  t.notOk(cg.frozen());
  writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
  await p;
  t.ok(settled && cg.frozen(), 'frozen once cgroup.events says so');
  cg.thaw();
  t.equal(read(dir, 'cgroup.freeze'), '0');
  writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
  await t.rejects(cg.freeze(100), { code: 'cgroup_freeze_timeout' });
  t.equal(read(dir, 'cgroup.freeze'), '0', 'given up: thawed again');
});

t.test('killAll: cgroup.kill, then wait until the cgroup is empty; remove', async (t) => {
  const { root, ops } = fakeV2(t);
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', {});
  const dir = cg.paths.unified!;
  writeFileSync(join(dir, 'cgroup.procs'), '4000001\n4000002\n');
  t.same(cg.pids(), [4000001, 4000002]);
  let done = false;
  const p = cg.killAll().then(() => (done = true));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(read(dir, 'cgroup.kill'), '1', 'cgroup.kill 1');
  t.notOk(done, 'waits for the cgroup to empty');
  writeFileSync(join(dir, 'cgroup.procs'), ''); // the kernel's part
  await p;
  t.ok(done);
  await cg.remove();
  t.notOk(existsSync(dir), 'removed');
  t.equal(driver.open('c'), undefined);
  t.ok(driver.removeParent(), 'the empty parent goes too');
  t.notOk(existsSync(join(root, 'md')));
  t.ok(existsSync(join(root, 'cgroup.procs')), 'the root is untouched');
});

t.test('killAll without cgroup.kill: freeze, signal, thaw, until empty (a real process)', async (t) => {
  const { root, ops } = fakeV2(t, { without: ['cgroup.kill'] });
  const driver = new V2Driver({ root, parent: 'md', ops });
  const cg = driver.create('c', {});
  const dir = cg.paths.unified!;
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
  cg.addProcess(child.pid!);
  t.equal(read(dir, 'cgroup.procs'), String(child.pid), 'addProcess writes the PID to cgroup.procs');
  writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n'); // the kernel freezes at once
  void exited.then(() => writeFileSync(join(dir, 'cgroup.procs'), ''));
  const lines = explained(t);
  await cg.killAll('SIGTERM', 5000);
  t.equal(await exited, 'SIGTERM', 'the process got SIGTERM');
  t.match(lines.join('\n'), new RegExp(`write cgroup\\.freeze <- 1 .*\\n.*kill -SIGTERM ${child.pid} .*\\n.*write cgroup\\.freeze <- 0`), 'freeze, signal, thaw');
  t.equal(read(dir, 'cgroup.freeze'), '0', 'the cgroup is thawed after the signal');
});

t.test('remove refuses nothing: it kills first; names never leave the parent', async (t) => {
  const { root, ops } = fakeV2(t);
  const driver = new V2Driver({ root, parent: 'a/b', ops });
  const cg = driver.create('x', {});
  t.equal(cg.paths.unified, join(root, 'a', 'b', 'x'), 'a nested parent');
  t.equal(read(root, 'a', 'cgroup.subtree_control').trim(), 'cpuset cpu io memory pids', 'enabled at every level');
  for (const bad of ['..', '../x', 'a/b', '', '.x', 'x y']) t.throws(() => driver.create(bad, {}), { code: 'bad_cgroup_name' }, JSON.stringify(bad));
  t.throws(() => new V2Driver({ root, parent: '../etc', ops }), { code: 'bad_cgroup_name' });
  t.throws(() => new V2Driver({ root, parent: '/', ops }), { code: 'bad_cgroup_name' });
  t.throws(() => driver.create('x', {}), { code: 'cgroup_exists' });
  t.notOk(driver.removeParent(), 'a parent with a container in it stays');
  await cg.remove();
  t.throws(() => cg.stats(), { code: 'no_such_cgroup' });
  t.ok(driver.removeParent());
  t.same(readdirSync(root).filter((n) => !n.includes('.')), [], 'a/ and a/b/ are gone');
});
