// Which driver a host gets: pure v2, v1, hybrid (driven as v1), overrides, and what `doctor`
// is told. Temporary directories laid out like each kind of host, and mountinfo texts.
import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupInfo, detectCgroups, detectCgroupVersion, kernelControllers, v1Mounts, V1Driver, V2Driver } from '../../lib/engine/cgroups/index.js';

function tempRoot(t: Test): string {
  const root = mkdtempSync(join(tmpdir(), 'mdtest-cg-detect-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

function layV1(root: string, controllers = ['cpuset', 'cpu', 'cpuacct', 'memory', 'pids', 'blkio', 'freezer']): void {
  for (const c of controllers) {
    mkdirSync(join(root, c));
    writeFileSync(join(root, c, 'cgroup.procs'), '1\n');
  }
  writeFileSync(join(root, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712\n');
  writeFileSync(join(root, 'memory', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
  writeFileSync(join(root, 'blkio', 'blkio.bfq.io_service_bytes'), 'Total 0\n');
}

function layV2(dir: string, controllers: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.controllers'), controllers + '\n');
  writeFileSync(join(dir, 'cgroup.subtree_control'), '\n');
  writeFileSync(join(dir, 'cgroup.procs'), '1\n');
}

function withEnv(t: Test, env: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

// this machine's mountinfo, and a distribution's with cpu,cpuacct together and a space in a path
const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const COMOUNTED = `25 24 0:22 / /sys/fs/cgroup rw shared:4 - tmpfs tmpfs ro,mode=755
28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
29 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw shared:11 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /tmp/my\\040cgroups/pids rw shared:12 - cgroup cgroup rw,pids
32 25 0:29 / /mnt/elsewhere/freezer rw shared:13 - cgroup cgroup rw,freezer
`;
const PURE_V2 = `30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

t.test('v1 mounts from mountinfo', async (t) => {
  t.same(v1Mounts('/sys/fs/cgroup', HYBRID), {
    cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset', memory: '/sys/fs/cgroup/memory',
    freezer: '/sys/fs/cgroup/freezer', blkio: '/sys/fs/cgroup/blkio', pids: '/sys/fs/cgroup/pids',
  }, 'every controller the engine manages (not devices, not name=systemd)');
  t.same(v1Mounts('/sys/fs/cgroup', COMOUNTED), { cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct', memory: '/sys/fs/cgroup/memory' }, 'co-mounted cpu,cpuacct; mounts outside the root are not ours');
  t.same(v1Mounts('/tmp/my cgroups', COMOUNTED), { pids: '/tmp/my cgroups/pids' }, 'mountinfo\'s \\040 is a space');
  const v2root = tempRoot(t);
  t.same(v1Mounts(v2root, PURE_V2.replace('/sys/fs/cgroup', v2root)), {}, 'cgroup2 is not v1');
});

t.test('detection on each kind of host', async (t) => {
  withEnv(t, { MINI_DOCKER_CGROUP_VERSION: undefined, MINI_DOCKER_CGROUP_ROOT: undefined });
  const v2 = tempRoot(t);
  layV2(v2, 'cpuset cpu io memory pids');
  t.equal(detectCgroupVersion(v2, ''), 2, 'pure v2: cgroup.controllers at the top');
  const d2 = detectCgroups({ root: v2, mountinfo: '', parent: 'md' });
  t.type(d2, V2Driver);
  t.equal(d2.root, v2);
  t.equal(d2.parent, 'md');

  const v1 = tempRoot(t);
  layV1(v1);
  t.equal(detectCgroupVersion(v1, ''), 1, 'v1: controller hierarchies');
  t.type(detectCgroups({ root: v1, mountinfo: '' }), V1Driver);
  t.equal(detectCgroups({ root: v1, mountinfo: '' }).parent, 'mini-docker', 'the default parent');

  const hybrid = tempRoot(t);
  layV1(hybrid);
  layV2(join(hybrid, 'unified'), '');
  t.equal(detectCgroupVersion(hybrid, ''), 1, 'hybrid: the limits live in v1');
  const forced = detectCgroups({ root: hybrid, mountinfo: '', force: 2 });
  t.type(forced, V2Driver, 'forced to 2 on a hybrid host');
  t.equal(forced.root, join(hybrid, 'unified'), 'the cgroup2 mount at <root>/unified');
  t.throws(() => detectCgroups({ root: v2, mountinfo: '', force: 1 }), { code: 'no_cgroups', message: /no cgroup v1 controller is mounted under / }, 'forced to 1 where there is no v1: refused');

  const empty = tempRoot(t);
  t.equal(detectCgroupVersion(empty, ''), undefined);
  t.throws(() => detectCgroups({ root: empty, mountinfo: '' }), { code: 'no_cgroups', message: /no cgroup filesystem is mounted at / });
  t.throws(() => detectCgroups({ root: empty, mountinfo: '', force: 2 }), { code: 'no_cgroups', message: /no cgroup v2 hierarchy/ });
  t.equal(detectCgroupVersion('/sys/fs/cgroup', HYBRID), existsSync('/sys/fs/cgroup/cgroup.controllers') ? 2 : 1, 'this lab\'s mountinfo reads as v1 (unless /sys/fs/cgroup is itself cgroup2)');
});

t.test('MINI_DOCKER_CGROUP_VERSION and MINI_DOCKER_CGROUP_ROOT', async (t) => {
  const hybrid = tempRoot(t);
  layV1(hybrid);
  layV2(join(hybrid, 'unified'), 'memory pids');
  withEnv(t, { MINI_DOCKER_CGROUP_ROOT: hybrid, MINI_DOCKER_CGROUP_VERSION: '2' });
  const d = detectCgroups({ mountinfo: '' });
  t.type(d, V2Driver);
  t.equal(d.root, join(hybrid, 'unified'));
  process.env.MINI_DOCKER_CGROUP_VERSION = '1';
  t.type(detectCgroups({ mountinfo: '' }), V1Driver);
  t.equal(detectCgroups({ mountinfo: '' }).root, hybrid);
  t.type(detectCgroups({ mountinfo: '', force: 2 }), V2Driver, 'an explicit option wins over the environment');
  process.env.MINI_DOCKER_CGROUP_VERSION = '3';
  t.throws(() => detectCgroups({ mountinfo: '' }), { code: 'bad_cgroup_version', message: 'MINI_DOCKER_CGROUP_VERSION=3: use 1 or 2' });
});

t.test('cgroupInfo for doctor', async (t) => {
  withEnv(t, { MINI_DOCKER_CGROUP_VERSION: undefined, MINI_DOCKER_CGROUP_ROOT: undefined });
  const hybrid = tempRoot(t);
  layV1(hybrid);
  layV2(join(hybrid, 'unified'), 'hugetlb');
  const i1 = cgroupInfo({ root: hybrid, mountinfo: '' });
  t.match(i1, {
    version: 1, root: hybrid, hybrid: true, controllers: ['blkio', 'cpu', 'cpuacct', 'cpuset', 'freezer', 'memory', 'pids'],
    unified: { path: join(hybrid, 'unified'), controllers: ['hugetlb'] },
    features: { swapAccounting: true, cgroupKill: false, freezer: true, ioWeight: true, oomKillCounter: true },
  });
  const v2 = tempRoot(t);
  layV2(v2, 'cpuset cpu io memory pids');
  mkdirSync(join(v2, 'init.scope'));
  for (const f of ['cgroup.kill', 'cgroup.freeze', 'memory.swap.max', 'io.weight']) writeFileSync(join(v2, 'init.scope', f), '');
  t.match(cgroupInfo({ root: v2, mountinfo: '' }), {
    version: 2, root: v2, hybrid: false, controllers: ['cpu', 'cpuset', 'io', 'memory', 'pids'],
    features: { swapAccounting: true, cgroupKill: true, freezer: true, ioWeight: true, oomKillCounter: true },
  }, 'v2 features read from a child cgroup (the root has none of these files)');
  const bare = tempRoot(t);
  layV2(bare, 'memory');
  t.match(cgroupInfo({ root: bare, mountinfo: '' }).features, { swapAccounting: false, cgroupKill: false, freezer: false, ioWeight: false });
});

t.test('/proc/cgroups', async (t) => {
  const list = kernelControllers();
  if (list.length === 0) return t.pass('no /proc/cgroups here');
  t.ok(list.every((c) => typeof c.name === 'string' && Number.isInteger(c.hierarchy)), 'parsed');
});
