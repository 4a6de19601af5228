// Living containers: detached runs, logs, exec, stop/kill/rm, ps, inspect, and state that stays
// true when the monitor or the CLI is killed.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupParentFor, containerIds, hostMounts, md, MINI_DOCKER, tempRoot } from '../helpers/engine.js';
import { installBusyboxImage } from '../../sandbox-images/busybox/build.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function imageRoot(t: { teardown(fn: () => void): void }): Promise<string> {
  const root = tempRoot(t);
  await installBusyboxImage(root);
  return root;
}

function state(root: string, id: string) {
  return JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8'));
}

const LOOP = 'while true; do echo hello; sleep 1; done';

t.test('run -d, logs -f, stop -t 1, wait', async (t) => {
  const root = await imageRoot(t);
  const t0 = Date.now();
  const r = await md(root, ['run', '-d', '--name', 'looper', 'busybox', 'sh', '-c', LOOP]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^[0-9a-f]{64}\n$/, 'prints the full ID');
  t.ok(Date.now() - t0 < 5000, 'returns at once');
  const ps = await md(root, ['ps']);
  t.match(ps.stdout, /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES\n/);
  t.match(ps.stdout, /[0-9a-f]{12}\s+busybox\s+"sh -c while true; d…"\s+.*Up .*looper/);

  // logs -f streams lines as they come
  const follow = spawn(MINI_DOCKER, ['logs', '-f', 'looper'], { env: { ...process.env, MINI_DOCKER_ROOT: root, MINI_DOCKER_CGROUP_PARENT: cgroupParentFor(root) } });
  let streamed = '';
  follow.stdout.on('data', (d) => (streamed += d));
  const followed = new Promise<number | null>((resolve) => follow.on('close', resolve));
  await sleep(2500);
  const before = streamed.split('\n').filter(Boolean).length;
  await sleep(1500);
  t.ok(streamed.split('\n').filter(Boolean).length > before, 'new lines arrive while following');
  t.match(streamed, /^(hello\n)+$/);

  const s0 = Date.now();
  const stop = await md(root, ['stop', '-t', '1', 'looper']);
  const took = Date.now() - s0;
  t.equal(stop.code, 0, stop.stderr);
  t.equal(stop.stdout, 'looper\n');
  t.ok(took >= 900 && took < 5000, `stop -t 1 took about a second (${took} ms): sh as PID 1 ignores SIGTERM, then SIGKILL`);
  t.equal(await followed, 0, 'logs -f ends when the container stops');
  const w = await md(root, ['wait', 'looper']);
  t.equal(w.stdout.trim(), '137', 'wait prints 137, as docker would after SIGKILL');
  const ts = await md(root, ['logs', '-t', '--tail', '2', 'looper']);
  t.match(ts.stdout, /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z hello\n){2}$/, 'timestamps, tail');
  const exited = await md(root, ['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
  t.match(exited.stdout, /^looper Exited \(137\) /);
  t.equal((await md(root, ['rm', 'looper'])).code, 0);
  t.same(containerIds(root), []);
  t.equal(hostMounts().filter((l) => l.includes(root)).length, 0);
});

t.test('exec joins every namespace of the container', async (t) => {
  const root = await imageRoot(t);
  const r = await md(root, ['run', '-d', '--name', 'target', '-h', 'exec-host', 'busybox', 'sleep', '300']);
  t.equal(r.code, 0, r.stderr);
  const pid = (await md(root, ['inspect', '-f', '{{.State.Pid}}', 'target'])).stdout.trim();
  t.match(pid, /^\d+$/);
  const kinds = ['pid', 'mnt', 'uts', 'ipc', 'net', 'cgroup'];
  const e = await md(root, ['exec', 'target', 'sh', '-c', `${kinds.map((k) => `readlink /proc/self/ns/${k}`).join(';')}; hostname; echo $$`]);
  t.equal(e.code, 0, e.stderr);
  const lines = e.stdout.trim().split('\n');
  kinds.forEach((k, i) => t.equal(lines[i], readlinkSync(`/proc/${pid}/ns/${k}`), `same ${k} namespace as the container's PID 1`));
  t.equal(lines[kinds.length], 'exec-host');
  t.not(lines[kinds.length + 1], '1', 'a new process, not PID 1');
  const code = await md(root, ['exec', 'target', 'sh', '-c', 'exit 9']);
  t.equal(code.code, 9, 'exec returns the command\'s exit code');
  const missing = await md(root, ['exec', 'target', 'nosuchcmd']);
  t.equal(missing.code, 127);
  const u = await md(root, ['exec', '-u', '1000:1000', '-w', '/tmp', '-e', 'X=1', 'target', 'sh', '-c', 'id -u; pwd; echo $X']);
  t.same(u.stdout.trim().split('\n'), ['1000', '/tmp', '1']);
  const input = await md(root, ['exec', '-i', 'target', 'cat'], { input: 'piped\n' });
  t.equal(input.stdout, 'piped\n');
  await md(root, ['rm', '-f', 'target']);
});

t.test('20 concurrent run -d, then 20 concurrent rm -f', async (t) => {
  const root = await imageRoot(t);
  const runs = await Promise.all(Array.from({ length: 20 }, () => md(root, ['run', '-d', 'busybox', 'sleep', '300'], { timeout: 60_000 })));
  t.ok(runs.every((r) => r.code === 0), runs.map((r) => r.stderr).join(''));
  const ids = runs.map((r) => r.stdout.trim());
  t.equal(new Set(ids).size, 20, '20 distinct IDs');
  const names = (await md(root, ['ps', '--format', '{{.Names}}'])).stdout.trim().split('\n');
  t.equal(names.length, 20, 'ps lists all 20');
  t.equal(new Set(names).size, 20, '20 distinct names');
  t.ok(names.every((n) => /^[a-z]+_[a-z]+\d?$/.test(n)), 'docker-style adjective_surname names');

  // Any one-character prefix shared by two IDs (20 IDs, 16 hex digits: there is one).
  const first = ids.map((id) => id[0]);
  const shared = first.find((c, i) => first.indexOf(c) !== i)!;
  const amb = await md(root, ['inspect', '--type', 'container', shared]);
  t.equal(amb.code, 1);
  const prefix = await md(root, ['exec', shared, 'true']);
  t.equal(prefix.code, 1);
  t.match(prefix.stderr, new RegExp(`Multiple IDs found with provided prefix: ${shared}`));
  t.match(prefix.stderr, /candidates: [0-9a-f]{12}, [0-9a-f]{12}/);

  const running = await md(root, ['rm', ids[0]!]);
  t.equal(running.code, 1);
  t.match(running.stderr, /You cannot remove a running container/);

  const pids = ids.map((id) => state(root, id).pid as number);
  const rms = await Promise.all(ids.map((id) => md(root, ['rm', '-f', id.slice(0, 12)], { timeout: 60_000 })));
  t.ok(rms.every((r) => r.code === 0), rms.map((r) => r.stderr).join(''));
  t.same(containerIds(root), [], 'no state dirs left');
  t.equal(hostMounts().filter((l) => l.includes(root)).length, 0, 'no mounts left');
  t.ok(pids.every((p) => !existsSync(`/proc/${p}`) || !readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('sleep')), 'no container process left');
});

t.test('the monitor killed with SIGKILL: ps stays true, rm -f cleans up', async (t) => {
  const root = await imageRoot(t);
  const id = (await md(root, ['run', '-d', 'busybox', 'sleep', '300'])).stdout.trim();
  const s = state(root, id);
  t.match(readFileSync(`/proc/${s.shimPid}/cmdline`, 'utf8'), /^mini-docker-shim \[[0-9a-f]{12}\]: monitor/, 'ps shows the monitor and its container');
  process.kill(s.shimPid, 'SIGKILL');
  await sleep(200);
  t.match((await md(root, ['ps', '-a', '--format', '{{.State}}'])).stdout, /^running$/m, 'the container lives on, and ps says so');
  process.kill(s.pid, 'SIGKILL');
  await sleep(200);
  const after = (await md(root, ['ps', '-a', '--format', '{{.Status}}'])).stdout;
  t.match(after, /^Exited \(255\)/, 'died unwatched: exited, exit code unknown (255)');
  const inspect = JSON.parse((await md(root, ['inspect', id])).stdout)[0];
  t.match(inspect.State.Error, /exit code unknown/);
  t.equal((await md(root, ['rm', '-f', id])).code, 0);
  t.same(containerIds(root), []);
});

t.test('the CLI killed during a foreground run: the exit code is still recorded', async (t) => {
  const root = await imageRoot(t);
  const child = spawn(MINI_DOCKER, ['run', '--name', 'fg', 'busybox', 'sh', '-c', 'sleep 1; exit 5'], { env: { ...process.env, MINI_DOCKER_ROOT: root, MINI_DOCKER_CGROUP_PARENT: cgroupParentFor(root) }, stdio: 'ignore' });
  // Kill the CLI once the container runs (the exec has happened: its log says sleep is running).
  for (let i = 0; i < 200; i++) {
    const [id] = containerIds(root);
    if (id && existsSync(join(root, 'containers', id, 'state.json')) && state(root, id).status === 'running') break;
    await sleep(25);
  }
  await sleep(300);
  child.kill('SIGKILL');
  const w = await md(root, ['wait', 'fg']);
  t.equal(w.stdout.trim(), '5');
  t.match((await md(root, ['ps', '-a', '--format', '{{.Status}}'])).stdout, /^Exited \(5\)/);
});

t.test('restart policies and -d --rm', async (t) => {
  const root = await imageRoot(t);
  await md(root, ['run', '-d', '--name', 'flaky', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 3']);
  let insp;
  for (let i = 0; i < 100; i++) {
    insp = JSON.parse((await md(root, ['inspect', 'flaky'])).stdout)[0];
    if (insp.RestartCount === 2 && insp.State.Status === 'exited') break;
    await sleep(100);
  }
  t.equal(insp.RestartCount, 2, 'on-failure:2 restarted twice');
  t.equal(insp.State.ExitCode, 3);
  t.same(insp.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });

  await md(root, ['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.2']);
  let count = 0;
  for (let i = 0; i < 100 && count < 2; i++) {
    count = JSON.parse((await md(root, ['inspect', 'always'])).stdout)[0].RestartCount;
    await sleep(100);
  }
  t.ok(count >= 2, 'always restarts after a clean exit');
  t.equal((await md(root, ['stop', '-t', '0', 'always'])).code, 0);
  await sleep(1500);
  t.equal(JSON.parse((await md(root, ['inspect', 'always'])).stdout)[0].State.Status, 'exited', 'a stopped container stays stopped');

  const rm = await md(root, ['run', '-d', '--rm', '--name', 'gone', 'busybox', 'true']);
  t.equal(rm.code, 0);
  const id = rm.stdout.trim();
  for (let i = 0; i < 50 && containerIds(root).includes(id); i++) await sleep(100);
  t.notOk(containerIds(root).includes(id), '-d --rm removed the container after it exited');
  const bad = await md(root, ['run', '--restart', 'sometimes', 'busybox', 'true']);
  t.equal(bad.code, 125);
  t.match(bad.stderr, /invalid restart policy: sometimes/);
  await md(root, ['rm', '-f', 'flaky', 'always']);
});

t.test('ps, inspect, rename, top, cp, diff, prune', async (t) => {
  const root = await imageRoot(t);
  await md(root, ['run', '--name', 'done', 'busybox', 'sh', '-c', 'echo data > /made && rm /bin/vi']);
  await md(root, ['run', '-d', '--name', 'alive', 'busybox', 'sleep', '300']);
  t.same((await md(root, ['ps', '--format', '{{.Names}}'])).stdout.trim().split('\n'), ['alive'], 'ps: running only');
  t.same((await md(root, ['ps', '-a', '--format', '{{.Names}}'])).stdout.trim().split('\n').sort(), ['alive', 'done']);
  t.same((await md(root, ['ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}'])).stdout.trim(), 'done');
  t.same((await md(root, ['ps', '-a', '--filter', 'name=ali', '-q'])).stdout.trim().length, 12);
  t.equal((await md(root, ['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n')[0]!.length, 64);
  const json = (await md(root, ['ps', '--format', 'json'])).stdout.trim();
  t.match(JSON.parse(json), { Names: 'alive', State: 'running', Image: 'busybox' });

  const insp = JSON.parse((await md(root, ['inspect', 'done'])).stdout)[0];
  t.match(insp, {
    Name: '/done', State: { Status: 'exited', Running: false, ExitCode: 0, OOMKilled: false, Pid: 0 },
    Config: { Image: 'busybox', Cmd: ['sh', '-c', 'echo data > /made && rm /bin/vi'], WorkingDir: '/' },
    GraphDriver: { Name: 'overlay' },
  });
  t.match(insp.Id, /^[0-9a-f]{64}$/);
  const missing = await md(root, ['inspect', 'nope']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /No such object: nope/);

  t.equal((await md(root, ['rename', 'done', 'finished'])).code, 0);
  t.equal((await md(root, ['inspect', '-f', '{{.Name}}', 'finished'])).stdout.trim(), '/finished');
  t.equal((await md(root, ['rename', 'finished', 'alive'])).code, 1, 'rename to a name in use');

  const top = (await md(root, ['top', 'alive'])).stdout.trim().split('\n');
  t.match(top[0], /^UID\s+PID\s+PPID\s+CONTAINER PID\s+STAT\s+TIME\s+CMD$/);
  t.match(top[1], /^0\s+\d+\s+\d+\s+1\s+S\s+\S+\s+sleep 300$/, 'host PID and container PID 1');

  const host = mkdtempSync('/tmp/mdtest-cp-');
  t.teardown(() => rmSync(host, { recursive: true, force: true }));
  t.equal((await md(root, ['cp', 'finished:/made', join(host, 'made')])).code, 0, 'cp from a stopped container');
  t.equal(readFileSync(join(host, 'made'), 'utf8'), 'data\n');
  writeFileSync(join(host, 'in'), 'to the container\n');
  t.equal((await md(root, ['cp', join(host, 'in'), 'alive:/tmp/'])).code, 0, 'cp into a running container');
  t.equal((await md(root, ['exec', 'alive', 'cat', '/tmp/in'])).stdout, 'to the container\n');
  t.equal((await md(root, ['exec', 'alive', 'ln', '-s', '/etc', '/tmp/escape'])).code, 0);
  t.equal((await md(root, ['cp', 'alive:/tmp/escape/hostname', join(host, 'h')])).code, 0, 'symlinks resolve inside the container');
  t.equal(readFileSync(join(host, 'h'), 'utf8').trim(), (await md(root, ['exec', 'alive', 'hostname'])).stdout.trim(), 'the container\'s /etc, not the host\'s');

  t.same((await md(root, ['diff', 'finished'])).stdout.trim().split('\n'), ['C /bin', 'D /bin/vi', 'A /made']);
  const prune = await md(root, ['container', 'prune', '-f']);
  t.match(prune.stdout, /Deleted Containers:\n[0-9a-f]{64}\n/);
  t.same((await md(root, ['ps', '-a', '--format', '{{.Names}}'])).stdout.trim(), 'alive');
  await md(root, ['rm', '-f', 'alive']);
});

t.test('bad input for container commands', async (t) => {
  const root = await imageRoot(t);
  const cases: [string[], number, RegExp][] = [
    [['stop', 'ghost'], 1, /No such container: ghost/],
    [['logs', 'ghost'], 1, /No such container: ghost/],
    [['kill', '-s', 'NOPE', 'ghost'], 125, /invalid signal: NOPE/],
    [['stop', '-t', 'x', 'ghost'], 125, /invalid argument "x"/],
    [['exec', 'ghost'], 125, /requires at least 2 arguments/],
  ];
  for (const [args, code, msg] of cases) {
    const r = await md(root, args);
    t.equal(r.code, code, args.join(' '));
    t.match(r.stderr, msg);
  }
  await md(root, ['create', '--name', 'idle', 'busybox', 'true']);
  const e = await md(root, ['exec', 'idle', 'true']);
  t.equal(e.code, 1);
  t.match(e.stderr, /is not running/);
  t.match((await md(root, ['ps', '-a', '--format', '{{.Status}}'])).stdout, /^Created$/m);
  const started = await md(root, ['start', '-a', 'idle']);
  t.equal(started.code, 0);
  await md(root, ['rm', 'idle']);
});
