// Limits the kernel enforces, set through mini-docker's flags and proven by what the kernel did.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs, cgroupParentFor, containerIds, md, tempRoot } from '../helpers/engine.js';
import { installBusyboxImage } from '../../sandbox-images/busybox/build.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const V1 = existsSync('/sys/fs/cgroup/memory/cgroup.procs');

async function imageRoot(t: { teardown(fn: () => void): void }): Promise<string> {
  const root = tempRoot(t);
  await installBusyboxImage(root);
  return root;
}

/** A file of the container's cgroup, v1 (per controller) or v2 (unified). */
function cg(root: string, id: string, controller: string, file: string): string {
  const p = V1 ? join('/sys/fs/cgroup', controller, cgroupParentFor(root), id, file) : join('/sys/fs/cgroup', cgroupParentFor(root), id, file);
  return readFileSync(p, 'utf8');
}

// dd allocates one buffer of bs bytes and fills it: exactly that much memory, touched.
const ALLOC = (mib: number) => `dd if=/dev/zero of=/dev/null bs=${mib}M count=1 2>/dev/null && echo allocated`;

t.test('-m 32m: allocating 64 MiB is OOM-killed (137, OOMKilled), 16 MiB is fine', async (t) => {
  const root = await imageRoot(t);
  const big = await md(root, ['run', '--name', 'big', '-m', '32m', 'busybox', 'sh', '-c', ALLOC(64)]);
  t.equal(big.code, 137, 'killed: 128 + SIGKILL');
  const state = JSON.parse((await md(root, ['inspect', 'big'])).stdout)[0];
  t.equal(state.State.OOMKilled, true, 'inspect: OOMKilled');
  t.equal(state.HostConfig.Memory, 32 * 1024 * 1024);
  const small = await md(root, ['run', '--name', 'small', '-m', '32m', 'busybox', 'sh', '-c', ALLOC(16)]);
  t.equal(small.code, 0, small.stderr);
  t.equal(small.stdout.trim(), 'allocated');
  t.equal(JSON.parse((await md(root, ['inspect', 'small'])).stdout)[0].State.OOMKilled, false);
  // detached: the monitor records the exit, the cgroup remembers the OOM kill
  await md(root, ['run', '-d', '--name', 'bigd', '-m', '32m', 'busybox', 'sh', '-c', ALLOC(64)]);
  t.equal((await md(root, ['wait', 'bigd'])).stdout.trim(), '137');
  t.equal((await md(root, ['inspect', '-f', '{{.State.OOMKilled}}', 'bigd'])).stdout.trim(), 'true');
  await md(root, ['rm', 'big', 'small', 'bigd']);
});

t.test('--cpus 0.5: a busy loop gets half a CPU, and throttling shows in cpu.stat', async (t) => {
  const root = await imageRoot(t);
  const id = (await md(root, ['run', '-d', '--cpus', '0.5', 'busybox', 'sh', '-c', 'while :; do :; done'])).stdout.trim();
  const usage = () => (V1 ? Number(cg(root, id, 'cpuacct', 'cpuacct.usage')) : Number(/usage_usec (\d+)/.exec(cg(root, id, '', 'cpu.stat'))![1]) * 1000);
  const throttled = () => Number(/nr_throttled (\d+)/.exec(cg(root, id, 'cpu', 'cpu.stat'))![1]);
  await sleep(500);
  const [u0, n0, t0] = [usage(), throttled(), process.hrtime.bigint()];
  await sleep(3000);
  const [u1, n1, t1] = [usage(), throttled(), process.hrtime.bigint()];
  const share = (u1 - u0) / Number(t1 - t0);
  t.ok(share > 0.5 * 0.85 && share < 0.5 * 1.15, `CPU share ${(share * 100).toFixed(1)}% of one CPU, within 50% ±15%`);
  t.ok(n1 > n0, `nr_throttled grew (${n0} -> ${n1})`);
  const quota = V1 ? cg(root, id, 'cpu', 'cpu.cfs_quota_us').trim() : cg(root, id, '', 'cpu.max').trim().split(' ')[0];
  t.equal(quota, '50000');
  await md(root, ['rm', '-f', id]);
});

