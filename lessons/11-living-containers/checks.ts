// Lesson 11 graded: containers that outlive the command that started them. `run -d` returns while
// the container runs; what it prints is kept (logs); exec joins its namespaces; stop honours its
// timeout; rm -f leaves no process. All through the CLI (run -d, inspect, logs, exec, stop, wait,
// rm) and the kernel (/proc/PID, /proc/PID/ns).
import { defineChecks, passed, failed, described, type Detached, type GradeContext } from '../../lib/lab/grader/check.js';
import { CheckAbort } from '../../lib/lab/grader/context.js';
import { cmdline, descendants, isAlive, nsOf, stateOf, waitFor } from '../../lib/lab/proc.js';

const NAMESPACES = ['mnt', 'uts', 'ipc', 'net', 'pid', 'user', 'cgroup'];

const alive = (pid: number) => isAlive(pid) && stateOf(pid) !== 'Z';

/** A detached container whose process the host can see: `run -d` worked and inspect names its pid. */
async function detached(g: GradeContext, cmd: string[]): Promise<{ c: Detached; pid: number }> {
  const c = await g.detach([], cmd);
  if (c.result.code !== 0) throw new CheckAbort(`\`run -d\` failed: ${described(c.result)}`);
  const pid = await poll(() => c.pid(), 5000);
  if (!pid) throw new CheckAbort(`\`inspect --format '{{.State.Pid}}' ${c.name}\` names no running process`);
  return { c, pid };
}

