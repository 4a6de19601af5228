// `mini-docker run` in the foreground: exit codes, stdio, the image's config, bad input.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { busyboxRootfs, cgroupParentFor, containerIds, hostMounts, md, MINI_DOCKER, tempRoot } from '../helpers/engine.js';

const rand = () => randomBytes(4).toString('hex');

t.test('exit codes are the container\'s, docker-compatible', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  t.equal((await md(root, ['run', '--rm', '--rootfs', rootfs, 'sh', '-c', 'exit 42'])).code, 42);
  t.equal((await md(root, ['run', '--rm', '--rootfs', rootfs, 'true'])).code, 0);
  const missing = await md(root, ['run', '--rm', '--rootfs', rootfs, 'no-such-command']);
  t.equal(missing.code, 127, 'missing command: 127');
  t.match(missing.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
  const notExec = await md(root, ['run', '--rm', '--rootfs', rootfs, '/etc/passwd']);
  t.equal(notExec.code, 126, 'not executable: 126');
  t.match(notExec.stderr, /permission denied/);
  const noPath = await md(root, ['run', '--rm', '--rootfs', rootfs, '/no/such/file']);
  t.equal(noPath.code, 127);
  t.match(noPath.stderr, /no such file or directory/);
  t.equal(missing.stderr.split('\n').filter((l) => l && !l.includes('hint:')).length, 1, 'one line, no stack trace');
  t.same(containerIds(root), [], '--rm removed the failed containers too');
});

t.test('killed by SIGKILL from the host: 137', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const running = md(root, ['run', '--rm', '--rootfs', rootfs, 'sleep', '30']);
  let pid = 0;
  for (let i = 0; i < 100 && !pid; i++) {
    await new Promise((r) => setTimeout(r, 50));
    for (const id of containerIds(root)) {
      try {
        const st = JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8'));
        if (st.status === 'running') pid = st.pid;
      } catch {
        // being written
      }
    }
  }
  t.ok(pid > 0, 'the state records the host pid');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/, 'and it is the container\'s process');
  process.kill(pid, 'SIGKILL');
  const r = await running;
  t.equal(r.code, 137);
});

t.test('stdin only with -i; stdout and stderr wired through', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const word = rand();
  const withI = await md(root, ['run', '--rm', '-i', '--rootfs', rootfs, 'sh', '-c', 'cat; echo err >&2'], { input: `${word}\n` });
  t.equal(withI.stdout, `${word}\n`);
  t.equal(withI.stderr, 'err\n');
  const without = await md(root, ['run', '--rm', '--rootfs', rootfs, 'cat'], { input: `${word}\n` });
  t.equal(without.stdout, '', 'without -i the container reads nothing');
  t.equal(without.code, 0);
});

t.test('fds the caller left open do not reach the container', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  // fds 3, 4 and 5 of the CLI are open and inheritable, as a shell's pipe would be.
  const child = spawn(MINI_DOCKER, ['run', '--rm', '--rootfs', rootfs, 'ls', '/proc/self/fd'], {
    env: { ...process.env, MINI_DOCKER_ROOT: root, MINI_DOCKER_CGROUP_PARENT: cgroupParentFor(root) }, stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await new Promise((r) => child.on('close', r));
  t.same(out.trim().split('\n'), ['0', '1', '2', '3'], 'only stdio (and ls\'s own directory fd)');
});

t.test('--uidmap with --chroot or --pid host is refused up front', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  for (const flag of [['--chroot'], ['--pid', 'host']]) {
    const r = await md(root, ['run', '--rm', '--uidmap', '0:100000:65536', ...flag, '--rootfs', rootfs, 'true']);
    t.equal(r.code, 125);
    t.match(r.stderr, /--uidmap cannot be combined with/);
  }
  t.same(containerIds(root), []);
});

t.test('env, working dir, user and entrypoint', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const envFile = join(root, 'env');
  writeFileSync(envFile, 'FROM_FILE=1\nBOTH=file\n');
  const r = await md(root, ['run', '--rm', '-e', 'A=1', '-e', 'BOTH=flag', '--env-file', envFile, '-w', '/work/dir', '-u', '1234:5678',
    '-h', 'envbox', '--rootfs', rootfs, 'sh', '-c', 'echo $A $FROM_FILE $BOTH $HOSTNAME $HOME; pwd; id -u; id -g']);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['1 1 flag envbox /', '/work/dir', '1234', '5678']);
  const e = await md(root, ['run', '--rm', '--entrypoint', 'echo', '--rootfs', rootfs, 'via', 'entrypoint']);
  t.equal(e.stdout, 'via entrypoint\n');
  const u = await md(root, ['run', '--rm', '-u', 'nobody', '--rootfs', rootfs, 'id', '-u']);
  t.equal(u.stdout.trim(), '65534', 'user names come from the rootfs /etc/passwd');
  const bad = await md(root, ['run', '--rm', '-u', 'nosuchuser', '--rootfs', rootfs, 'true']);
  t.equal(bad.code, 125);
  t.match(bad.stderr, /unable to find user nosuchuser/);
});

