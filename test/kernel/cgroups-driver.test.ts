// The cgroup driver of this host (v1 here, v2 on most users' machines) on the real kernel, with
// real processes: every limit is proven by the kernel enforcing it, not by a file that was written.
// Each test has its own parent cgroup, mdtest-cg-<random>, removed in teardown even on failure.
import t, { type Test } from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { detectCgroups, detectCgroupVersion, parseLimits, V2Driver, type CgroupDriver, type Limits } from '../../lib/engine/cgroups/index.js';
import { setExplainSink } from '../../lib/engine/log.js';

const BUSYBOX = '/bin/busybox';
const rand = () => randomBytes(4).toString('hex');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;

const version = detectCgroupVersion();
const skip = process.getuid?.() !== 0 ? 'needs root' : version === undefined ? 'no cgroup filesystem' : !existsSync(BUSYBOX) ? 'needs /bin/busybox' : false;

interface TestLike {
  teardown(fn: () => void | Promise<void>): void;
}

/** A driver with its own parent cgroup; teardown removes every cgroup under it, then the parent. */
function driverFor(t: TestLike, make: (parent: string) => CgroupDriver = (parent) => detectCgroups({ parent, force: version })): CgroupDriver {
  const parent = `mdtest-cg-${rand()}`;
  const driver = make(parent);
  t.teardown(async () => {
    for (const name of driver.list()) await driver.open(name)?.remove();
    driver.removeParent();
  });
  return driver;
}

interface Waiting {
  child: ChildProcess;
  pid: number;
  /** release the process: it starts its work only now, inside the cgroup */
  go(): void;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
}

