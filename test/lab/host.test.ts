// The commands that look at or tidy the host: doctor (lesson 0), list, and reset, which removes
// what carries the lab's names and nothing else. In one file: they run one after the other.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir, removeTemp, lab, mountsMentioning, cgroupParentOf, cgroupsNamed } from './helpers.js';
import { isAlive } from '../../lib/lab/proc.js';

const home = tempDir('host');
t.teardown(() => removeTemp(home));

const netns = () => (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);

t.test('doctor reads the kernel and leaves nothing behind', async (t) => {
  const before = netns().filter((n) => n.startsWith('container-lab-'));
  const r = await lab(['doctor'], home);
  t.equal(r.code, 0, r.stdout + r.stderr);
  for (const line of ['root', 'kernel', 'namespace mnt', 'namespace user', 'namespace net', 'cgroups', 'cgroup controllers', 'cgroup features', 'overlayfs', 'aufs', 'bridge', 'veth', 'iptables', 'C compiler', 'busybox-static']) {
    t.match(r.stdout, new RegExp(`^[✔✘!i] ${line}`, 'm'), line);
  }
  t.match(r.stdout, /never merged into mainline/, 'AUFS explained');
  t.match(r.stdout, /^✔ cgroups\s+v[12]\b.*the engine uses its v[12] driver$/m, 'the cgroup version, as the engine detects it');
  t.match(r.stdout, /^[✔!] cgroup controllers\s+.*\bmemory\b/m, 'the controllers');
  t.match(r.stdout, /Ready for the lab/);
  t.same(netns().filter((n) => n.startsWith('container-lab-') && !before.includes(n)), [], 'its throwaway netns is deleted');
});

t.test('list shows progress marks', async (t) => {
  mkdirSync(join(home, 'xdg', 'container-lab'), { recursive: true });
  writeFileSync(
    join(home, 'xdg', 'container-lab', 'progress.json'),
    JSON.stringify({ version: 1, lessons: { '02-chroot': { status: 'done', step: 12, steps: 12, updatedAt: 'x' }, '04-uts-ipc': { status: 'in-progress', step: 5, steps: 16, updatedAt: 'x' } } }),
  );
  const r = await lab(['list'], home);
  t.equal(r.code, 0);
  t.match(r.stdout, / 2 {2}chroot +✔ done/);
  t.match(r.stdout, / 4 {2}UTS and IPC namespaces +◐ in progress \(step 6\/16\)/);
  t.match(r.stdout, / 5 {2}PID namespace +○ not started/);
  t.match(r.stdout, / 1 {2}Processes +○ not started\n/, 'the next lesson to do is open');
  t.match(r.stdout, / 3 {2}Mount namespace and pivot_root +○ not started +🔒 after lesson 1/, 'later ones not started are marked locked');
  const menu = await lab([], home);
  t.equal(menu.code, 0, 'without a terminal the menu prints the list');
  t.match(menu.stdout, /no terminal for the menu/);
});

t.test('reset removes the lab\'s leftovers, and only those', async (t) => {
  const tag = randomBytes(3).toString('hex');
  // Leftovers as an interrupted lab would leave them: a directory with a mount in it, a netns.
  const left = join(home, `container-lab-lesson99-${tag}`);
  mkdirSync(join(left, 'rootfs', 'proc'), { recursive: true });
  spawnSync('mount', ['-t', 'tmpfs', `mdtest-reset-${tag}`, join(left, 'rootfs', 'proc')]);
  const ns = `container-lab-test-${tag}`;
  spawnSync('ip', ['netns', 'add', ns]);
  t.teardown(() => void spawnSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' }));
  // Not the lab's: must survive.
  const keep = join(home, `other-${tag}`);
  mkdirSync(keep);
  writeFileSync(join(keep, 'f'), 'keep me');
  const keepNs = `mdtest-keep-${tag}`;
  spawnSync('ip', ['netns', 'add', keepNs]);
  t.teardown(() => void spawnSync('ip', ['netns', 'delete', keepNs], { stdio: 'ignore' }));

  // A cgroup of the engine left under its parent (the tests' parent: lab() sets it), with a
  // process in it; and a cgroup outside that parent, with a process too: it must survive.
  const v1 = existsSync('/sys/fs/cgroup/pids/cgroup.procs');
  const hierarchies = v1 ? ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory'] : ['/sys/fs/cgroup'];
  const parent = cgroupParentOf(home);
  const leftCg = hierarchies.map((h) => join(h, parent, `${tag}0123456789`));
  const keepCg = hierarchies.map((h) => join(h, `mdtest-keep-${tag}`));
  const inLeft = spawn('sleep', ['600'], { stdio: 'ignore' });
  const inKeep = spawn('sleep', ['600'], { stdio: 'ignore' });
  t.teardown(() => {
    for (const p of [inLeft, inKeep]) p.kill('SIGKILL');
    spawnSync('sleep', ['0.2']);
    for (const d of [...leftCg, join(hierarchies[0]!, parent), ...keepCg]) {
      try {
        rmdirSync(d);
      } catch {
        // gone already
      }
    }
  });
  for (const [dirs, pid] of [[leftCg, inLeft.pid], [keepCg, inKeep.pid]] as const) {
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'cgroup.procs'), String(pid));
    }
  }

  const dry = await lab(['reset', '--dry-run'], home);
  t.equal(dry.code, 0);
  t.match(dry.stdout, new RegExp(`would remove ${left} \\(after unmounting 1 mount`));
  t.match(dry.stdout, new RegExp(`would delete network namespace ${ns}`));
  t.match(dry.stdout, new RegExp(`would remove 1 cgroup\\(s\\) of the engine under .*${parent}.*killing the 1 process\\(es\\) in them first`));
  t.ok(existsSync(left), 'a dry run removes nothing');
  t.ok(isAlive(inLeft.pid!), 'nor kills anything');

  const r = await lab(['reset'], home);
  t.equal(r.code, 0, r.stderr);
  t.notOk(existsSync(left), 'the lab directory is gone');
  t.same(mountsMentioning(`mdtest-reset-${tag}`), [], 'its mount is gone');
  t.notOk(netns().includes(ns), 'the lab netns is gone');
  t.notOk(existsSync(join(home, 'xdg', 'container-lab', 'progress.json')), 'progress is forgotten');
  t.equal(readFileSync(join(keep, 'f'), 'utf8'), 'keep me', 'other directories are kept');
  t.ok(netns().includes(keepNs), 'other network namespaces are kept');
  const exited = await new Promise<boolean>((resolve) => {
    if (inLeft.exitCode !== null || inLeft.signalCode !== null) resolve(true);
    inLeft.on('exit', () => resolve(true));
    setTimeout(() => resolve(false), 5000);
  });
  t.ok(exited, 'the process in the engine\'s cgroup was killed');
  t.same(cgroupsNamed(parent), [], 'the engine\'s cgroups and their parent are gone');
  t.ok(isAlive(inKeep.pid!), 'a process in another cgroup lives on');
  t.ok(keepCg.every((d) => existsSync(d)), 'other cgroups are kept');
});