t.test('--pids-limit 20: a fork bomb is contained, the host unaffected, the container removable', async (t) => {
  const root = await imageRoot(t);
  const id = (await md(root, ['run', '-d', '--pids-limit', '20', 'busybox', 'sh', '-c',
    'i=0; while [ $i -lt 200 ]; do (sleep 300 &) 2>/dev/null; i=$((i+1)); done; echo spawned; sleep 300'])).stdout.trim();
  await sleep(1500);
  t.equal(cg(root, id, 'pids', 'pids.max').trim(), '20');
  const current = Number(cg(root, id, 'pids', 'pids.current'));
  t.ok(current <= 20, `pids.current ${current} <= 20`);
  const events = /max (\d+)/.exec(cg(root, id, 'pids', 'pids.events'));
  t.ok(events && Number(events[1]) > 0, `the kernel refused forks (pids.events max ${events?.[1]})`);
  t.equal(spawnSync('true').status, 0, 'the host can still fork');
  const rm = await md(root, ['rm', '-f', id]);
  t.equal(rm.code, 0, rm.stderr);
  t.same(containerIds(root), []);
  t.notOk(existsSync(join('/sys/fs/cgroup/pids', cgroupParentFor(root), id)), 'its cgroup is gone');
});

t.test('--device-write-bps on a loop device: measured throughput at the limit', { skip: spawnSync('losetup', ['--version']).status !== 0 && 'losetup missing' }, async (t) => {
  const root = tempRoot(t);
  const work = mkdtempSync('/tmp/mdtest-loop-');
  const img = join(work, 'disk.img');
  const mnt = join(work, 'mnt');
  let dev = '';
  t.teardown(() => {
    spawnSync('umount', ['-l', mnt]);
    if (dev) spawnSync('losetup', ['-d', dev]);
    rmSync(work, { recursive: true, force: true });
  });
  spawnSync('truncate', ['-s', '64M', img]);
  dev = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).stdout.trim();
  t.match(dev, /^\/dev\/loop\d+$/, 'a loop device');
  t.equal(spawnSync('mkfs.ext4', ['-q', dev]).status, 0);
  spawnSync('mkdir', ['-p', mnt]);
  t.equal(spawnSync('mount', [dev, mnt]).status, 0);
  cpSync(busyboxRootfs(t), mnt, { recursive: true, verbatimSymlinks: true });
  spawnSync('chmod', ['755', mnt]);
  const id = (await md(root, ['run', '-d', '--device-write-bps', `${dev}:1mb`, '--rootfs', mnt, 'sleep', '300'])).stdout.trim();
  t.match(id, /^[0-9a-f]{64}$/);
  const t0 = Date.now();
  const r = await md(root, ['exec', id, 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=4', 'oflag=direct']);
  const secs = (Date.now() - t0) / 1000;
  t.equal(r.code, 0, r.stderr);
  const rate = 4 / secs;
  t.ok(rate > 0.8 && rate < 1.2, `${rate.toFixed(2)} MiB/s for a 1 MiB/s limit (within ±20%)`);
  await md(root, ['rm', '-f', id]);
});

t.test('update -m changes the kernel\'s limit; pause freezes, unpause resumes', async (t) => {
  const root = await imageRoot(t);
  const id = (await md(root, ['run', '-d', '-m', '64m', 'busybox', 'sh', '-c', 'while :; do :; done'])).stdout.trim();
  const limit = () => (V1 ? cg(root, id, 'memory', 'memory.limit_in_bytes') : cg(root, id, '', 'memory.max')).trim();
  t.equal(limit(), String(64 * 1024 * 1024));
  t.equal((await md(root, ['update', '-m', '128m', '--memory-swap', '256m', id])).code, 0);
  t.equal(limit(), String(128 * 1024 * 1024), 'the kernel has the new limit');
  t.equal((await md(root, ['inspect', '-f', '{{.HostConfig.Memory}}', id])).stdout.trim(), String(128 * 1024 * 1024));

  const pid = Number((await md(root, ['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  // CPU time the container has used: it stands still while frozen.
  const count = async () => (V1 ? Number(cg(root, id, 'cpuacct', 'cpuacct.usage')) : Number(/usage_usec (\d+)/.exec(cg(root, id, '', 'cpu.stat'))![1]));
  t.equal((await md(root, ['pause', id])).code, 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const procState = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  t.ok(V1 ? procState === 'D' : ['S', 'D'].includes(procState), `frozen: /proc/${pid}/stat says ${procState}`);
  if (V1) t.equal(cg(root, id, 'freezer', 'freezer.state').trim(), 'FROZEN');
  t.match((await md(root, ['ps', '--format', '{{.Status}}'])).stdout, /\(Paused\)/);
  const c0 = await count();
  await sleep(300);
  t.equal(await count(), c0, 'its CPU time stands still');
  const e = await md(root, ['exec', id, 'true']);
  t.equal(e.code, 1, 'no exec into a paused container');
  t.equal((await md(root, ['unpause', id])).code, 0);
  await sleep(300);
  t.ok((await count()) > c0, 'and moves again after unpause');
  await md(root, ['rm', '-f', id]);
});

t.test('stats shows what the cgroup counts', async (t) => {
  const root = await imageRoot(t);
  const id = (await md(root, ['run', '-d', '--name', 'st', '-m', '100m', '--pids-limit', '50', 'busybox', 'sh', '-c', 'sleep 300 & sleep 300 & wait'])).stdout.trim();
  await sleep(300);
  const r = await md(root, ['stats', '--no-stream']);
  t.match(r.stdout, /^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS\n/);
  t.match(r.stdout, /st\s+\d+\.\d\d%\s+[\d.]+\w?i?B \/ 100MiB\s+\d+\.\d\d%\s+0B \/ 0B\s+\S+ \/ \S+\s+3\n/);
  const top = await md(root, ['top', 'st']);
  t.match(top.stdout, /\nLimits: memory=100MiB .*pids=50\n$/, 'top shows the limits');
  const json = JSON.parse((await md(root, ['stats', '--no-stream', '--format', 'json', 'st'])).stdout);
  t.match(json, { Name: 'st', PIDs: '3', CPUPerc: /%$/ });
  t.equal((await md(root, ['stats', '--no-stream', '--format', '{{.Name}}: {{.PIDs}}', id])).stdout.trim(), 'st: 3');
  await md(root, ['rm', '-f', id]);
});

t.test('bad limits: a clear error before anything is created', async (t) => {
  const root = await imageRoot(t);
  const cases: [string[], RegExp][] = [
    [['-m', '1x'], /invalid argument "1x" for "-m, --memory" flag/],
    [['--cpus', '-1'], /invalid argument "-1" for "--cpus" flag/],
    [['-m', '1k'], /Minimum memory limit allowed is 6MB/],
    [['--pids-limit', 'lots'], /invalid argument "lots"/],
    [['--device-write-bps', '/etc/passwd:1mb'], /bad format for device path/],
    [['--device-write-bps', '/dev/null:1mb'], /block device/],
  ];
  for (const [flags, msg] of cases) {
    const r = await md(root, ['run', '--rm', ...flags, 'busybox', 'true']);
    t.equal(r.code, 125, flags.join(' '));
    t.match(r.stderr, msg);
    t.notMatch(r.stderr, /\n\s+at /);
  }
  t.same(containerIds(root), [], 'no container made');
  t.notOk(existsSync(join('/sys/fs/cgroup/memory', cgroupParentFor(root))), 'no cgroup made');
});
