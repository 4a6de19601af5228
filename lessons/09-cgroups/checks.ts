// Lesson 9 graded: limits the kernel enforces. Every check starts a container with a random limit
// and asks the kernel, not the engine: the container's cgroup is found from its PID
// (/proc/PID/cgroup), so the checks grade any engine (ours, a learner's, podman) on cgroup v1 or
// v2. State.OOMKilled is the one answer taken from the engine, in a check of its own: podman on a
// cgroup v1 host reports false for a container the OOM killer ended (its exit code is right).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineChecks, passed, failed, skipped, described, type GradeContext, type Outcome } from '../../lib/lab/grader/check.js';
import { cgroupOf, cpuBandwidth, cpuUsageNs, frozenState, keyed, memoryEvents, memoryLimit, procsOf, readCgroupFile, type Controller, type ProcCgroup } from '../../lib/lab/cgroup.js';
import { cmdline, pids, stateOf, waitFor } from '../../lib/lab/proc.js';

const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** dd allocates one buffer of bs bytes and fills it: that much memory, touched. */
const alloc = (mib: number) => `dd if=/dev/zero of=/dev/null bs=${mib}M count=1 2>/dev/null`;

/**
 * The container's cgroup for `controller`, or why there is none: a process the engine left in
 * the cgroup it was started from (the engine's, the grader's) has no limit of its own.
 */
function containerCgroup(pid: number, controller: Controller): ProcCgroup | Outcome {
  const cg = cgroupOf(pid, controller);
  if (!cg) return failed(`cannot read /proc/${pid}/cgroup: the container's process is gone`);
  const mine = cgroupOf('self', controller);
  if (cg.path === '/' || (mine && mine.dir === cg.dir)) {
    return failed(`the container's process ${pid} is in ${cg.path === '/' ? 'the root' : "the grader's own"} ${controller} cgroup (${cg.dir}): the engine did not move it into a cgroup of its own`);
  }
  return cg;
}

const isOutcome = (x: ProcCgroup | Outcome): x is Outcome => 'status' in x;

/**
 * Marked commands for a container to start in the background: `sleep` for a duration no other
 * process has, a busy loop whose script carries the mark. An engine without a PID namespace of
 * its own leaves such processes on the host when the container's PID 1 exits (and waits for them,
 * as they hold its output pipes): the check kills them as it ends, before the container is
 * stopped once `started()` is called, and after it in any case. Only processes with exactly
 * these command lines are touched.
 */
