// Each namespace the engine creates, proven by the kernel's answer and by behaviour.
import t from 'tap';
import { readlinkSync, readFileSync, statSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { busyboxRootfs, containerIds, hostMounts, md, tempRoot } from '../helpers/engine.js';

const rand = () => randomBytes(4).toString('hex');

t.test('every namespace differs from the host\'s', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const kinds = ['pid', 'mnt', 'uts', 'ipc', 'net'];
  const r = await md(root, ['run', '--rm', '--rootfs', rootfs, 'sh', '-c', kinds.map((k) => `readlink /proc/self/ns/${k}`).join(';')]);
  t.equal(r.code, 0, r.stderr);
  const inside = r.stdout.trim().split('\n');
  kinds.forEach((k, i) => {
    t.match(inside[i], new RegExp(`^${k}:\\[\\d+\\]$`), `${k} link read inside`);
    t.not(inside[i], readlinkSync(`/proc/self/ns/${k}`), `${k} namespace is not the host's`);
  });
});

t.test('pid: the command is PID 1 and sees only its own processes', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = await md(root, ['run', '--rm', '--rootfs', rootfs, 'sh', '-c', 'echo $$; exec ps -o pid,comm']);
  t.equal(r.code, 0, r.stderr);
  const [pid, , ...ps] = r.stdout.trim().split('\n');
  t.equal(pid, '1');
  t.same(ps.map((l) => l.trim().split(/\s+/)), [['1', 'ps']], 'ps (now PID 1 by exec) sees only itself');
  t.ok(existsSync(`/proc/${process.pid}`), 'the host /proc still shows host PIDs afterwards');
});

t.test('uts: the hostname is the container\'s, set inside or by -h', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const name = `box-${rand()}`;
  const before = hostname();
  const r = await md(root, ['run', '--rm', '-h', name, '--rootfs', rootfs, 'sh', '-c', 'hostname; cat /etc/hostname; hostname changed-inside; hostname']);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), [name, name, 'changed-inside']);
  t.equal(hostname(), before, 'the host keeps its hostname');
  const d = await md(root, ['run', '--rm', '--rootfs', rootfs, 'hostname']);
  t.match(d.stdout.trim(), /^[0-9a-f]{12}$/, 'default hostname: the short container id');
});

t.test('ipc: a SysV object made inside is not on the host', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const key = 0x4d440000 + randomBytes(2).readUInt16BE(0);
  const r = await md(root, ['run', '--rm', '--rootfs', rootfs, 'sh', '-c', `ipcmk ${key} && cat /proc/sysvipc/shm`]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Shared memory id: \d+/);
  t.match(r.stdout, new RegExp(`\\b${key}\\b`), 'visible inside the container');
  t.notMatch(readFileSync('/proc/sysvipc/shm', 'utf8'), new RegExp(`\\b${key}\\b`), 'not visible on the host');
});

t.test('mnt: a mount made inside never reaches the host, during or after', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const tag = `mdtest-${rand()}`;
  const running = md(root, ['run', '--rm', '--rootfs', rootfs, 'sh', '-c', `mkdir -p /mnt && mount -t tmpfs ${tag} /mnt && grep -c ${tag} /proc/self/mountinfo && sleep 1`]);
  await new Promise((r) => setTimeout(r, 600));
  t.notOk(hostMounts().some((l) => l.includes(tag)), 'not on the host while the container runs');
  t.notOk(hostMounts().some((l) => l.includes(rootfs)), 'none of the container\'s /proc, /sys, /dev mounts are on the host');
  const r = await running;
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '1', 'visible inside');
  t.notOk(hostMounts().some((l) => l.includes(tag) || l.includes(rootfs) || l.includes(root)), 'nothing of the container is on the host afterwards');
});

t.test('net: only the loopback, and it is up', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  for (const mode of [[], ['--network', 'none']]) {
    const r = await md(root, ['run', '--rm', ...mode, '--rootfs', rootfs, 'ip', '-o', 'link']);
    t.equal(r.code, 0, r.stderr);
    const links = r.stdout.trim().split('\n');
    t.equal(links.length, 1, `one link (${mode.join(' ') || 'default'})`);
    t.match(links[0], /^1: lo: <LOOPBACK,UP/);
  }
});

t.test('user: the id map is in force, and root inside owns files as the mapped uid', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const file = `owned-${rand()}`;
  const r = await md(root, ['run', '--rm', '--uidmap', '0:100000:65536', '--rootfs', rootfs, 'sh', '-c',
    `cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user; touch /tmp/${file}`]);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.same(lines[0]!.trim().split(/\s+/), ['0', '100000', '65536'], 'uid_map');
  t.same(lines[1]!.trim().split(/\s+/), ['0', '100000', '65536'], 'gid_map follows --uidmap');
  t.equal(lines[2], '0', 'root inside');
  t.not(lines[3], readlinkSync('/proc/self/ns/user'), 'own user namespace');
  const st = statSync(join(rootfs, 'tmp', file));
  t.equal(st.uid, 100000, 'owned by the mapped uid on the host');
  t.equal(st.gid, 100000, 'and the mapped gid');
  const g = await md(root, ['run', '--rm', '--uidmap', '0:200000:1000', '--gidmap', '0:300000:1000', '--rootfs', rootfs, 'cat', '/proc/self/gid_map']);
  t.same(g.stdout.trim().split(/\s+/), ['0', '300000', '1000'], '--gidmap is its own');
  t.same(containerIds(root), [], '--rm left no container behind');
});

t.test('without an id map there is no user namespace', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = await md(root, ['run', '--rm', '--rootfs', rootfs, 'readlink', '/proc/self/ns/user']);
  t.equal(r.stdout.trim(), readlinkSync('/proc/self/ns/user'));
});

t.test('--pid/--uts/--ipc/--network host share the host\'s namespaces', async (t) => {
  const root = tempRoot(t);
  const rootfs = busyboxRootfs(t);
  const r = await md(root, ['run', '--rm', '--pid', 'host', '--uts', 'host', '--ipc', 'host', '--network', 'host', '--rootfs', rootfs, 'sh', '-c',
    'for n in pid uts ipc net; do readlink /proc/self/ns/$n; done']);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['pid', 'uts', 'ipc', 'net'].map((k) => readlinkSync(`/proc/self/ns/${k}`)));
});
