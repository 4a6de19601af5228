// Lesson 9: cgroups, limits the kernel enforces: memory (the OOM killer), CPU (CFS quota),
// pids (a fork loop), block IO (a loop device of the lesson's own), the freezer, v1 beside v2.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, act, pass, fail, type LessonContext } from '../../lib/lab/lesson.js';
import { cgroupMounts, cgroupOf, cpuBandwidth, cpuUsageNs, frozenState, keyed, memoryEvents, readCgroupFile, type Controller } from '../../lib/lab/cgroup.js';
import { isAlive, stateOf } from '../../lib/lab/proc.js';
import { LabError } from '../../lib/lab/errors.js';
import { sleepSync } from '../../lib/lab/cleanup.js';

/** True on a pure cgroup v2 host: limits live in the unified tree, under v2's file names. */
const v2 = (ctx: LessonContext) => ctx.state.v2 === true;
const pick = (v1: string, v2text: string) => (ctx: LessonContext) => (v2(ctx) ? v2text : v1);

/** An act step: put the directory of process $pidVar's cgroup for each controller in a variable. */
function findCgroups(pidVar: string, wanted: [string, Controller][]) {
  return act(`Follow /proc/$${pidVar}/cgroup to the directories: ${wanted.map(([v]) => `$${v}`).join(', ')}`, (ctx) => {
    const pid = Number(ctx.vars[pidVar]);
    const notes: string[] = [];
    for (const [name, controller] of wanted) {
      const cg = cgroupOf(pid, controller);
      if (!cg) throw new LabError(`process ${pid} is gone: cannot read /proc/${pid}/cgroup`);
      ctx.vars[name] = cg.dir;
      notes.push(`${name}=${cg.dir}`);
    }
    return notes.join('\n  ');
  });
}

/** Shell: the CPU time of the cgroup in $ACCTCG, in nanoseconds. */
const usage = (ctx: LessonContext) => (v2(ctx) ? '$(( $(sed -n "s/^usage_usec //p" $ACCTCG/cpu.stat) * 1000 ))' : '$(cat $ACCTCG/cpuacct.usage)');

/** A shell command that reads the cgroup's CPU time twice, 3 s apart, and prints the share. */
function measureCpu(ctx: LessonContext): string {
  return `a=${usage(ctx)}; t0=$(date +%s%N); sleep 3; b=${usage(ctx)}; t1=$(date +%s%N)
awk -v u=$((b - a)) -v t=$((t1 - t0)) 'BEGIN { printf "CPU time used: %.0f ms in %.0f ms: %.1f%% of one CPU\\n", u / 1e6, t / 1e6, 100 * u / t }'`;
}

const keepShare = (key: string) => (ctx: LessonContext, r: { stdout: string }) => {
  const m = /([\d.]+)% of one CPU/.exec(r.stdout);
  if (!m) throw new Error(`no CPU share in: ${r.stdout}`);
  ctx.state[key] = Number(m[1]) / 100;
};

function shareCheck(key: string, want: number) {
  return async (ctx: LessonContext) => {
    let got = ctx.state[key] as number;
    const cg = cgroupOf(Number(ctx.vars.BUSY), 'cpu');
    const acct = cgroupOf(Number(ctx.vars.BUSY), 'cpuacct');
    // Below the quota, the host was busy (other work had the CPUs): measure again, twice at most.
    for (let i = 0; i < 2 && acct && got < want * 0.85; i++) {
      const [u0, t0] = [cpuUsageNs(acct) ?? 0, process.hrtime.bigint()];
      await new Promise((r) => setTimeout(r, 3000));
      got = ((cpuUsageNs(acct) ?? 0) - u0) / Number(process.hrtime.bigint() - t0);
    }
    const bw = cg && cpuBandwidth(cg);
    const files = bw ? `quota ${bw.quota} µs per ${bw.period} µs, throttled in ${bw.throttled} of ${bw.periods} periods` : '';
    if (Math.abs(got - want) > want * 0.15) return fail(`measured ${(got * 100).toFixed(1)}% of one CPU, expected ${want * 100}% ±15% (${files})`);
    if (bw && bw.throttled === 0) return fail(`the share looks right but the kernel never throttled the cgroup (${files})`);
    return pass(`${(got * 100).toFixed(1)}% of one CPU; ${files}`);
  };
}

