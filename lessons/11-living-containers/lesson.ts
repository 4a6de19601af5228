// Lesson 11: containers that outlive the command: detached runs and their monitor, logs, what
// exec really does, signals and stop timeouts, the state on disk, restart policies.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, pass, fail, type LessonContext } from '../../lib/lab/lesson.js';
import { prepareEngine } from '../../lib/lab/lesson-engine.js';
import { cmdline, nsOf, parentOf, startTimeOf } from '../../lib/lab/proc.js';

const NAMESPACES = ['ipc', 'mnt', 'net', 'pid', 'uts'];

/** The last line a command printed (the ID from run -d). */
const lastLine = (text: string) => text.trim().split('\n').pop()?.trim() ?? '';

/** The ticker's full and short ID, as variables for later steps. */
function keepTicker(ctx: LessonContext, id: string): void {
  ctx.vars.ID = id;
  ctx.vars.SHORT = id.slice(0, 12);
}

async function inspect(ctx: LessonContext, format: string, name: string): Promise<string> {
  return (await ctx.sh(`mini-docker inspect --format '${format}' ${name}`)).stdout.trim();
}

async function poll<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default defineLesson({
  title: 'Living containers',
  summary: 'Detached containers and their monitor, logs, what exec really does, stop timeouts, state on disk, restarts.',
  steps: [
    explain(`
# Containers that outlive the command

So far every container lived as long as the \`mini-docker run\` that started it. Real containers
run for days, detached from any terminal: \`run -d\` starts one, prints its **full ID** (64 hex
digits; any unique prefix names it, and so does its name), and returns. Load the busybox image into
the lesson's engine first.`),
    prepareEngine(),
    run('mini-docker load -i "$BUSYBOX_OCI"'),
    run('mini-docker run -d --name ticker busybox sh -c \'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done\'', {
      then: (ctx, r) => keepTicker(ctx, lastLine(r.stdout)),
    }),
    run('mini-docker ps', {
      then: async (ctx) => {
        ctx.vars.PID = await inspect(ctx, '{{.State.Pid}}', 'ticker');
        ctx.vars.SHIM = String(parentOf(Number(ctx.vars.PID)) ?? '');
      },
    }),
    explain(`
# Who watches a detached container?

The CLI has exited, yet the container's output must go somewhere and its exit code must be
recorded. Docker keeps a \`containerd-shim\` per container, podman a \`conmon\`: a small process
that stays. mini-docker's is the **shim itself**: after starting the container it does not exit
but becomes its **monitor**, and its title in \`ps\` says so.`),
    show('the container\'s process and its parent, the monitor', 'ps -o pid,ppid,rss,args -p "$SHIM,$PID"'),
    check('the container\'s parent is its monitor, a mini-docker-shim for this container', (ctx) => {
      const title = (cmdline(Number(ctx.vars.SHIM)) ?? []).join(' ').trim();
      return title.startsWith(`mini-docker-shim [${ctx.vars.SHORT}]: monitor`) ? pass(`pid ${ctx.vars.SHIM}: "${title}"`) : fail(`the parent of ${ctx.vars.PID} is "${title}"`);
    }),
    explain(`
The monitor reads the container's stdout and stderr from two pipes and appends each line to
\`containers/ID/container.log\`, as docker's json-file driver does: one JSON object per line, with
the stream it came from and the time. \`logs\` reads that file back; \`-t\` adds the times,
\`--tail N\` keeps the last N lines, \`-f\` follows the file as it grows.`),
    show('the log file, as the monitor writes it', 'sleep 2; head -n 3 "$MINI_DOCKER_ROOT/containers/$ID/container.log"'),
    run('mini-docker logs --tail 3 ticker; echo "--- with -t:"; mini-docker logs -t --tail 1 ticker'),
    run('timeout 3 mini-docker logs -f --tail 1 ticker', { title: 'logs -f for 3 seconds: new lines arrive as the container writes them', expect: 124 }),
    check('logs returns what the container printed', async (ctx) => {
      const r = await ctx.sh('mini-docker logs ticker');
      const ticks = r.stdout.split('\n').filter((l) => /^tick \d+$/.test(l));
      return ticks.length >= 3 && ticks[0] === 'tick 1' ? pass(`${ticks.length} lines, from "tick 1" to "${ticks[ticks.length - 1]}"`) : fail(`logs printed ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }),
    explain(`
# What exec really does

\`exec\` starts a **new** process in a running container. There is no "inside" to enter: a
container is a set of namespaces (and a cgroup). The shim opens \`/proc/PID/ns/*\` of the
container's first process and calls \`setns(2)\` on each, then forks, because a new PID namespace
applies to children only. \`--debug\` shows the calls:`),
    run('mini-docker --debug exec ticker true 2>&1 | grep -E "setns|fork|cgroup.procs" | head -n 8'),
    show('the namespaces of the container\'s PID 1, seen from the host', `for ns in ${NAMESPACES.join(' ')}; do echo "$ns $(readlink /proc/$PID/ns/$ns)"; done`),
    run(`mini-docker exec ticker sh -c 'for ns in ${NAMESPACES.join(' ')}; do echo "$ns $(readlink /proc/self/ns/$ns)"; done; echo "my PID in the container: $$"'`, {
      title: 'The same from an exec\'d process',
      then: (ctx, r) => {
        ctx.state.execNs = r.stdout;
      },
    }),
    check('the exec\'d process is in each namespace of the container\'s PID 1', (ctx) => {
      const seen = new Map(String(ctx.state.execNs).split('\n').map((l) => l.split(' ')).filter((f) => f.length === 2).map(([k, v]) => [k!, v!]));
      const pid = Number(ctx.vars.PID);
      const differ = NAMESPACES.filter((n) => seen.get(n) !== nsOf(pid, n));
      if (differ.length) return fail(`different namespaces: ${differ.join(', ')}`);
      const host = NAMESPACES.filter((n) => seen.get(n) === nsOf('self', n));
      return host.length ? fail(`the exec'd process shares the host's ${host.join(', ')}`) : pass(`same ${NAMESPACES.join(', ')} inodes as PID 1, none of the host's`);
    }),
    question({
      message: 'Why does the shim fork after setns, instead of exec-ing the command itself?',
      choices: [
        { name: 'setns into a PID namespace only applies to the children created afterwards', correct: true },
        { name: 'setns closes the process\'s file descriptors' },
        { name: 'A process may call setns only once' },
      ],
      explanation: 'A process never changes its own PID: `setns(fd, CLONE_NEWPID)` sets the namespace of the children it will create (`pid_for_children`). The forked child is the one that gets a PID in the container.',
    }),
    explain(`
# Signals and stop timeouts

\`stop\` sends the image's stop signal (SIGTERM), waits \`-t\` seconds (10 by default), then sends
SIGKILL. Lesson 5 showed why a shell as PID 1 does not stop at SIGTERM: PID 1 of a namespace only
gets the signals it has a handler for. The ticker has none.`),
    run('time mini-docker stop -t 1 ticker'),
    run('mini-docker wait ticker', { title: 'wait prints the exit code: killed by SIGKILL, 128 + 9' }),
    explain(`
With a handler, the container decides: \`trap\` runs a command when the signal comes. This one
reports SIGUSR1 and exits cleanly at SIGTERM. (Exit code 143, 128 + 15, is what you see when a
process that is *not* PID 1 dies of SIGTERM and an init such as tini passes its status on.)`),
    run('mini-docker run -d --name polite busybox sh -c \'trap "echo got SIGUSR1" USR1; trap "echo got SIGTERM, bye; exit 0" TERM; while true; do sleep 0.2; done\''),
    run('sleep 0.3; mini-docker kill -s USR1 polite; sleep 0.5; mini-docker logs polite', { title: 'kill -s sends any signal to PID 1' }),
    run('time mini-docker stop -t 10 polite; mini-docker wait polite'),
    check('ticker died by SIGKILL (137), polite exited by itself (0)', async (ctx) => {
      const t = await inspect(ctx, '{{.State.ExitCode}}', 'ticker');
      const p = await inspect(ctx, '{{.State.ExitCode}}', 'polite');
      return t === '137' && p === '0' ? pass('ticker 137, polite 0') : fail(`exit codes: ticker ${t}, polite ${p}`);
    }),
    explain(`
# States on disk

There is no daemon to ask: a container's state is files. \`state.json\` records the container's
PID **with its start time** (field 22 of \`/proc/PID/stat\`), because PIDs are reused: a PID is the
container's only while that start time matches. When the process ends, the monitor writes
\`exit.json\` (atomically: a temporary file, then rename); \`ps\`, \`inspect\` and \`wait\` read both.`),
    run('mini-docker run -d --name sleeper busybox sleep 600', {
      then: async (ctx, r) => {
        ctx.vars.SID = lastLine(r.stdout);
        ctx.vars.SPID = await inspect(ctx, '{{.State.Pid}}', 'sleeper');
      },
    }),
    show('state.json next to the kernel\'s record of the process', 'cat "$MINI_DOCKER_ROOT/containers/$SID/state.json"; echo; echo "field 22 of /proc/$SPID/stat: $(cut -d" " -f22 /proc/$SPID/stat)"; mini-docker inspect --format "{{.State.Pid}} {{.State.Status}}" sleeper'),
    check('state.json names the running process by pid and start time', (ctx) => {
      const st = JSON.parse(readFileSync(join(ctx.vars.MINI_DOCKER_ROOT!, 'containers', ctx.vars.SID!, 'state.json'), 'utf8')) as { pid: number; pidStartTime: string };
      const pid = Number(ctx.vars.SPID);
      if (st.pid !== pid) return fail(`state.json says pid ${st.pid}, inspect ${pid}`);
      return st.pidStartTime === startTimeOf(pid) ? pass(`pid ${pid}, started at tick ${st.pidStartTime}`) : fail(`start time ${st.pidStartTime} in state.json, ${startTimeOf(pid)} in /proc/${pid}/stat`);
    }),
    run('mini-docker stop -t 0 sleeper >/dev/null; cat "$MINI_DOCKER_ROOT/containers/$SID/exit.json"; mini-docker ps -a', { title: 'Stopped: the monitor\'s exit record, and ps -a' }),
    explain(`
# Restart policies

\`--restart on-failure:N\` asks for up to N restarts after a non-zero exit (\`always\` restarts
whatever the exit code; \`no\` is the default). The monitor, when its container exits, hands over to
the engine (\`mini-docker __container-exited ID\`), which decides, waits a back-off (100 ms,
doubling) and starts the container again: same ID, same upper dir, new process.`),
    run('mini-docker run -d --name flaky --restart on-failure:2 busybox sh -c \'echo "attempt at $(date +%T)"; exit 3\''),
    check('flaky ran three times (two restarts) and stayed exited with 3', async (ctx) => {
      const done = await poll(async () => {
        const s = await inspect(ctx, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'flaky');
        return s === '2 exited 3' ? s : undefined;
      }, 15_000);
      const logs = (await ctx.sh('mini-docker logs flaky')).stdout.split('\n').filter((l) => l.startsWith('attempt'));
      if (!done) return fail(`RestartCount, status and exit code: ${await inspect(ctx, '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}', 'flaky')}`);
      return logs.length === 3 ? pass(`RestartCount 2; logs: ${logs.join(' · ')}`) : fail(`${logs.length} attempts in the logs, expected 3`);
    }),
    run('mini-docker logs flaky; mini-docker inspect --format "restarts: {{.RestartCount}}, exit code: {{.State.ExitCode}}" flaky'),
    question({
      message: 'The monitor of a running container is killed with SIGKILL. What does `ps` say about the container?',
      choices: [
        { name: 'Still running: its process is alive, and state.json\'s pid and start time still match it', correct: true },
        { name: 'Exited: the monitor is gone' },
        { name: 'Unknown until the engine restarts' },
      ],
      explanation: 'The container\'s process does not depend on its monitor. `ps` checks the recorded pid and start time against /proc; only when that process is gone and no exit.json exists does it report the exit as unknown (255): nobody was there to see it.',
    }),
    run('mini-docker rm -f ticker polite sleeper flaky && mini-docker ps -a', { title: 'Remove them all (rm -f also stops a running one)' }),
  ],
});