/** `sh -c 'read x; <work>'`: the process waits on stdin until it has been put into its cgroup. */
function spawnWaiting(t: TestLike, work: string): Waiting {
  const child = spawn(BUSYBOX, ['sh', '-c', `read x; ${work}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, pid: child.pid!, go: () => child.stdin!.write('go\n'), exited, stdout: () => out, stderr: () => err };
}

function procState(pid: number): string {
  // the field after "(comm)": comm may hold spaces, so split after the last ')'
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

function allDirsGone(t: Test, paths: Record<string, string>): void {
  for (const [c, d] of Object.entries(paths)) t.notOk(existsSync(d), `${c}: ${d} removed`);
}

// A fork loop that survives a failed fork (busybox sh exits on its first "can't fork"), then,
// with "bomb", the real thing: every process forks forever.
const FORKER = `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int ok = 0, failed = 0, err = 0;
  for (int i = 0; i < 40; i++) {
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    if (p < 0) { failed++; err = errno; } else ok++;
  }
  printf("forked %d failed %d %s\\n", ok, failed, failed ? strerror(err) : "");
  fflush(stdout);
  if (argc > 1) for (;;) fork();
  pause();
  return 0;
}
`;

/** Build a small C program in a temp dir (removed at teardown); undefined without a compiler. */
function compileC(t: TestLike, name: string, source: string): string | undefined {
  const dir = mkdtempSync('/tmp/mdtest-cg-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, `${name}.c`), source);
  for (const extra of [['-static'], []]) {
    const r = spawnSync('cc', ['-O2', ...extra, '-o', join(dir, name), join(dir, `${name}.c`)], { encoding: 'utf8' });
    if (r.status === 0) return join(dir, name);
  }
  return undefined;
}

// Touches every page from user space: with --oom-kill-disable, v1 parks a task whose *user*
// page fault hits the limit (a fault inside a syscall, as dd's read() from /dev/zero, fails with
// EFAULT instead: mm/memcontrol-v1.c memcg1_oom_prepare).
const HOG = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  size_t n = (size_t)atoi(argv[1]) << 20;
  volatile char *p = malloc(n); /* volatile: the compiler may not drop the stores */
  if (!p) return 2;
  for (size_t i = 0; i < n; i += 4096) p[i] = 1;
  printf("touched %s MiB\\n", argv[1]);
  return 0;
}
`;

t.test('driver detection on this host', { skip }, async (t) => {
  const forced = process.env.MINI_DOCKER_CGROUP_VERSION;
  const driver = detectCgroups({ parent: `mdtest-cg-${rand()}`, root: '/sys/fs/cgroup' });
  t.equal(driver.version, forced ? Number(forced) : version, forced ? `forced by MINI_DOCKER_CGROUP_VERSION=${forced}` : 'detected');
  t.comment(`cgroup v${driver.version} at ${driver.root}; the tests below drive v${version}`);
});

t.test('memory: 64 MiB in a 32 MiB cgroup is OOM-killed; 16 MiB is fine', { skip }, async (t) => {
  const driver = driverFor(t);
  const { limits } = parseLimits({ memory: '32m' });
  const big = driver.create(`oom-${rand()}`, limits);
  const p = spawnWaiting(t, `exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=64M count=1`);
  big.addProcess(p.pid);
  t.same(big.pids(), [p.pid], 'the process is in the cgroup');
  p.go();
  const r = await p.exited;
  t.equal(r.signal, 'SIGKILL', 'killed by SIGKILL (a container would exit 137)');
  t.ok(big.oomKilled(), 'oomKilled(): the kernel counted an OOM kill');
  const st = big.stats();
  t.ok(st.memory.oomKills >= 1, `oom_kill counter ${st.memory.oomKills}`);
  t.ok(st.memory.failcnt > 0, `failcnt ${st.memory.failcnt}: usage hit the limit`);
  t.equal(st.memory.limit, 32 * MiB, 'the limit the kernel reports');
  t.ok(st.memory.maxUsage === null || st.memory.maxUsage <= 32 * MiB, `peak usage ${st.memory.maxUsage} never above the limit`);
  t.comment(`OOM evidence: oom_kill=${st.memory.oomKills} failcnt=${st.memory.failcnt} peak=${st.memory.maxUsage}`);

  const small = driver.create(`ok-${rand()}`, limits);
  const q = spawnWaiting(t, `exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=16M count=1`);
  small.addProcess(q.pid);
  q.go();
  const r2 = await q.exited;
  t.same(r2, { code: 0, signal: null }, `16 MiB fits (${q.stderr().trim().split('\n').pop()})`);
  t.notOk(small.oomKilled(), 'no OOM kill');
  const paths = { ...big.paths };
  await big.remove();
  allDirsGone(t, paths);
});

t.test('memory: update() changes the limit of a live cgroup', { skip }, async (t) => {
  const driver = driverFor(t);
  const cg = driver.create(`upd-${rand()}`, parseLimits({ memory: '64m' }).limits);
  const p = spawnWaiting(t, 'exec sleep 60');
  cg.addProcess(p.pid);
  const limitFile = driver.version === 1 ? join(cg.paths.memory!, 'memory.limit_in_bytes') : join(cg.paths.unified!, 'memory.max');
  t.equal(readFileSync(limitFile, 'utf8').trim(), String(64 * MiB));
  cg.update(parseLimits({ memory: '32m', memorySwap: '64m' }, { update: true }).limits);
  t.equal(readFileSync(limitFile, 'utf8').trim(), String(32 * MiB), 'lowered');
  cg.update(parseLimits({ memory: '256m', memorySwap: '512m' }, { update: true }).limits);
  t.equal(readFileSync(limitFile, 'utf8').trim(), String(256 * MiB), 'raised above the old memory+swap (memsw written first on v1)');
  t.equal(cg.stats().memory.limit, 256 * MiB, 'stats() agrees');
  if (driver.version === 1 && existsSync(join(cg.paths.memory!, 'memory.memsw.limit_in_bytes'))) {
    t.equal(readFileSync(join(cg.paths.memory!, 'memory.memsw.limit_in_bytes'), 'utf8').trim(), String(512 * MiB));
    t.throws(() => cg.update({ memory: 1024 * MiB }), /Memory limit should be smaller than already set memoryswap limit/, 'v1: memory above memsw is refused with docker\'s words');
    t.equal(readFileSync(limitFile, 'utf8').trim(), String(256 * MiB), 'and the old limit stays');
  }
  t.ok(cg.pids().includes(p.pid), 'the process lived through it');
});

t.test('memory: --oom-kill-disable (v1) makes the process wait under OOM instead of dying', { skip: skip || (version !== 1 ? 'cgroup v1 only' : false) }, async (t) => {
  const hog = compileC(t, 'hog', HOG);
  if (!hog) {
    t.pass('skipped: no C compiler (cc) to build the memory hog');
    return;
  }
  const driver = driverFor(t);
  const cg = driver.create(`nooom-${rand()}`, parseLimits({ memory: '32m', oomKillDisable: true }).limits);
  const oc = () => readFileSync(join(cg.paths.memory!, 'memory.oom_control'), 'utf8');
  t.match(oc(), /^oom_kill_disable 1$/m);
  const p = spawnWaiting(t, `exec ${hog} 64`);
  cg.addProcess(p.pid);
  p.go();
  for (let i = 0; i < 300 && !/^under_oom 1$/m.test(oc()); i++) await sleep(10);
  t.match(oc(), /^under_oom 1$/m, 'under_oom 1: the cgroup is out of memory');
  await sleep(200);
  t.equal(p.child.exitCode, null, 'and the process is still there, waiting');
  t.equal(procState(p.pid), 'D', 'in state D');
  t.equal(readFileSync(`/proc/${p.pid}/wchan`, 'utf8'), 'mem_cgroup_oom_synchronize', 'parked at the end of its page fault');
  t.notOk(cg.oomKilled(), 'nobody was OOM-killed');
  const t0 = Date.now();
  await cg.killAll();
  t.equal((await p.exited).signal, 'SIGKILL', `killAll() still gets it (${Date.now() - t0} ms)`);
});

t.test('cpuset and blkio weight: the kernel holds the process to CPU 1; the weight lands in BFQ\'s file', { skip }, async (t) => {
  const driver = driverFor(t);
  const cpus = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const last = String(Math.max(...[...cpus.matchAll(/\d+/g)].map((m) => Number(m[0]))));
  let limits: Limits;
  try {
    limits = parseLimits({ cpusetCpus: last, blkioWeight: '300' }).limits;
    driver.validate(limits);
  } catch (e) {
    limits = parseLimits({ cpusetCpus: last }).limits;
    t.comment(`no blkio weight on this kernel: ${(e as Error).message}`);
  }
  const cg = driver.create(`set-${rand()}`, limits);
  const p = spawnWaiting(t, 'exec sleep 60');
  cg.addProcess(p.pid);
  t.match(readFileSync(`/proc/${p.pid}/status`, 'utf8'), new RegExp(`^Cpus_allowed_list:\\s+${last}$`, 'm'), `the process may run on CPU ${last} only`);
  if (limits.blkioWeight) {
    const dir = driver.version === 1 ? cg.paths.blkio! : cg.paths.unified!;
    const files = driver.version === 1 ? ['blkio.weight', 'blkio.bfq.weight'] : ['io.bfq.weight', 'io.weight'];
    const file = files.find((f) => existsSync(join(dir, f)))!;
    t.comment(`${file}: ${readFileSync(join(dir, file), 'utf8').trim()}`);
    t.match(readFileSync(join(dir, file), 'utf8'), file === 'io.weight' ? /default 2930/ : /\b300\b/, `${file} holds the weight`);
  }
});

t.test('cpu: --cpus 0.5 holds a busy loop to half a CPU, and the kernel counts throttling', { skip }, async (t) => {
  const driver = driverFor(t);
  const cg = driver.create(`cpu-${rand()}`, parseLimits({ cpus: '0.5' }).limits);
  const quotaFile = driver.version === 1 ? join(cg.paths.cpu!, 'cpu.cfs_quota_us') : join(cg.paths.unified!, 'cpu.max');
  t.match(readFileSync(quotaFile, 'utf8').trim(), driver.version === 1 ? /^50000$/ : /^50000 100000$/);
  const p = spawnWaiting(t, 'while :; do :; done');
  cg.addProcess(p.pid);
  p.go();
  await sleep(300);
  const a = cg.stats();
  const t0 = process.hrtime.bigint();
  await sleep(3000);
  const b = cg.stats();
  const wall = Number(process.hrtime.bigint() - t0);
  const share = (b.cpu.usageNs - a.cpu.usageNs) / wall;
  t.comment(`usage ${(share * 100).toFixed(1)}% of one CPU over ${(wall / 1e9).toFixed(2)} s; nr_periods +${b.cpu.nrPeriods - a.cpu.nrPeriods}, nr_throttled +${b.cpu.nrThrottled - a.cpu.nrThrottled}, throttled ${((b.cpu.throttledNs - a.cpu.throttledNs) / 1e6).toFixed(0)} ms`);
  t.ok(share > 0.35 && share < 0.65, `50% +-15% of one CPU (measured ${(share * 100).toFixed(1)}%)`);
  t.ok(b.cpu.nrThrottled > a.cpu.nrThrottled, 'nr_throttled grows');
  t.ok(b.cpu.throttledNs > a.cpu.throttledNs, 'throttled time grows');
  const paths = { ...cg.paths };
  await cg.remove();
  t.equal((await p.exited).signal, 'SIGKILL', 'remove() killed the loop');
  allDirsGone(t, paths);
});

t.test('pids: a fork loop stops at pids.max 20, a fork bomb is contained and killable', { skip }, async (t) => {
  const forker = compileC(t, 'forker', FORKER);
  if (!forker) {
    t.pass('skipped: no C compiler (cc) to build the fork loop');
    return;
  }
  const driver = driverFor(t);
  const cg = driver.create(`pids-${rand()}`, parseLimits({ pidsLimit: '20' }).limits);
  const p = spawnWaiting(t, `exec ${forker} bomb`);
  cg.addProcess(p.pid);
  p.go();
  for (let i = 0; i < 500 && !p.stdout().includes('forked'); i++) await sleep(10);
  // the forker itself is one of the 20
  t.match(p.stdout(), /^forked 19 failed 21 Resource temporarily unavailable$/m, 'the 20th fork fails with EAGAIN, and every one after it');
  await sleep(300);
  const st = cg.stats();
  t.equal(st.pids.limit, 20);
  t.equal(st.pids.current, 20, 'the bomb keeps the cgroup full: pids.current 20');
  const dir = driver.version === 1 ? cg.paths.pids! : cg.paths.unified!;
  const refused = Number(/^max (\d+)$/m.exec(readFileSync(join(dir, 'pids.events'), 'utf8'))?.[1] ?? 0);
  t.ok(refused > 21, `pids.events: ${refused} forks refused so far`);
  t.equal(spawnSync('/bin/true').status, 0, 'the host can still fork');
  const paths = { ...cg.paths };
  const t0 = Date.now();
  await cg.killAll();
  t.same(cg.pids(), [], `killAll() emptied a forking cgroup (${Date.now() - t0} ms)`);
  t.equal((await p.exited).signal, 'SIGKILL');
  await cg.remove();
  allDirsGone(t, paths);
});

t.test('freezer: a frozen process stops (its state in /proc), thaw resumes it', { skip }, async (t) => {
  const driver = driverFor(t);
  const cg = driver.create(`frz-${rand()}`, {});
  const p = spawnWaiting(t, 'i=0; while :; do i=$((i+1)); echo $i; done');
  cg.addProcess(p.pid);
  p.go();
  const last = () => Number(p.stdout().trim().split('\n').pop() ?? 0);
  await sleep(200);
  t.ok(last() > 0, 'counting');
  t.notOk(cg.frozen());
  await cg.freeze();
  t.ok(cg.frozen(), 'frozen() after freeze()');
  if (driver.version === 1) t.equal(readFileSync(join(cg.paths.freezer!, 'freezer.state'), 'utf8').trim(), 'FROZEN');
  else t.match(readFileSync(join(cg.paths.unified!, 'cgroup.events'), 'utf8'), /^frozen 1$/m);
  const state = procState(p.pid);
  // v1 parks tasks in __refrigerator (TASK_FROZEN, shown as D); v2 in a signal-stop-like sleep (S)
  t.equal(state, driver.version === 1 ? 'D' : 'S', `/proc/${p.pid}/stat state while frozen: ${state}`);
  if (driver.version === 1) t.equal(readFileSync(`/proc/${p.pid}/wchan`, 'utf8'), '__refrigerator', 'waiting in __refrigerator');
  await sleep(100);
  const frozenAt = last();
  await sleep(300);
  t.equal(last(), frozenAt, `the counter stands still at ${frozenAt}`);
  cg.thaw();
  t.notOk(cg.frozen(), 'thawed');
  await sleep(300);
  t.ok(last() > frozenAt, `the counter moves on (${frozenAt} -> ${last()})`);
  t.not(procState(p.pid), 'D');
});

t.test('block IO: --device-write-bps 1mb on a loop device holds direct writes to 1 MiB/s', { skip }, async (t) => {
  const dir = mkdtempSync('/tmp/mdtest-cg-');
  let loop = '';
  t.teardown(() => {
    if (loop) spawnSync('losetup', ['-d', loop]);
    rmSync(dir, { recursive: true, force: true });
  });
  const img = join(dir, 'disk.img');
  spawnSync('truncate', ['-s', '64M', img]);
  const lo = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' });
  if (lo.status !== 0) {
    t.pass(`skipped: losetup failed: ${lo.stderr}`);
    return;
  }
  loop = lo.stdout.trim();
  const driver = driverFor(t);
  const { limits } = parseLimits({ deviceWriteBps: [`${loop}:1mb`] });
  t.match(limits.deviceWriteBps![0], { path: loop, major: 7, rate: MiB }, `${loop} resolved to MAJ:MIN by stat`);
  const cg = driver.create(`io-${rand()}`, limits);
  const dev = `${limits.deviceWriteBps![0]!.major}:${limits.deviceWriteBps![0]!.minor}`;
  if (driver.version === 1) t.equal(readFileSync(join(cg.paths.blkio!, 'blkio.throttle.write_bps_device'), 'utf8').trim(), `${dev} ${MiB}`);
  else t.match(readFileSync(join(cg.paths.unified!, 'io.max'), 'utf8'), new RegExp(`^${dev} rbps=max wbps=${MiB} `, 'm'));
  const total = 4 * MiB;
  const p = spawnWaiting(t, `exec ${BUSYBOX} dd if=/dev/zero of=${loop} bs=256k count=16 oflag=direct`);
  cg.addProcess(p.pid);
  const t0 = process.hrtime.bigint();
  p.go();
  const r = await p.exited;
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  t.equal(r.code, 0, p.stderr());
  const rate = total / secs / MiB;
  t.comment(`${total / MiB} MiB in ${secs.toFixed(2)} s = ${rate.toFixed(3)} MiB/s`);
  t.ok(rate > 0.8 && rate < 1.2, `1 MiB/s +-20% (measured ${rate.toFixed(3)} MiB/s)`);
  const io = cg.stats().io.find((d) => d.device === dev);
  t.equal(io?.writeBytes, total, 'the kernel counted every byte written to the device');
});

t.test('create() leaves nothing behind when the kernel refuses a limit', { skip }, async (t) => {
  const driver = driverFor(t);
  const name = `bad-${rand()}`;
  // bypass parseLimits: memory+swap below memory is refused by the kernel on v1, by runc's rule on v2
  const bad: Limits = { memory: 64 * MiB, memorySwap: 32 * MiB, pidsLimit: 10 };
  t.throws(() => driver.create(name, bad));
  t.equal(driver.open(name), undefined, 'no cgroup of that name in any hierarchy');
  t.same(driver.list(), []);
});

t.test('names: only names under the engine\'s parent, never a path', { skip }, async (t) => {
  const driver = driverFor(t);
  for (const bad of ['..', '../x', 'a/b', '', '.hidden']) t.throws(() => driver.create(bad, {}), /invalid cgroup name/, JSON.stringify(bad));
  const a = driver.create(`a-${rand()}`, {});
  const b = driver.create(`b-${rand()}`, {});
  t.same(driver.list(), [a.name, b.name].sort());
  t.throws(() => driver.create(a.name, {}), /already exists/);
  await a.remove();
  t.same(driver.list(), [b.name]);
  t.notOk(driver.removeParent(), 'the parent stays while a container cgroup is in it');
  await b.remove();
  t.ok(driver.removeParent(), 'then it goes');
});

t.test('explain(): every mkdir, write and rmdir is reported', { skip }, async (t) => {
  const lines: string[] = [];
  setExplainSink((l) => lines.push(l));
  t.teardown(() => setExplainSink(undefined));
  const driver = driverFor(t);
  const cg = driver.create(`exp-${rand()}`, parseLimits({ memory: '32m', pidsLimit: '5' }).limits);
  await cg.remove();
  const text = lines.join('\n');
  t.match(text, /cgroup +mkdir \/.*mdtest-cg-/);
  t.match(text, driver.version === 1 ? /write memory\.limit_in_bytes <- 33554432 \(/ : /write memory\.max <- 33554432 \(/);
  t.match(text, /write pids\.max <- 5 \(/);
  t.match(text, /cgroup +rmdir \//);
});

// On a hybrid host the cgroup2 mount holds no controllers, but its core works: cgroup.procs,
// cgroup.freeze, cgroup.kill, cpu.stat. Drive the v2 driver there too.
const unified = '/sys/fs/cgroup/unified';
const hybridSkip = skip || (version !== 1 || !existsSync(join(unified, 'cgroup.controllers')) ? 'no hybrid cgroup2 mount' : false);

t.test('v2 driver on the hybrid cgroup2 mount: freeze, cgroup.kill against a fork loop, cpu.stat', { skip: hybridSkip }, async (t) => {
  const driver = driverFor(t, (parent) => new V2Driver({ root: unified, parent }));
  t.throws(() => driver.validate({ memory: 32 * MiB }), /memory controller is not available/, 'a limit without its controller is refused before anything is made');
  const cg = driver.create(`v2-${rand()}`, {});
  const p = spawnWaiting(t, 'while :; do sleep 1 & wait; done');
  cg.addProcess(p.pid);
  p.go();
  await sleep(200);
  await cg.freeze();
  t.ok(cg.frozen());
  t.equal(procState(p.pid), 'S', 'a v2-frozen task sleeps (S)');
  cg.thaw();
  t.notOk(cg.frozen());
  const before = cg.stats().cpu.usageNs;
  t.ok(before > 0, `cpu.stat usage_usec counts without the cpu controller (${before} ns)`);
  const paths = { ...cg.paths };
  await cg.killAll();
  t.same(cg.pids(), [], 'cgroup.kill emptied it');
  t.equal((await p.exited).signal, 'SIGKILL');
  await cg.remove();
  allDirsGone(t, paths);
});
