// lib/lab/cgroup.ts: how lesson 9 and its checks find a process's cgroups from the host and read
// them in one vocabulary on v1 and v2. Mount tables of both kinds, files laid out like each
// version, and this very process on the real kernel.
import t from 'tap';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMounts, cgroupOf, cpuBandwidth, frozenState, keyed, memoryEvents, memoryLimit, type ProcCgroup } from '../../lib/lab/cgroup.js';
import { tempDir, removeTemp } from './helpers.js';

const HYBRID = [
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');
const V2 = '30 23 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot';

t.test('cgroup mounts of a hybrid and a v2 host', async (t) => {
  t.same(cgroupMounts(HYBRID).map((m) => [m.fstype, m.mountPoint, m.controllers.filter((c) => c !== 'rw')]), [
    ['cgroup', '/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct']],
    ['cgroup', '/sys/fs/cgroup/memory', ['memory']],
    ['cgroup2', '/sys/fs/cgroup/unified', []],
  ]);
  t.same(cgroupMounts(V2).map((m) => m.mountPoint), ['/sys/fs/cgroup']);
});

t.test('this process: /proc/self/cgroup resolved through the real mount table', async (t) => {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean);
  const v1 = lines.some((l) => l.split(':')[1] === 'memory');
  const mem = cgroupOf('self', 'memory');
  t.ok(mem, 'found');
  t.equal(mem!.version, v1 ? 1 : 2);
  t.ok(readFileSync(join(mem!.dir, 'cgroup.procs'), 'utf8').split('\n').includes(String(process.pid)), `${mem!.dir}/cgroup.procs lists this process`);
  const unified = cgroupOf('self', 'unified');
  if (unified) t.equal(unified.version, 2);
  t.equal(cgroupOf(2 ** 22 + 12345, 'memory'), undefined, 'a process that does not exist');
});

t.test('the same questions on files laid out like v1 and like v2', async (t) => {
  const dir = tempDir('cgfiles');
  t.teardown(() => removeTemp(dir));
  const lay = (name: string, files: Record<string, string>): string => {
    const d = join(dir, name);
    mkdirSync(d);
    for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), v);
    return d;
  };
  const v1: ProcCgroup = {
    version: 1,
    path: '/x',
    dir: lay('v1', {
      'memory.limit_in_bytes': '33554432\n',
      'memory.failcnt': '87\n',
      'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n',
      'cpu.cfs_quota_us': '50000\n',
      'cpu.cfs_period_us': '100000\n',
      'cpu.stat': 'nr_periods 31\nnr_throttled 30\nthrottled_time 1484371176\n',
      'freezer.state': 'FROZEN\n',
    }),
  };
  const v2: ProcCgroup = {
    version: 2,
    path: '/x',
    dir: lay('v2', {
      'memory.max': 'max\n',
      'memory.events': 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n',
      'cpu.max': '20000 100000\n',
      'cpu.stat': 'usage_usec 5\nnr_periods 4\nnr_throttled 3\n',
      'cgroup.events': 'populated 1\nfrozen 0\n',
    }),
  };
  t.equal(memoryLimit(v1), 33554432);
  t.equal(memoryLimit(v2), 'max');
  writeFileSync(join(v1.dir, 'memory.limit_in_bytes'), '9223372036854771712\n');
  t.equal(memoryLimit(v1), 'max', 'v1 writes "no limit" as a huge number');
  t.same(memoryEvents(v1), { hitLimit: 87, oomKills: 1 });
  t.same(memoryEvents(v2), { hitLimit: 12, oomKills: 1 });
  t.same(cpuBandwidth(v1), { quota: 50000, period: 100000, periods: 31, throttled: 30 });
  t.same(cpuBandwidth(v2), { quota: 20000, period: 100000, periods: 4, throttled: 3 });
  t.equal(frozenState(v1), 'FROZEN');
  t.equal(frozenState(v2), 'THAWED');
  t.same([...keyed('a 1\nb x\n c  -2 \n')], [['a', 1], ['c', -2]]);
});