function marked(g: GradeContext) {
  const sleep = `sleep 300.${g.randomInt(10_000_000, 99_999_999)}`;
  const loop = `while :; do :; done # ${g.token('busy-')}`;
  const find = () =>
    pids().filter((p) => {
      const a = cmdline(p);
      if (!a || p === process.pid) return false;
      return (/(^|\/)sleep$/.test(a[0] ?? '') && a.length === 2 && `sleep ${a[1]}` === sleep) || (/(^|\/)sh$/.test(a[0] ?? '') && a[1] === '-c' && a[2] === loop);
    });
  const kill = () => {
    for (const p of find()) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  g.defer('the processes the container started in the background', kill);
  return {
    sleep,
    busyLoop: `sh -c '${loop}'`,
    find,
    /** Call once the container runs: its background processes then go before it is stopped. */
    started: () => g.defer('the processes the container started in the background, before the container', kill),
  };
}

const v1or2 = (cg: ProcCgroup, v1: string, v2: string) => (cg.version === 1 ? v1 : v2);

/** "0m 3.02s" of busybox's `time` (real), in seconds. */
function realSeconds(text: string): number | undefined {
  const m = /real\s+(\d+)m\s*([\d.]+)s/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

export default defineChecks({
  lesson: 9,
  title: 'cgroups: limits the kernel enforces',
  checks: [
    {
      id: '09-memory-limit',
      title: '-m puts the container in a cgroup of its own with that memory limit',
      points: 2,
      hint: 'make a cgroup for the container, write the limit in bytes to memory.limit_in_bytes (v1) or memory.max (v2), and write the child\'s PID to its cgroup.procs while the child waits on the sync pipe',
      async run(g) {
        const mib = g.randomInt(40, 200);
        const c = await g.start(['-m', `${mib}m`], 'true');
        const cg = containerCgroup(c.pid, 'memory');
        const limit = isOutcome(cg) ? undefined : memoryLimit(cg);
        await c.stop();
        if (isOutcome(cg)) return cg;
        const file = v1or2(cg, 'memory.limit_in_bytes', 'memory.max');
        return limit === mib * MiB ? passed(`${cg.dir}/${file} = ${limit}`) : failed(`-m ${mib}m: ${cg.dir}/${file} says ${limit ?? '(no such file)'}, expected ${mib * MiB}`);
      },
    },
    {
      id: '09-oom-kill',
      title: 'over its memory limit, a process is OOM-killed; the container exits 137 when its main process is',
      points: 3,
      hint: 'the kernel kills a task of the cgroup when it cannot reclaim below the limit (memory.failcnt and memory.oom_control oom_kill on v1, memory.events on v2 count it); the engine must report a main process killed by SIGKILL as exit code 128+9 = 137',
      needs: ['09-memory-limit'],
      async run(g) {
        const mib = g.randomInt(24, 64);
        const small = Math.max(4, Math.floor(mib / 4));
        const big = mib * 3; // above memory+swap too (docker's default --memory-swap is twice -m)
        // First a child allocates over the limit while the shell (PID 1) lives on, so the cgroup's
        // counters can be read; then the shell becomes the allocation itself (exec).
        const m = marked(g);
        const c = await g.start(['-m', `${mib}m`], `${alloc(small)} || echo small-failed`, {
          after: `${alloc(big)}; echo "child-exit:$?"; ${m.sleep}; exec ${alloc(big)}`,
          timeoutMs: 20_000,
        });
        m.started();
        if (c.stdout().includes('small-failed')) return failed(`allocating ${small} MiB under -m ${mib}m failed: the limit is far lower than asked`);
        const cg = containerCgroup(c.pid, 'memory');
        if (isOutcome(cg)) return cg;
        const before = memoryEvents(cg);
        c.closeStdin();
        const rc = await waitFor(() => /child-exit:(\d+)/.exec(c.stdout())?.[1], 20_000);
        if (rc === undefined) return failed(`the container did not finish allocating ${big} MiB within 20 s; its output: ${c.stdout().trim() || '(nothing)'}`);
        const limitFile = `${cg.dir}/${v1or2(cg, 'memory.limit_in_bytes', 'memory.max')}`;
        if (rc === '0') return failed(`allocating ${big} MiB under -m ${mib}m succeeded: ${limitFile} is ${memoryLimit(cg)}`);
        if (rc !== '137') return failed(`dd allocating ${big} MiB under -m ${mib}m ended with status ${rc}, not 137 (SIGKILL)`);
        const after = memoryEvents(cg);
        const counters = v1or2(cg, `memory.failcnt ${before.hitLimit} -> ${after.hitLimit}, memory.oom_control oom_kill ${before.oomKills ?? '-'} -> ${after.oomKills ?? '-'}`, `memory.events max ${before.hitLimit} -> ${after.hitLimit}, oom_kill ${before.oomKills} -> ${after.oomKills}`);
        const oomKilled = after.oomKills === undefined ? after.hitLimit > before.hitLimit : after.oomKills > (before.oomKills ?? 0);
        if (!oomKilled) return failed(`dd was killed, but the cgroup's counters do not show the OOM killer (${counters}): was it another SIGKILL?`);
        // Now the main process: let the shell exec the allocation.
        const sleeper = await waitFor(() => m.find()[0], 5000);
        if (sleeper) process.kill(sleeper, 'SIGKILL');
        const r = await c.exited(20_000);
        if (!r) return failed(`the container did not end after its main process allocated ${big} MiB under -m ${mib}m`);
        if (r.code !== 137) return failed(`the main process allocated ${big} MiB under -m ${mib}m; the engine should exit 137: ${described(r)}`);
        return passed(`-m ${mib}m: ${counters}; exit 137`);
      },
    },
    {
      id: '09-oomkilled-inspect',
      title: 'inspect shows State.OOMKilled true for a container the OOM killer ended, false otherwise',
      points: 1,
      hint: 'before removing the exited container\'s cgroup, read its OOM-kill counter (v1 memory.oom_control "oom_kill N", v2 memory.events "oom_kill N") and record it in the container\'s state',
      needs: ['09-oom-kill'],
      async run(g) {
        const mib = g.randomInt(24, 64);
        const killed = g.token('oom-');
        const fine = g.token('fine-');
        g.defer(`the containers ${killed} and ${fine}`, async () => void (await g.engine(['rm', '-f', killed, fine])));
        const r = await g.engine(['run', '--name', killed, '-m', `${mib}m`, '--rootfs', g.rootfs, 'sh', '-c', `exec ${alloc(mib * 3)}`]);
        if (r.code !== 137) return failed(`the container allocating ${mib * 3} MiB under -m ${mib}m should exit 137: ${described(r)}`);
        const ok = await g.engine(['run', '--name', fine, '-m', `${mib}m`, '--rootfs', g.rootfs, 'sh', '-c', alloc(Math.max(4, Math.floor(mib / 4)))]);
        if (ok.code !== 0) return failed(`a small allocation under -m ${mib}m should succeed: ${described(ok)}`);
        const format = '{{.State.OOMKilled}} {{.State.ExitCode}}';
        const a = await g.engine(['inspect', '--format', format, killed]);
        const b = await g.engine(['inspect', '--format', format, fine]);
        if (a.stdout.trim() !== 'true 137') return failed(`inspect --format '${format}' of the OOM-killed container says "${a.stdout.trim()}", expected "true 137": ${described(a)}`);
        if (b.stdout.trim() !== 'false 0') return failed(`inspect --format '${format}' of a container that stayed under its limit says "${b.stdout.trim()}", expected "false 0"`);
        return passed();
      },
    },
    {
      id: '09-cpu-quota',
      title: '--cpus gives a busy loop that share of one CPU, measured by the kernel (±15%)',
      points: 3,
      hint: 'CFS bandwidth: --cpus N is a quota of N x 100000 µs per 100000 µs period, written to cpu.cfs_quota_us and cpu.cfs_period_us (v1) or cpu.max "QUOTA PERIOD" (v2) of the container\'s cgroup',
      timeout: 45,
      async run(g) {
        const cpus = g.randomInt(4, 16) * 0.05; // 0.20 .. 0.80
        const flag = cpus.toFixed(2);
        const m = marked(g);
        const c = await g.start(['--cpus', flag], `${m.busyLoop} &`);
        m.started();
        const cpu = containerCgroup(c.pid, 'cpu');
        const acct = containerCgroup(c.pid, 'cpuacct');
        if (isOutcome(cpu)) return cpu;
        if (isOutcome(acct)) return acct;
        const bw = cpuBandwidth(cpu);
        const files = (b: typeof bw) => (b ? v1or2(cpu, `cpu.cfs_quota_us ${b.quota}, cpu.cfs_period_us ${b.period}`, `cpu.max "${b.quota} ${b.period}"`) : '(no CFS bandwidth files)');
        if (!bw || bw.quota === 'max' || Math.abs(bw.quota / bw.period - cpus) > 0.005) return failed(`--cpus ${flag}: the kernel's quota for ${cpu.dir} is ${files(bw)}`);
        // Measure over 3 s; a busy host may keep the loop below its quota (then the kernel never
        // throttles it): measure again, up to three times.
        await sleep(500);
        const seen: string[] = [];
        for (let i = 0; i < 3; i++) {
          const [u0, b0, t0] = [cpuUsageNs(acct), cpuBandwidth(cpu), process.hrtime.bigint()];
          await sleep(3000);
          const [u1, b1, t1] = [cpuUsageNs(acct), cpuBandwidth(cpu), process.hrtime.bigint()];
          if (u0 === undefined || u1 === undefined || !b0 || !b1) return failed(`cannot read the CPU counters of ${acct.dir} and ${cpu.dir}`);
          const share = (u1 - u0) / Number(t1 - t0);
          const measured = `${(share * 100).toFixed(1)}% of one CPU over 3 s (${files(b1)}; nr_throttled ${b0.throttled} -> ${b1.throttled})`;
          if (share > cpus * 1.15) return failed(`--cpus ${flag}: a busy loop got ${measured}: more than its quota`);
          if (share >= cpus * 0.85 && b1.throttled > b0.throttled) return passed(measured);
          seen.push(measured);
        }
        return skipped(`the host is too busy to measure: the busy loop never used its quota of ${flag} CPU (${seen.join('; ')})`);
      },
    },
    {
      id: '09-pids-limit',
      title: '--pids-limit stops a fork loop at the limit; the host still forks',
      points: 2,
      hint: 'write the limit to pids.max of the container\'s cgroup (the pids controller): fork() then fails with EAGAIN inside, and pids.events counts the refusals',
      async run(g) {
        const n = g.randomInt(8, 24);
        const m = marked(g);
        // Each sleep is started from a subshell: a failed fork ends that subshell, not the script.
        const c = await g.start(['--pids-limit', String(n)], `i=0; while [ $i -lt ${n * 3} ]; do (${m.sleep} &) 2>/dev/null; i=$((i+1)); done`);
        m.started();
        const cg = containerCgroup(c.pid, 'pids');
        if (isOutcome(cg)) return cg; // the check's cleanup kills the sleeps, then the container
        const max = readCgroupFile(cg, 'pids.max');
        const current = Number(readCgroupFile(cg, 'pids.current'));
        const refused = keyed(readCgroupFile(cg, 'pids.events')).get('max') ?? 0;
        const procs = procsOf(cg).length;
        const hostForks = spawnSync('true').status === 0;
        const r = await c.stop();
        const what = `pids.max ${max}, pids.current ${current}, ${procs} processes, pids.events max ${refused}`;
        if (procs > n || current > n) return failed(`--pids-limit ${n}: the container runs more than ${n} tasks (${what})`);
        if (max !== String(n)) return failed(`--pids-limit ${n}: ${cg.dir}/pids.max is ${max}`);
        if (refused === 0) return failed(`--pids-limit ${n}: ${n * 3} forks were tried but the kernel refused none (${what})`);
        if (!hostForks) return failed('the host cannot fork any more: the limit did not hold the container');
        if (r.code !== 0) return failed(`the container at its pids limit should still exit when told: ${described(r)}`);
        return passed(what);
      },
    },
    {
      id: '09-io-write-bps',
      title: '--device-write-bps throttles direct writes to a loop device (±20%)',
      points: 2,
      hint: '--device-write-bps DEV:RATE names a block device: stat(2) it for MAJ:MIN and write "MAJ:MIN BYTES" to blkio.throttle.write_bps_device (v1), or "MAJ:MIN wbps=BYTES" to io.max (v2)',
      needs: ['host:loop-device'],
      timeout: 90,
      async run(g) {
        const rate = g.randomInt(1, 3); // MiB/s
        const mib = rate * 3;
        const work = mkdtempSync(join(g.tmp, 'loop-'));
        g.defer(`the directory ${work}`, () => rmSync(work, { recursive: true, force: true }));
        const img = join(work, 'disk.img');
        const mnt = join(work, 'rootfs');
        mkdirSync(mnt, { mode: 0o755 });
        spawnSync('truncate', ['-s', '64M', img]);
        const dev = spawnSync('losetup', ['-f', '--show', img], { encoding: 'utf8' }).stdout?.trim();
        if (!dev || !dev.startsWith('/dev/loop')) return skipped(`losetup could not attach a loop device to ${img}`);
        g.defer(`the loop device ${dev}`, () => void spawnSync('losetup', ['-d', dev]));
        if (spawnSync('mkfs.ext4', ['-q', dev]).status !== 0) return skipped(`mkfs.ext4 ${dev} failed`);
        if (spawnSync('mount', [dev, mnt]).status !== 0) return skipped(`mount ${dev} ${mnt} failed`);
        g.defer(`the mount ${mnt}`, () => void spawnSync('umount', ['-l', mnt]));
        cpSync(g.rootfs, mnt, { recursive: true, verbatimSymlinks: true });
        // A directory only this filesystem has: an engine that does not give the container this
        // root cannot write anywhere else (the host's "/").
        const dir = `/${g.token('io-')}`;
        mkdirSync(join(mnt, dir));
        // oflag=direct: buffered writes reach the disk later, from the kernel's writeback threads,
        // which v1's blkio does not charge to the container.
        const r = await g.engine(['run', '--rm', '--device-write-bps', `${dev}:${rate}mb`, '--rootfs', mnt, 'sh', '-c', `time dd if=/dev/zero of=${dir}/big bs=1M count=${mib} oflag=direct`], { timeoutMs: 60_000 });
        if (r.code !== 0) return failed(`the container writing ${mib} MiB to ${dev} failed: ${described(r)}`);
        const secs = realSeconds(r.stderr + r.stdout);
        if (secs === undefined) return failed(`no time from busybox's time in the output: ${described(r)}`);
        const got = mib / secs;
        const what = `${mib} MiB in ${secs.toFixed(2)} s: ${got.toFixed(2)} MiB/s under --device-write-bps ${dev}:${rate}mb`;
        return Math.abs(got - rate) <= rate * 0.2 ? passed(what) : failed(`${what}, expected ${rate} MiB/s ±20%`);
      },
    },
    {
      id: '09-pause',
      title: 'pause freezes every process of the container (the kernel\'s freezer); unpause thaws them',
      points: 2,
      hint: 'pause writes FROZEN to freezer.state (v1) or 1 to cgroup.freeze (v2) and waits until the kernel reports the cgroup frozen; unpause writes THAWED or 0. Signals (SIGSTOP) are no freezer: the processes see them',
      async run(g) {
        const name = g.token('pause-');
        const m = marked(g);
        const c = await g.start(['--name', name], `${m.busyLoop} &`);
        m.started();
        g.defer(`unpause ${name}`, async () => void (await g.engine(['unpause', name])));
        const busy = await waitFor(() => m.find()[0], 5000);
        const fz = containerCgroup(c.pid, 'freezer');
        const acct = containerCgroup(c.pid, 'cpuacct');
        if (isOutcome(fz)) return fz;
        if (isOutcome(acct)) return acct;
        if (!busy) return failed('the container\'s busy loop did not start');
        const p = await g.engine(['pause', name]);
        if (p.code !== 0) return failed(`pause: ${described(p)}`);
        const state = frozenState(fz);
        const procState = stateOf(busy);
        const u0 = cpuUsageNs(acct) ?? 0;
        await sleep(400);
        const u1 = cpuUsageNs(acct) ?? 0;
        const file = v1or2(fz, 'freezer.state', 'cgroup.events frozen');
        if (state !== 'FROZEN') return failed(`after pause, ${fz.dir}: ${file} is ${state ?? '(missing)'}, not FROZEN (the busy loop's state: ${procState})`);
        if (u1 - u0 > 1e6) return failed(`after pause the container still used ${((u1 - u0) / 1e6).toFixed(1)} ms of CPU in 400 ms`);
        const u = await g.engine(['unpause', name]);
        if (u.code !== 0) return failed(`unpause: ${described(u)}`);
        const thawed = frozenState(fz);
        const u2 = cpuUsageNs(acct) ?? 0;
        await sleep(300);
        const u3 = cpuUsageNs(acct) ?? 0;
        await c.stop();
        if (thawed === 'FROZEN') return failed(`after unpause ${fz.dir} is still FROZEN`);
        if (!(u3 - u2 > 10e6)) return failed(`after unpause the busy loop used only ${((u3 - u2) / 1e6).toFixed(1)} ms of CPU in 300 ms`);
        return passed(`${file} FROZEN, process state ${procState}, no CPU time while paused; THAWED and running again`);
      },
    },
    {
      id: '09-update',
      title: 'update -m changes the memory limit of a running container in the kernel',
      points: 2,
      hint: 'update opens the running container\'s cgroup and writes the new limit to memory.limit_in_bytes (v1) or memory.max (v2)',
      needs: ['09-memory-limit'],
      async run(g) {
        const a = g.randomInt(48, 96);
        const b = a + g.randomInt(8, a - 8); // below docker's default memory+swap, 2 x a
        const name = g.token('upd-');
        const c = await g.start(['--name', name, '-m', `${a}m`], 'true');
        const cg = containerCgroup(c.pid, 'memory');
        if (isOutcome(cg)) return cg;
        const before = memoryLimit(cg);
        const u = await g.engine(['update', '-m', `${b}m`, name]);
        const after = memoryLimit(cg);
        await c.stop();
        const file = `${cg.dir}/${v1or2(cg, 'memory.limit_in_bytes', 'memory.max')}`;
        if (before !== a * MiB) return failed(`-m ${a}m: ${file} is ${before}`);
        if (u.code !== 0) return failed(`update -m ${b}m: ${described(u)}`);
        return after === b * MiB ? passed(`${file}: ${before} -> ${after}`) : failed(`after update -m ${b}m, ${file} is still ${after}, expected ${b * MiB}`);
      },
    },
  ],
});