/** busybox's `time`: "real 0m 3.01s". */
function realSeconds(text: string): number | undefined {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/**
 * Remove every container of the lesson's data root, their cgroups with them. The one made through
 * the v2 driver must be removed through it: the engine picks its driver per command.
 */
async function removeContainers(ctx: LessonContext): Promise<void> {
  let ids: string[] = [];
  try {
    ids = readdirSync(join(ctx.vars.MINI_DOCKER_ROOT!, 'containers'));
  } catch {
    return; // no container was made
  }
  await ctx.sh('if mini-docker inspect v2 >/dev/null 2>&1; then MINI_DOCKER_CGROUP_VERSION=2 mini-docker rm -f v2 >/dev/null; fi; ids=$(mini-docker ps -aq); [ -z "$ids" ] || mini-docker rm -f $ids >/dev/null', { timeoutMs: 60_000 });
  // An engine command stopped halfway (Ctrl-C closed the pipe its --debug output went to) can
  // leave a container's cgroup behind: remove what is left of these containers' cgroups.
  const { detectCgroups } = await import('../../lib/engine/cgroups/detect.js');
  const { cgroupParent } = await import('../../lib/engine/container/cgroup.js');
  for (const force of [1, 2] as const) {
    let driver;
    try {
      driver = detectCgroups({ parent: cgroupParent(), force });
    } catch {
      continue; // no hierarchy of this version
    }
    for (const id of ids) {
      let cg;
      try {
        cg = driver.open(id);
      } catch {
        continue; // not a name the engine gives a cgroup
      }
      await cg?.remove();
    }
    driver.removeParent();
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw new LabError(`${cmd} is missing`, cmd === 'mkfs.ext4' ? 'apt-get install -y e2fsprogs' : 'apt-get install -y util-linux');
  if (r.status !== 0) throw new LabError(`${cmd} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.trim();
}

export default defineLesson({
  title: 'cgroups: limits the kernel enforces',
  summary: 'Memory and the OOM killer, CPU quota, a fork loop stopped, throttled IO, the freezer; v1 beside v2.',
  rootfs: true,
  steps: [
    explain(`
# Limits, not isolation

Namespaces decide what a process can *see*. **Control groups** decide how much it can *use*. A
cgroup is a directory in a special filesystem: the processes listed in its \`cgroup.procs\` share
the limits written to its other files, and the kernel enforces them in the scheduler, the page
allocator and \`fork(2)\`, with nothing of the engine running. \`mini-docker run -m 32m\` makes a
cgroup for the container under the engine's parent (\`mini-docker\`), writes the limit, and writes
the child's PID into it while the child still waits on the sync pipe (lesson 8).`),
    show('what is mounted at /sys/fs/cgroup, and this shell\'s own cgroups', 'stat -fc "/sys/fs/cgroup is a %T" /sys/fs/cgroup; ls /sys/fs/cgroup; echo "--- /proc/self/cgroup:"; cat /proc/self/cgroup'),
    act('Which cgroup version does this machine run?', async (ctx) => {
      const { cgroupInfo } = await import('../../lib/engine/cgroups/detect.js');
      const info = cgroupInfo();
      ctx.state.v2 = info.version === 2;
      ctx.state.unified = cgroupMounts().find((m) => m.fstype === 'cgroup2')?.mountPoint;
      // Whatever this lesson's containers leave (an interrupted run), their cgroups go with them.
      ctx.defer('the lesson\'s containers and their cgroups', () => removeContainers(ctx));
      if (info.version === 2) return `cgroup v2: one unified tree at ${info.root}, controllers ${info.controllers.join(' ')}`;
      return `cgroup v1${info.hybrid ? `, hybrid (a cgroup2 tree at ${info.unified?.path} with controllers: ${info.unified?.controllers.join(' ') || 'none'})` : ''}: one hierarchy per controller, ${info.controllers.join(' ')}`;
    }),
    explain(`
On **cgroup v1** every controller (memory, cpu, pids...) is a hierarchy of its own, mounted at
\`/sys/fs/cgroup/CONTROLLER\`, and a process has one place in each: one line per hierarchy in
\`/proc/PID/cgroup\`. On **cgroup v2** there is one tree and one line, \`0::/path\`. The lesson shows
whichever this machine has, and ends with the other.

# Memory

The engine's \`--debug\` shows every cgroup operation of one run: the directories, the limit in
bytes, the PID joining, and the removal when the container exits.`),
    run(`mini-docker --debug run --rm -m 32m --rootfs "$ROOTFS" true 2>&1 | grep '^\\[explain\\] cgroup'`),
    explain('Now a container that stays (`sleep 600`), with a limit of 32 MiB:'),
    run('mini-docker run --rm --name mem -m 32m --rootfs "$ROOTFS" sleep 600', { background: { as: 'PID', comm: 'sleep' } }),
    show('where the container\'s process is, hierarchy by hierarchy', 'cat /proc/$PID/cgroup'),
    findCgroups('PID', [['MEMCG', 'memory']]),
    show('its limit, its usage, how often it hit the limit, its OOM state', pick(
      'cd $MEMCG && grep -H . memory.limit_in_bytes memory.usage_in_bytes memory.failcnt memory.oom_control',
      'cd $MEMCG && grep -H . memory.max memory.current memory.events',
    )),
    run('mini-docker exec mem dd if=/dev/zero of=/dev/null bs=16M count=1', { title: 'dd allocates one buffer of bs bytes: 16 MiB, half the limit, is fine' }),
    run('mini-docker exec mem dd if=/dev/zero of=/dev/null bs=64M count=1', {
      title: 'Twice the limit: the kernel reclaims what it can, then its OOM killer ends the biggest task of the cgroup',
      expect: 137,
    }),
    show('the counters now, and the kernel\'s log', (ctx) => `${pick(
      'cd $MEMCG && grep -H . memory.max_usage_in_bytes memory.failcnt memory.oom_control',
      'cd $MEMCG && grep -H . memory.peak memory.events',
    )(ctx)}; dmesg 2>/dev/null | grep -E 'Memory cgroup out of memory|oom-kill:' | tail -n 2 || true`),
    check('the OOM killer acted inside the container\'s cgroup, and the container lives on', (ctx) => {
      const cg = cgroupOf(Number(ctx.vars.PID), 'memory');
      if (!cg) return fail('the container\'s sleep is gone: the OOM killer should have picked dd, the biggest task');
      const ev = memoryEvents(cg);
      const killed = ev.oomKills === undefined ? ev.hitLimit > 0 : ev.oomKills > 0;
      if (!killed) return fail(`no OOM kill counted in ${cg.dir}`);
      return isAlive(Number(ctx.vars.PID)) ? pass(`oom_kill ${ev.oomKills ?? '?'}, the limit was hit ${ev.hitLimit} times; sleep (PID ${ctx.vars.PID}) still runs`) : fail('the container\'s sleep was killed too');
    }),
    explain(`
When the killed task is the container's **main process**, the container ends: killed by SIGKILL,
its exit status is 128 + 9 = **137**, and \`inspect\` says \`OOMKilled: true\`. The engine can
only know why from the cgroup: it reads the OOM-kill counter before it removes the cgroup
(\`container-lab read 9\` shows the code).`),
    run('mini-docker run --name oom -m 32m --rootfs "$ROOTFS" dd if=/dev/zero of=/dev/null bs=64M count=1', {
      expect: 137,
      then: (ctx) => ctx.defer('the container oom', async () => void (await ctx.sh('mini-docker rm -f oom'))),
    }),
    show('what the engine recorded', "mini-docker inspect --format 'ExitCode={{.State.ExitCode}} OOMKilled={{.State.OOMKilled}} Memory={{.HostConfig.Memory}}' oom", {
      then: (ctx, r) => void (ctx.state.inspect = r.stdout.trim()),
    }),
    check('inspect says the OOM killer ended it', (ctx) => {
      const s = String(ctx.state.inspect);
      return /ExitCode=137 OOMKilled=true Memory=33554432/.test(s) ? pass(s) : fail(`inspect says: ${s}`);
    }),
    run('mini-docker rm oom'),
    question({
      message: 'A container started with -m 32m allocates 64 MiB. Who kills it?',
      choices: [
        { name: 'The kernel\'s OOM killer, choosing among the tasks of that cgroup only', correct: true },
        { name: 'mini-docker, when it sees the usage pass the limit' },
        { name: 'The machine\'s OOM killer, once the host\'s RAM runs out' },
      ],
      explanation: 'The engine wrote one number and went away. The memory controller charges every page to the cgroup; at the limit it reclaims, and when that fails the OOM killer picks the task with the highest badness *in the cgroup* (`memory.oom_control`, `memory.events`). The host never runs short.',
    }),

    explain(`
# CPU: a quota per period

The CFS scheduler's **bandwidth control** gives a cgroup a *quota* of CPU time per *period*:
\`--cpus 0.5\` is 50 000 µs in every 100 000 µs. When the cgroup's tasks, together, have used the
quota, they are **throttled** until the next period starts. (\`--cpu-shares\` is different: a
relative weight that matters only when CPUs are contended.) A busy loop with half a CPU:`),
    run('mini-docker run --rm --name busy --cpus 0.5 --rootfs "$ROOTFS" sh -c \'while :; do :; done\'', { background: { as: 'BUSY', comm: 'sh' } }),
    findCgroups('BUSY', [['CPUCG', 'cpu'], ['ACCTCG', 'cpuacct']]),
    show('the quota and the period the engine wrote', pick('cd $CPUCG && grep -H . cpu.cfs_period_us cpu.cfs_quota_us cpu.shares', 'cd $CPUCG && grep -H . cpu.max cpu.weight')),
    run(measureCpu, { title: 'Measure: the CPU time the kernel accounted to the cgroup over 3 s of wall time', then: keepShare('share1') }),
    show('the throttling counters: periods, periods in which the quota ran out', 'grep -E "nr_periods|nr_throttled|throttled" $CPUCG/cpu.stat'),
    check('the busy loop got half a CPU (±15%), and the kernel throttled it', shareCheck('share1', 0.5)),
    run((ctx) => `mini-docker --debug update --cpus 0.2 busy 2>&1 | grep '^\\[explain\\]'; ${measureCpu(ctx)}`, {
      title: 'The quota of a running container can change: update --cpus 0.2, and measure again',
      then: keepShare('share2'),
    }),
    check('now a fifth of a CPU (±15%)', shareCheck('share2', 0.2)),
    run('mini-docker kill busy'),
    question({
      message: 'With --cpus 0.5 on a machine with 2 CPUs, a program runs 4 busy threads. How much CPU does it get?',
      choices: [
        { name: 'Half of one CPU in total: the quota is the whole cgroup\'s', correct: true },
        { name: 'Half of each CPU: one CPU in total' },
        { name: 'Half a CPU per thread: two CPUs in total' },
      ],
      explanation: 'The quota is charged for every task of the cgroup, on every CPU. Four threads may each run 12.5 ms per 100 ms period, or some may run more and others wait: together, 50 ms.',
    }),

    explain(`
# Processes: pids.max

The **pids** controller counts the tasks of a cgroup; beyond \`pids.max\`, \`fork(2)\` and
\`clone(2)\` fail with \`EAGAIN\` and \`pids.events\` counts the refusal. A fork bomb inside a
container with a limit exhausts its own allowance, not the host's PID table. (Here a loop that
tries 100 forks: the same wall, without the risk of a real bomb on an engine that forgot the limit.)`),
    run('mini-docker run --rm --name forks --pids-limit 20 --rootfs "$ROOTFS" sh -c \'i=0; while [ $i -lt 100 ]; do (sleep 600 &) 2>/dev/null; i=$((i+1)); done; exec sleep 600\'', {
      background: { as: 'FORKS', comm: 'sleep' },
    }),
    findCgroups('FORKS', [['PIDSCG', 'pids']]),
    show('the limit, the tasks, the forks the kernel refused', 'sleep 1; cd $PIDSCG && grep -H . pids.max pids.current pids.events; echo "processes in cgroup.procs: $(wc -l < cgroup.procs)"'),
    run('for i in $(seq 30); do sleep 0.2 & done; wait; echo "the host just started 30 processes, as ever"', { title: 'And the host?' }),
    check('the container stays within 20 tasks, and the kernel refused its other forks', (ctx) => {
      const cg = cgroupOf(Number(ctx.vars.FORKS), 'pids');
      if (!cg) return fail('the container is gone');
      const current = Number(readCgroupFile(cg, 'pids.current'));
      const refused = keyed(readCgroupFile(cg, 'pids.events')).get('max') ?? 0;
      if (current > 20) return fail(`pids.current is ${current}`);
      return refused > 0 ? pass(`pids.current ${current}, ${refused} forks refused`) : fail('pids.events counts no refused fork');
    }),
    run('mini-docker kill forks', { title: 'PID 1 of the container goes, and the kernel ends every other process of its PID namespace' }),

    explain(`
# Block IO: a disk of our own

The **blkio** controller (v2: **io**) throttles reads and writes per *device*, named by its
major:minor numbers: \`--device-write-bps /dev/loop0:2mb\` writes \`7:0 2097152\` to
\`blkio.throttle.write_bps_device\` (v2: \`io.max\` \`7:0 wbps=2097152\`). To have a device to
throttle, the lesson makes one: a file, a **loop device** on it, an ext4 filesystem with the
busybox root copied in. It undoes all three when it ends, also on Ctrl-C.`),
    act('Make a disk: truncate a 64 MiB file, losetup it, mkfs.ext4, mount it at $DISK, copy the rootfs in', (ctx) => {
      const img = join(ctx.tmp, 'disk.img');
      const disk = join(ctx.tmp, 'disk');
      sh('truncate', ['-s', '64M', img]);
      ctx.defer(`the file ${img}`, () => rmSync(img, { force: true }));
      const loop = sh('losetup', ['--find', '--show', img]);
      ctx.defer(`the loop device ${loop}`, () => {
        spawnSync('losetup', ['-d', loop]);
        // Still open (a container's mount that is going away): the kernel detaches it when it
        // is released; wait for that, so that nothing of the lesson outlives it.
        const backing = `/sys/block/${loop.replace('/dev/', '')}/loop/backing_file`;
        for (let i = 0; i < 100 && readText(backing)?.includes(img); i++) sleepSync(100);
      });
      sh('mkfs.ext4', ['-q', loop]);
      mkdirSync(disk, { mode: 0o755 });
      sh('mount', [loop, disk]);
      ctx.defer(`the mount ${disk}`, () => {
        for (let i = 0; i < 50; i++) {
          if (spawnSync('umount', [disk]).status === 0) return;
          sleepSync(100);
        }
        spawnSync('umount', ['-l', disk]); // still busy: detach it now, the kernel frees it with its last user
      });
      // Containers running on the disk (an interrupted step) go before it is unmounted.
      ctx.defer('the containers on the disk', () => removeContainers(ctx));
      cpSync(ctx.vars.ROOTFS!, disk, { recursive: true, verbatimSymlinks: true });
      ctx.vars.LOOP = loop;
      ctx.vars.DISK = disk;
      return `LOOP=${loop}  DISK=${disk}`;
    }),
    show('the device\'s major:minor numbers, and its I/O scheduler', 'ls -l $LOOP; cat /sys/block/${LOOP#/dev/}/queue/scheduler'),
    run('mini-docker run --rm --rootfs "$DISK" sh -c "time dd if=/dev/zero of=/big bs=1M count=6 oflag=direct"', { title: 'Without a limit: 6 MiB straight to the device' }),
    run(`mini-docker --debug run --rm --device-write-bps $LOOP:2mb --rootfs "$DISK" sh -c "time dd if=/dev/zero of=/big bs=1M count=6 oflag=direct" 2>&1 | grep -E 'blkio|io\\.max|records|real'`, {
      title: 'With --device-write-bps $LOOP:2mb',
      timeout: 60,
      then: (ctx, r) => void (ctx.state.ioSecs = realSeconds(r.stdout)),
    }),
    check('6 MiB took about 3 s: 2 MiB/s (±20%)', (ctx) => {
      const secs = ctx.state.ioSecs as number | undefined;
      if (secs === undefined) return fail('no time in dd\'s output');
      const rate = 6 / secs;
      return Math.abs(rate - 2) <= 0.4 ? pass(`${secs.toFixed(2)} s: ${rate.toFixed(2)} MiB/s`) : fail(`${secs.toFixed(2)} s: ${rate.toFixed(2)} MiB/s, not 2`);
    }),
    question({
      message: 'Why does the lesson write with oflag=direct?',
      choices: [
        { name: 'Buffered writes land in the page cache and reach the disk later from the kernel\'s flusher threads, which v1\'s blkio does not charge to the container', correct: true },
        { name: 'Because busybox dd cannot write otherwise' },
        { name: 'Because loop devices accept only direct IO' },
      ],
      explanation: 'On cgroup v1 the throttle sees only IO issued by the container\'s tasks themselves; writeback is done by kernel threads in the root cgroup. cgroup v2 ties writeback to the memory cgroup that dirtied the pages, so io.max throttles buffered writes too.',
    }),

    explain(`
# The freezer: pause

\`mini-docker pause\` stops every task of the cgroup at once, without a signal the tasks could see:
v1 writes \`FROZEN\` to \`freezer.state\` and waits until it reads FROZEN (not FREEZING); v2 writes
\`1\` to \`cgroup.freeze\` and waits for \`frozen 1\` in \`cgroup.events\`.`),
    run('mini-docker run --rm --name frz --rootfs "$ROOTFS" sh -c \'while :; do :; done\'', { background: { as: 'FRZ', comm: 'sh' } }),
    findCgroups('FRZ', [['FRZCG', 'freezer'], ['ACCTCG', 'cpuacct']]),
    show('running', pick('grep State /proc/$FRZ/status; cat $FRZCG/freezer.state', 'grep State /proc/$FRZ/status; grep frozen $FRZCG/cgroup.events')),
    run(`mini-docker --debug pause frz 2>&1 | grep '^\\[explain\\]'`),
    show('paused: the process\'s state, where it sleeps in the kernel, and the CPU time it uses', (ctx) => `grep State /proc/$FRZ/status; echo "wchan: $(cat /proc/$FRZ/wchan)"; ${pick('cat $FRZCG/freezer.state', 'grep frozen $FRZCG/cgroup.events')(ctx)}
a=${usage(ctx)}; sleep 1; b=${usage(ctx)}; echo "CPU time used in 1 s: $(( (b - a) / 1000 )) µs"`),
    check('the kernel reports the cgroup frozen, and its busy loop is not running', (ctx) => {
      const cg = cgroupOf(Number(ctx.vars.FRZ), 'freezer');
      const acct = cgroupOf(Number(ctx.vars.FRZ), 'cpuacct');
      if (!cg || !acct) return fail('the container is gone');
      const st = stateOf(Number(ctx.vars.FRZ));
      const u0 = cpuUsageNs(acct) ?? 0;
      sleepSync(300);
      const u1 = cpuUsageNs(acct) ?? 0;
      if (frozenState(cg) !== 'FROZEN') return fail(`${cg.dir} is ${frozenState(cg)}`);
      if (st === 'R' || u1 - u0 > 1e6) return fail(`the process is in state ${st} and used ${((u1 - u0) / 1e6).toFixed(1)} ms of CPU in 300 ms`);
      return pass(`FROZEN; the process is in state ${st}, using no CPU`);
    }),
    run('mini-docker unpause frz; sleep 0.2; grep State /proc/$FRZ/status'),
    check('running again', (ctx) => {
      const cg = cgroupOf(Number(ctx.vars.FRZ), 'freezer');
      return cg && frozenState(cg) !== 'FROZEN' ? pass(`${frozenState(cg)}, state ${stateOf(Number(ctx.vars.FRZ))}`) : fail('still frozen');
    }),
    run('mini-docker kill frz'),
    question({
      message: 'Why does pause use the freezer rather than sending SIGSTOP to every process?',
      choices: [
        { name: 'The freezer stops all tasks of the cgroup at once, invisibly; SIGSTOP is seen by the tasks\' parents, undone by any SIGCONT, and misses processes forked meanwhile', correct: true },
        { name: 'SIGSTOP cannot be sent to processes in another PID namespace' },
        { name: 'The freezer also saves the processes\' memory to disk' },
      ],
      explanation: 'A stopped process is visible state (a parent\'s `waitpid` reports it, a shell\'s job control reacts) and anybody with the right may `kill -CONT` it. The freezer is the cgroup\'s: a task frozen in the kernel\'s refrigerator cannot be woken by a signal, and a fork racing the freeze lands in the same frozen cgroup.',
    }),

    explain(`
# v1 beside v2

Same kernel mechanisms, two interfaces. **v1**: one hierarchy per controller, so a container is a
directory in each; files named per controller and per version of an idea (\`memory.limit_in_bytes\`,
\`cpu.cfs_quota_us\` + \`cpu.cfs_period_us\`, \`blkio.throttle.write_bps_device\`). **v2**: one tree;
a container is one directory; a parent hands controllers down by writing \`+memory +cpu ...\` to
its \`cgroup.subtree_control\`, and only leaves hold processes ("no internal processes"); files are
regular: \`memory.max\`, \`cpu.max\` "QUOTA PERIOD", \`io.max\` "MAJ:MIN wbps=N", \`"max"\` meaning no
limit. Some units change too: \`cpu.shares\` (2..262144) becomes \`cpu.weight\` (1..10000).

On a **hybrid** host (this lab's machines) every controller is bound to its v1 hierarchy (a
controller can be in one hierarchy at a time), and the cgroup2 tree beside them holds only the
core: \`cgroup.procs\`, \`cgroup.freeze\`, \`cgroup.kill\`, \`cpu.stat\`. The engine's v2 driver can
still use it: \`MINI_DOCKER_CGROUP_VERSION=2\` forces it.`),
    show('the unified tree here, and the controllers it offers', (ctx) => {
      const u = ctx.state.unified as string | undefined;
      if (!u) return 'echo "this machine mounts no cgroup2 tree"; ls /sys/fs/cgroup';
      return `stat -fc "${u} is a %T" ${u}; echo "cgroup.controllers: $(cat ${u}/cgroup.controllers)"; echo "cgroup.subtree_control: $(cat ${u}/cgroup.subtree_control)"`;
    }),
    run((ctx) => (ctx.state.unified
      ? 'export MINI_DOCKER_CGROUP_VERSION=2; mini-docker run -d --name v2 --rootfs "$ROOTFS" sleep 600 >/dev/null && mini-docker inspect --format "{{.State.Pid}}" v2'
      : 'echo "no cgroup2 tree here: skipped"'), {
      title: 'A container through the v2 driver',
      then: (ctx, r) => {
        if (!ctx.state.unified) return;
        ctx.defer('the container v2', async () => void (await ctx.sh('MINI_DOCKER_CGROUP_VERSION=2 mini-docker rm -f v2')));
        ctx.vars.V2PID = r.stdout.trim();
        const cg = cgroupOf(Number(ctx.vars.V2PID), 'unified');
        if (cg) ctx.vars.V2CG = cg.dir;
      },
    }),
    show('its place in the unified tree ("0::"), and its directory', (ctx) => (ctx.state.unified ? 'cat /proc/$V2PID/cgroup; echo "--- $V2CG:"; ls $V2CG' : 'true')),
    run((ctx) => (ctx.state.unified
      ? 'export MINI_DOCKER_CGROUP_VERSION=2; mini-docker --debug pause v2 2>&1 | grep "^\\[explain\\]"; grep frozen $V2CG/cgroup.events; grep State /proc/$V2PID/status; mini-docker unpause v2'
      : 'true'), { title: 'Pause through cgroup.freeze: a v2-frozen task sleeps (S); a v1-frozen one showed D' }),
    run((ctx) => (ctx.state.unified ? 'MINI_DOCKER_CGROUP_VERSION=2 mini-docker run --rm -m 32m --rootfs "$ROOTFS" true' : 'true'), {
      title: 'And a memory limit through the v2 driver?',
      expect: 'any',
    }),
    explain(`
On a pure v2 host that last command just works. On a hybrid host the engine refuses before
creating anything: the unified tree has no memory controller to give. The table the drivers
follow (the chapter has it whole, with runc's formulas):

| docker | cgroup v1 | cgroup v2 |
|---|---|---|
| \`-m 32m\` | \`memory.limit_in_bytes\` 33554432 | \`memory.max\` 33554432 |
| \`--memory-swap\` (memory + swap) | \`memory.memsw.limit_in_bytes\` | \`memory.swap.max\` = swap - memory |
| \`--cpus 0.5\` | \`cpu.cfs_quota_us\` 50000, \`cpu.cfs_period_us\` 100000 | \`cpu.max\` "50000 100000" |
| \`--cpu-shares 1024\` | \`cpu.shares\` 1024 | \`cpu.weight\` 1 + (1024 - 2) x 9999 / 262142 = 39 |
| \`--pids-limit 20\` | \`pids.max\` 20 | \`pids.max\` 20 |
| \`--device-write-bps DEV:2mb\` | \`blkio.throttle.write_bps_device\` "7:0 2097152" | \`io.max\` "7:0 wbps=2097152" |
| \`pause\` | \`freezer.state\` FROZEN | \`cgroup.freeze\` 1 |
| OOMKilled | \`memory.oom_control\` oom_kill | \`memory.events\` oom_kill |`),
    question({
      message: 'On a hybrid host, why can\'t the unified tree limit memory?',
      choices: [
        { name: 'A controller is bound to one hierarchy at a time, and memory is bound to its v1 hierarchy', correct: true },
        { name: 'cgroup v2 has no memory controller' },
        { name: 'The engine did not write +memory to cgroup.subtree_control' },
      ],
      explanation: 'The kernel attaches each controller to exactly one hierarchy. Booting with `systemd.unified_cgroup_hierarchy=1` (or `cgroup_no_v1=all`) leaves them all to v2, and then the unified tree\'s `cgroup.controllers` lists memory, cpu, io, pids...',
    }),
  ],
});