t.test('bad input: one clear line, docker\'s exit code, nothing left behind', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const before = hostMounts().length;
  const cases: [string[], RegExp][] = [
    [['run', '--no-such-flag', '--rootfs', rootfs, 'true'], /unknown flag: --no-such-flag/],
    [['run', '--rm', '--uidmap', '0:100000', '--rootfs', rootfs, 'true'], /invalid --uidmap "0:100000"/],
    [['run', '--rm', '--uidmap', '0:1000:10', '--uidmap', '5:2000:10', '--rootfs', rootfs, 'true'], /overlap/],
    [['run', '--rm', '--rootfs', join(root, 'missing'), 'true'], /rootfs .*missing does not exist/],
    [['run', '--rm', 'BusyBox'], /invalid reference format/],
    [['run', '--rm', 'busy box'], /invalid reference format/],
    [['run', '--rm', '-h', 'bad host', '--rootfs', rootfs, 'true'], /invalid hostname/],
    [['run', '--rm', '--name', '-x', '--rootfs', rootfs, 'true'], /Invalid container name/],
    [['run', '--rm', '--network', 'nowhere', '--rootfs', rootfs, 'true'], /network nowhere not found/],
    [['run', '--rm', '--rootfs', rootfs], /no command specified/],
    [['run'], /requires at least 1 argument/],
  ];
  for (const [args, msg] of cases) {
    const r = await md(root, args);
    t.equal(r.code, 125, `${args.join(' ')}: exit 125`);
    t.match(r.stderr, msg, `${args.join(' ')}: says why`);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const nocmd = await md(root, ['frobnicate']);
  t.equal(nocmd.code, 1);
  t.match(nocmd.stderr, /'frobnicate' is not a mini-docker command/);
  t.same(containerIds(root), [], 'no container was created');
  t.equal(hostMounts().filter((l) => l.includes(root) || l.includes(rootfs)).length, 0, 'no mounts');
  t.ok(hostMounts().length <= before + 5, 'mount table unchanged (allowing other host activity)');
});

t.test('not root: a clear refusal before anything is made', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', MINI_DOCKER, 'run', '--rm', '--rootfs', rootfs, 'true'], {
    encoding: 'utf8', env: { ...process.env, MINI_DOCKER_ROOT: root, MINI_DOCKER_CGROUP_PARENT: cgroupParentFor(root) },
  });
  t.equal(r.status, 125);
  t.match(r.stderr, /run must run as root/);
  t.match(r.stderr, /sudo/);
  t.same(readdirSync(root), [], 'the data root is untouched');
});

t.test('--rm keeps nothing; without --rm the container stays, stopped', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  await md(root, ['run', '--rm', '--rootfs', rootfs, 'true']);
  t.same(containerIds(root), []);
  const r = await md(root, ['run', '--name', 'kept', '--rootfs', rootfs, 'sh', '-c', 'exit 3']);
  t.equal(r.code, 3);
  const [id] = containerIds(root);
  t.ok(id, 'one container kept');
  const state = JSON.parse(readFileSync(join(root, 'containers', id!, 'state.json'), 'utf8'));
  t.equal(state.status, 'exited');
  t.equal(state.exitCode, 3);
  const dup = await md(root, ['run', '--name', 'kept', '--rootfs', rootfs, 'true']);
  t.equal(dup.code, 125);
  t.match(dup.stderr, /The container name "\/kept" is already in use/);
});

t.test('explain mode shows each kernel operation in order', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = await md(root, ['--debug', 'run', '--rm', '-h', 'explained', '--uidmap', '0:100000:65536', '--rootfs', rootfs, 'true']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('[explain]'));
  const order = ['unshare(CLONE_NEWNS)', 'clone(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET', 'uid_map', 'MS_REC|MS_PRIVATE',
    'mount("proc"', 'pivot_root(".", ".")', 'umount2(".", MNT_DETACH)', 'sethostname("explained")', 'execve("true"'];
  let at = -1;
  for (const want of order) {
    const i = lines.findIndex((l, k) => k > at && l.includes(want));
    t.ok(i > at, `explains ${want}`);
    if (i > at) at = i;
  }
});

t.test('--chroot: chroot instead of pivot_root, nothing leaks', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = await md(root, ['--debug', 'run', '--rm', '--chroot', '--rootfs', rootfs, 'sh', '-c', 'ls /; cat /proc/1/comm']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /chroot\("/);
  t.notMatch(r.stderr, /pivot_root/);
  t.match(r.stdout, /^bin$/m);
  t.equal(hostMounts().filter((l) => l.includes(rootfs)).length, 0);
});

const noTmux = spawnSync('tmux', ['-V']).status !== 0 ? 'tmux is not installed' : false;
t.test('-t: a real terminal from the container\'s own devpts (tmux)', { skip: noTmux }, async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const session = `mdtest-${rand()}`;
  const done = join(root, 'done');
  t.teardown(() => void spawnSync('tmux', ['kill-session', '-t', session]));
  spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '90', '-y', '25',
    `MINI_DOCKER_ROOT=${root} MINI_DOCKER_CGROUP_PARENT=${cgroupParentFor(root)} ${MINI_DOCKER} run -it --rm --rootfs ${rootfs} sh; echo "EXIT=$?" > ${done}; sleep 60`]);
  const send = (...keys: string[]) => spawnSync('tmux', ['send-keys', '-t', session, ...keys]);
  const screen = () => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout;
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 100; i++) {
      if (re.test(screen())) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };
  t.ok(await waitFor(/^\/ #/m), 'a shell prompt');
  send('tty; stty size', 'Enter');
  t.ok(await waitFor(/^\/dev\/pts\/0$/m), 'tty is the container\'s /dev/pts/0');
  t.ok(await waitFor(/^25 90$/m), 'the window size is passed on');
  send('sleep 50', 'Enter');
  await new Promise((r) => setTimeout(r, 300));
  send('C-c');
  send('echo interrupted-ok', 'Enter');
  t.ok(await waitFor(/^interrupted-ok$/m), 'Ctrl-C stops the foreground command, the shell lives on');
  send('exit 7', 'Enter');
  for (let i = 0; i < 100 && !existsSync(done); i++) await new Promise((r) => setTimeout(r, 50));
  t.equal(readFileSync(done, 'utf8').trim(), 'EXIT=7', 'the exit code comes back');
  t.same(containerIds(root), []);
});
