// Lesson 3 graded: a mount namespace of its own, /proc mounted inside, nothing leaking to the
// host, and pivot_root: the old root is gone, so even the chroot escape finds nothing.
import { chmodSync, copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineChecks, passed, failed, skipped, described } from '../../lib/lab/grader/check.js';
import { nsOf, rootOf } from '../../lib/lab/proc.js';
import { mountPoints } from '../../lib/lab/tempdir.js';
import { compileEscape } from '../../lib/lab/escape.js';

export default defineChecks({
  lesson: 3,
  title: 'Mount namespace and pivot_root',
  checks: [
    {
      id: '03-own-mount-ns',
      title: 'the container has a mount namespace of its own',
      points: 2,
      hint: 'create the container process with CLONE_NEWNS (or unshare it) so that its mounts are its own',
      async run(g) {
        const c = await g.start([], 'true');
        const inside = nsOf(c.pid, 'mnt');
        await c.stop();
        return inside && inside !== nsOf('self', 'mnt') ? passed(inside) : failed(`the container's process (pid ${c.pid} on the host) is in the host's mount namespace ${inside}`);
      },
    },
    {
      id: '03-proc',
      title: '/proc in the container is a proc filesystem',
      points: 2,
      hint: 'mount -t proc proc ROOTFS/proc (MS_NOSUID|MS_NODEV|MS_NOEXEC) inside the container\'s mount namespace, before switching root',
      async run(g) {
        const r = await g.run([], ['cat', '/proc/self/comm']);
        return r.code === 0 && r.stdout.trim() === 'cat' ? passed() : failed(`cat /proc/self/comm should print "cat": ${described(r)}`);
      },
    },
    {
      id: '03-no-mount-leak',
      title: 'the host\'s mount table shows nothing under the rootfs while the container runs',
      points: 3,
      hint: 'do every mount of the container (its /proc, /dev, binds) inside its own mount namespace, after making "/" private (MS_REC|MS_PRIVATE): mounts on the host are what `mount` and everyone else see',
      needs: ['03-own-mount-ns'],
      async run(g) {
        const c = await g.start([], 'true');
        const leaked = mountPoints().filter((m) => m === g.rootfs || m.startsWith(g.rootfs + '/'));
        await c.stop();
        return leaked.length ? failed(`while the container ran, the host had these mounts under the rootfs: ${leaked.join(', ')}`) : passed();
      },
    },
    {
      id: '03-mount-private',
      title: 'a mount made inside the container does not reach the host',
      points: 2,
      hint: 'make the container\'s mount tree private (mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)) first thing in its namespace: with shared propagation, its mounts appear on the host',
      needs: ['03-own-mount-ns'],
      async run(g) {
        const t = g.token('tmpfs-');
        const c = await g.start([], `mkdir -p /tmp/${t} && mount -t tmpfs ${t} /tmp/${t} && echo mounted-${t} || echo cannot-mount`);
        const hostSees = readFileSync('/proc/self/mountinfo', 'utf8').includes(t);
        const out = c.stdout();
        await c.stop();
        rmSync(join(g.rootfs, 'tmp', t), { recursive: true, force: true });
        if (!out.includes(`mounted-${t}`)) return skipped('the engine does not let the container mount (no CAP_SYS_ADMIN, as podman and docker by default): nothing it could leak');
        return hostSees ? failed(`the tmpfs "${t}" mounted inside the container shows in the host's /proc/self/mountinfo`) : passed();
      },
    },
    {
      id: '03-pivot-root',
      title: 'the container\'s root is not a directory of the host\'s tree (pivot_root, old root gone)',
      points: 3,
      hint: 'switch root with pivot_root(2) (e.g. pivot_root(".", ".") then umount2(".", MNT_DETACH)), not chroot: after chroot the host\'s whole tree is still mounted in the container\'s namespace and a root process can climb back into it',
      needs: ['03-own-mount-ns'],
      async run(g) {
        const c = await g.start([], 'true');
        const root = rootOf(c.pid);
        let same = false;
        try {
          const a = statSync(`/proc/${c.pid}/root/`);
          const b = statSync('/');
          same = a.dev === b.dev && a.ino === b.ino;
        } catch {
          // the process is gone: judged by readlink alone
        }
        await c.stop();
        if (root === undefined) return failed(`cannot read /proc/${c.pid}/root`);
        if (same) return failed('the container\'s root is the host\'s root directory itself: the engine did not switch root at all');
        return root === '/' ? passed() : failed(`seen from the host, the container's root is ${root}: a path of the host's tree, so the container was chroot-ed into it and the host's mounts are still in its namespace`);
      },
    },
    {
      id: '03-escape',
      title: 'the chroot escape program cannot read a file of the host',
      points: 2,
      hint: 'after pivot_root, unmount the old root (umount2 with MNT_DETACH): whatever a process climbs to must be the container\'s own root',
      needs: ['03-pivot-root', 'host:cc-static'],
      async run(g) {
        const prog = g.token('escape-');
        const bin = join(g.tmp, prog);
        compileEscape(bin);
        copyFileSync(bin, join(g.rootfs, prog));
        chmodSync(join(g.rootfs, prog), 0o755);
        g.defer('the escape program', () => rmSync(join(g.rootfs, prog), { force: true }));
        const secret = join(g.tmp, g.token('secret-'));
        const content = g.token('host-secret-');
        writeFileSync(secret, content + '\n');
        g.defer(`the host file ${secret}`, () => rmSync(secret, { force: true }));
        const r = await g.run([], [`/${prog}`, secret]);
        if (r.stdout.includes(content)) return failed(`the escape program climbed out of the container and printed ${secret} from the host`);
        return passed(r.stderr.trim().split('\n')[0]);
      },
    },
  ],
});
