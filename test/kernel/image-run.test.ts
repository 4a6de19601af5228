// Containers from the busybox image: the rootfs is the image's, writes land in the container's
// upper dir only, and the overlay lives and dies with the container.
import t from 'tap';
import { chmodSync, existsSync, lstatSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { containerIds, hostMounts, md, tempRoot } from '../helpers/engine.js';
import { installBusyboxImage } from '../../sandbox-images/busybox/build.js';

const rand = () => randomBytes(4).toString('hex');

async function imageRoot(t: { teardown(fn: () => void): void }): Promise<string> {
  const root = tempRoot(t);
  await installBusyboxImage(root);
  return root;
}

t.test('the rootfs is the image\'s; the host\'s files are out of reach', async (t) => {
  const root = await imageRoot(t);
  const marker = `/tmp/mdtest-marker-${rand()}`;
  writeFileSync(marker, 'host secret');
  t.teardown(() => rmSync(marker, { force: true }));
  const r = await md(root, ['run', '--rm', 'busybox', 'sh', '-c',
    `ls /; test -e ${marker} && echo REACHED; cat /proc/1/root${marker} 2>/dev/null && echo REACHED; ls /proc/1/root/ | wc -l; cat /proc/self/mountinfo`]);
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stdout, /REACHED/, 'a host file is not reachable, not even through /proc/1/root');
  t.match(r.stdout, /^bin\ndev\netc\nhome\n/, 'the image\'s top-level directories');
  const mountinfo = r.stdout.split('\n').filter((l) => /^\d+ \d+ /.test(l));
  t.match(mountinfo[0], / \/ rw,[^ ]* - overlay overlay /, 'its / is the overlay');
  t.notOk(mountinfo.some((l) => / \/ \S+ \S+ - \S+ \/dev\/vd|ext4/.test(l) && l.split(' ')[4] === '/'), 'no host filesystem at /');
});

t.test('writes land in the container\'s upper dir; the image does not change', async (t) => {
  const root = await imageRoot(t);
  const word = rand();
  const r = await md(root, ['run', '--name', 'writer', 'busybox', 'sh', '-c', `echo ${word} > /new-file && rm /bin/ls && ls /bin/ls 2>&1`]);
  t.equal(r.code, 1, 'ls is gone in that container');
  const [id] = containerIds(root);
  const upper = join(root, 'containers', id!, 'upper');
  t.equal(readFileSync(join(upper, 'new-file'), 'utf8'), `${word}\n`, 'the new file is in upper/');
  const wh = lstatSync(join(upper, 'bin/ls'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'the deletion is an overlay whiteout in upper/');
  for (const layer of readdirSync(join(root, 'layers'))) {
    t.ok(existsSync(join(root, 'layers', layer, 'bin/ls')), 'the image layer still has /bin/ls');
    t.notOk(existsSync(join(root, 'layers', layer, 'new-file')), 'and no new file');
  }
  const again = await md(root, ['run', '--rm', 'busybox', 'sh', '-c', 'ls /new-file 2>/dev/null; ls /bin/ls']);
  t.equal(again.stdout, '/bin/ls\n', 'a new container sees the image unchanged');
});

t.test('the overlay never shows on the host, and is gone with the container', async (t) => {
  const root = await imageRoot(t);
  const running = md(root, ['run', '--rm', 'busybox', 'sh', '-c', 'sleep 1; mount | grep -c overlay']);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(hostMounts().filter((l) => l.includes(root)).length, 0, 'while it runs');
  const r = await running;
  t.equal(r.stdout.trim(), '1', 'inside, / is an overlay');
  t.equal(hostMounts().filter((l) => l.includes(root)).length, 0, 'after');
  t.same(containerIds(root), []);
});

t.test('image config: Cmd and Env apply; a user namespace works on image layers', async (t) => {
  const root = await imageRoot(t);
  const r = await md(root, ['run', '--rm', '-i', 'busybox'], { input: 'echo $PATH; echo $HOME; id -u\n' });
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', '/root', '0'], 'Cmd ["sh"] read the script from stdin');
  const u = await md(root, ['run', '--name', 'userns', '--uidmap', '0:100000:65536', 'busybox', 'sh', '-c', 'touch /tmp/mine && cat /proc/self/uid_map']);
  t.equal(u.code, 0, u.stderr);
  const [id] = containerIds(root);
  t.equal(lstatSync(join(root, 'containers', id!, 'upper/tmp/mine')).uid, 100000, 'a file made by root inside belongs to uid 100000 on the host');
});

t.test('--uidmap with a data root closed to others: a clear error, not EACCES from the shim', async (t) => {
  const root = await imageRoot(t);
  chmodSync(root, 0o700);
  const r = await md(root, ['run', '--rm', '--uidmap', '0:100000:65536', 'busybox', 'true']);
  t.equal(r.code, 125);
  t.match(r.stderr, /is closed to other users/);
  t.match(r.stderr, /chmod o\+x/);
  t.same(containerIds(root), []);
});

t.test('unknown and invalid images', async (t) => {
  const root = await imageRoot(t);
  const r = await md(root, ['run', '--rm', `nosuch${rand()}`]);
  t.equal(r.code, 125);
  t.match(r.stderr, /Unable to find image 'nosuch[0-9a-f]+:latest' locally/);
  const bad = await md(root, ['run', '--rm', 'library/UPPERCASE']);
  t.equal(bad.code, 125);
  t.match(bad.stderr, /invalid reference format/);
  t.same(containerIds(root), []);
});