/** waitFor with an async probe. */
async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number, stepMs = 100): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export default defineChecks({
  lesson: 11,
  title: 'Living containers',
  checks: [
    {
      id: '11-run-detached',
      title: '`run -d` returns at once, printing the ID, while the container runs on',
      points: 3,
      hint: '`run -d` must not wait for the command: it starts the container, prints its ID and exits; something else (a small monitor process, as docker\'s containerd-shim or conmon) stays with the container',
      async run(g) {
        const t = g.token('alive-');
        const started = Date.now();
        const c = await g.detach([], ['sh', '-c', `echo ${t}; while :; do sleep 1; done`], { timeoutMs: 20_000 });
        const took = (Date.now() - started) / 1000;
        if (c.result.timedOut) return failed(`\`run -d\` did not return within 20 s: it waits for the container instead of detaching (${c.result.command})`);
        if (c.result.code !== 0) return failed(`\`run -d\` failed: ${described(c.result)}`);
        if (!/^[0-9a-f]{12,64}$/.test(c.id)) return failed(`\`run -d\` should print the container's ID, it printed ${JSON.stringify(c.result.stdout.trim())}`);
        const pid = await poll(() => c.pid(), 5000);
        if (!pid) return failed(`after \`run -d\` returned, \`inspect --format '{{.State.Pid}}' ${c.name}\` names no process`);
        await new Promise((r) => setTimeout(r, 300));
        if (!alive(pid)) return failed(`the container's process ${pid} is gone ${took.toFixed(1)} s after \`run -d\` returned: the container did not outlive the command`);
        const argv = cmdline(pid) ?? [];
        if (!argv.join(' ').includes(t)) return failed(`inspect names pid ${pid}, but that is "${argv.join(' ')}", not the container's command`);
        return passed(`returned in ${took.toFixed(1)} s; pid ${pid} runs`);
      },
    },
    {
      id: '11-logs',
      title: '`logs` returns what the detached container wrote, on stdout and stderr',
      points: 3,
      hint: 'the output of a detached container goes to a pipe that a monitor keeps reading into a log file (docker: json lines with the stream and a time); `logs` reads that file back',
      needs: ['11-run-detached'],
      async run(g) {
        const out = g.token('out-');
        const err = g.token('err-');
        const { c } = await detached(g, ['sh', '-c', `echo ${out}; echo ${err} >&2; while :; do sleep 1; done`]);
        let last = { code: -1, stdout: '', stderr: '', command: `logs ${c.name}`, timedOut: false };
        const got = await poll(async () => {
          last = await g.engine(['logs', c.name]);
          const all = last.stdout + last.stderr;
          return all.includes(out) && all.includes(err) ? true : undefined;
        }, 5000, 200);
        if (got) return passed(`${out} and ${err}`);
        if (last.code !== 0) return failed(`\`logs\` failed: ${described(last)}`);
        const all = last.stdout + last.stderr;
        return failed(`after 5 s, \`logs ${c.name}\` ${all.includes(out) ? `has the stdout line but not the stderr line ${err}` : all.includes(err) ? `has the stderr line but not the stdout line ${out}` : `has neither ${out} (stdout) nor ${err} (stderr)`}: ${described(last)}`);
      },
    },
    {
      id: '11-exec-joins-ns',
      title: '`exec` runs in the container\'s namespaces (the same /proc/PID/ns inodes)',
      points: 3,
      hint: 'exec must setns(2) into every namespace of the container\'s process (/proc/PID/ns/*: user first, then ipc, uts, net, pid, cgroup, mnt) and fork, since the pid namespace applies to children',
      needs: ['11-run-detached'],
      async run(g) {
        const { c, pid } = await detached(g, ['sh', '-c', 'while :; do sleep 1; done']);
        const script = NAMESPACES.map((n) => `echo ${n} $(readlink /proc/self/ns/${n})`).join('; ');
        const r = await g.engine(['exec', c.name, 'sh', '-c', script]);
        if (r.code !== 0) return failed(`\`exec\` failed: ${described(r)}`);
        const inside = new Map(r.stdout.split('\n').map((l) => l.trim().split(' ')).filter((f) => f.length === 2).map(([k, v]) => [k!, v!]));
        const differ: string[] = [];
        for (const n of NAMESPACES) {
          const want = nsOf(pid, n);
          if (!want) continue; // a kind this kernel lacks
          if (inside.get(n) !== want) differ.push(`${n}: exec'd process ${inside.get(n) ?? '(none)'}, container ${want}`);
        }
        if (!differ.length) return passed(NAMESPACES.filter((n) => nsOf(pid, n)).join(' '));
        return failed(`the exec'd process is not in the container's namespaces: ${differ.join('; ')}`);
      },
    },
    {
      id: '11-stop-timeout',
      title: '`stop -t N` ends a container that ignores SIGTERM after about N seconds; `wait` says 137',
      points: 3,
      hint: 'stop sends the stop signal (SIGTERM), waits up to -t seconds for the container to exit, then sends SIGKILL; a PID 1 without a handler ignores SIGTERM, so it dies by SIGKILL: 128+9 = 137',
      needs: ['11-run-detached'],
      timeout: 90,
      async run(g) {
        const n = g.randomInt(1, 3);
        const { c, pid } = await detached(g, ['sh', '-c', 'while :; do sleep 1; done']);
        const started = Date.now();
        const stop = await g.engine(['stop', '-t', String(n), c.name], { timeoutMs: 40_000 });
        const took = (Date.now() - started) / 1000;
        if (stop.code !== 0) return failed(`\`stop -t ${n}\` failed: ${described(stop)}`);
        if (alive(pid)) return failed(`\`stop -t ${n}\` returned after ${took.toFixed(1)} s, but the container's process ${pid} still runs`);
        if (took < n - 0.3) return failed(`\`stop -t ${n}\` ended the container after ${took.toFixed(1)} s: it should give the container ${n} s to stop after SIGTERM`);
        if (took > n + 5) return failed(`\`stop -t ${n}\` took ${took.toFixed(1)} s: it should send SIGKILL once ${n} s have passed`);
        const w = await g.engine(['wait', c.name], { timeoutMs: 20_000 });
        const code = w.stdout.trim().split('\n').pop();
        if (w.code !== 0 || code !== '137') return failed(`\`wait\` should print 137 (killed by SIGKILL): ${described(w)}`);
        return passed(`stopped in ${took.toFixed(1)} s with -t ${n}; exit 137`);
      },
    },
    {
      id: '11-rm-force',
      title: '`rm -f` of a running container leaves no process behind',
      points: 2,
      hint: 'rm -f kills the container (SIGKILL to its processes: a cgroup or the PID namespace\'s init takes them all) and waits for it before removing its state',
      needs: ['11-run-detached'],
      async run(g) {
        const { c, pid } = await detached(g, ['sh', '-c', '(while :; do sleep 1; done) & while :; do sleep 1; done']);
        const all = [pid, ...descendants(pid)];
        const r = await g.engine(['rm', '-f', c.name]);
        if (r.code !== 0) return failed(`\`rm -f\` failed: ${described(r)}`);
        const gone = await waitFor(() => all.every((p) => !alive(p)), 3000);
        if (!gone) return failed(`3 s after \`rm -f\` returned, the container's processes ${all.filter(alive).join(' ')} still run (of ${all.join(' ')})`);
        const after = await g.engine(['inspect', c.name]);
        return after.code !== 0 ? passed(`pids ${all.join(' ')} gone, ${c.name} unknown to inspect`) : failed(`\`inspect ${c.name}\` still finds the container after \`rm -f\`: ${described(after)}`);
      },
    },
  ],
});
