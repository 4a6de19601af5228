// Lesson 6 graded: a user namespace with --uidmap: root inside, an unprivileged uid outside.
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defineChecks, passed, failed, described, type GradeContext } from '../../lib/lab/grader/check.js';
import { nsOf, status } from '../../lib/lab/proc.js';

/** A random host range for the container's ids: 65536 ids from 100000 + k*65536. */
function idmap(g: GradeContext): { base: number; flags: string[] } {
  const base = 100000 + g.randomInt(1, 400) * 65536;
  return { base, flags: ['--uidmap', `0:${base}:65536`, '--gidmap', `0:${base}:65536`] };
}

export default defineChecks({
  lesson: 6,
  title: 'User namespace',
  checks: [
    {
      id: '06-root-inside',
      title: 'with --uidmap 0:BASE:65536 the container runs as uid 0 of its own user namespace',
      points: 3,
      hint: 'create the process with CLONE_NEWUSER, write /proc/PID/uid_map and gid_map from the parent ("0 BASE 65536", setgroups "deny" if unprivileged) before the child goes on, then setuid(0)/setgid(0) in the child',
      // The user namespace must own the container's PID and mount namespaces, or the kernel
      // refuses to mount /proc for it: lessons 3 and 5 first.
      needs: ['03-pivot-root', '05-pid-one'],
      async run(g) {
        const { base, flags } = idmap(g);
        const r = await g.run(flags, ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map']);
        const [u, gid, map] = r.stdout.split('\n');
        if (u !== '0' || gid !== '0') return failed(`id -u / id -g should be 0 and 0: ${described(r)}`);
        const f = map?.trim().split(/\s+/);
        return f && f[0] === '0' && f[1] === String(base) && f[2] === '65536' ? passed(`uid_map: 0 ${base} 65536`) : failed(`/proc/self/uid_map should be "0 ${base} 65536": ${described(r)}`);
      },
    },
    {
      id: '06-unprivileged-outside',
      title: 'seen from the host, the container\'s root is the unprivileged uid BASE',
      points: 3,
      hint: 'the ids in /proc/PID/status are the host\'s view: with the map written, the container\'s uid 0 is BASE on the host',
      needs: ['06-root-inside'],
      async run(g) {
        const { base, flags } = idmap(g);
        const c = await g.start(flags, 'true');
        const uid = status(c.pid, 'Uid')?.split(/\s+/);
        const userns = nsOf(c.pid, 'user');
        await c.stop();
        if (userns === nsOf('self', 'user')) return failed('the container is in the host\'s user namespace');
        return uid && uid.every((x) => x === String(base)) ? passed(`Uid: ${uid.join(' ')}`) : failed(`/proc/${c.pid}/status Uid is "${uid?.join(' ')}", expected ${base} four times`);
      },
    },
    {
      id: '06-file-ownership',
      title: 'files are owned across the map: made inside as root -> BASE outside; host root\'s files -> nobody inside',
      points: 2,
      hint: 'the kernel translates ids at the boundary: a file the container\'s root creates belongs to BASE on the host; host ids outside the map show as the overflow id 65534',
      needs: ['06-root-inside'],
      async run(g) {
        const { base, flags } = idmap(g);
        const name = g.token('owned-');
        g.defer(`the file /tmp/${name}`, () => rmSync(join(g.rootfs, 'tmp', name), { force: true }));
        const r = await g.run(flags, ['sh', '-c', `touch /tmp/${name} && stat -c %u /tmp/${name} && stat -c %u /bin/busybox`]);
        const [mine, hostRoots] = r.stdout.split('\n');
        if (r.code !== 0) return failed(described(r));
        if (mine !== '0') return failed(`inside, the new file should be owned by 0, stat says ${mine}`);
        if (hostRoots !== '65534') return failed(`inside, /bin/busybox (owned by the host's root) should show as 65534, stat says ${hostRoots}`);
        const outside = statSync(join(g.rootfs, 'tmp', name)).uid;
        return outside === base ? passed() : failed(`on the host, /tmp/${name} of the rootfs belongs to uid ${outside}, expected ${base}`);
      },
    },
    {
      id: '06-no-host-root',
      title: 'the container\'s root cannot write where only the host\'s root may',
      points: 2,
      hint: 'root in a user namespace has capabilities only over what that namespace owns: the rootfs\'s /etc (owned by the host\'s root, mode 755) stays read-only to it',
      needs: ['06-root-inside'],
      async run(g) {
        const { flags } = idmap(g);
        const name = g.token('forbidden-');
        const path = join(g.rootfs, 'etc', name);
        g.defer(`the file /etc/${name}`, () => rmSync(path, { force: true }));
        const r = await g.run(flags, ['sh', '-c', `echo x > /etc/${name} && echo wrote || echo refused`]);
        if (existsSync(path) || r.stdout.includes('wrote')) return failed(`the container's root created /etc/${name} in a directory owned by the host's root`);
        return r.stdout.includes('refused') ? passed() : failed(described(r));
      },
    },
  ],
});
