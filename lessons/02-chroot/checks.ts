// Lesson 2 graded: the container's "/" is the root filesystem it was given, and the host's
// files outside it cannot be named.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';

export default defineChecks({
  lesson: 2,
  title: 'chroot',
  checks: [
    {
      id: '02-rootfs-is-root',
      title: 'the rootfs directory is the container\'s "/"',
      points: 3,
      hint: 'before exec, change the process\'s root to the rootfs: chroot(2) (then chdir("/")), or pivot_root (lesson 3)',
      async run(g) {
        const name = g.token('marker-');
        const content = g.token('content-');
        writeFileSync(join(g.rootfs, name), content + '\n');
        g.defer(`the marker file ${name}`, () => rmSync(join(g.rootfs, name), { force: true }));
        const r = await g.run([], ['cat', `/${name}`]);
        return r.code === 0 && r.stdout.trim() === content ? passed() : failed(`/${name} (written by the grader into the rootfs) should read ${content}: ${described(r)}`);
      },
    },
    {
      id: '02-host-hidden',
      title: 'a file of the host outside the rootfs cannot be reached by its path',
      points: 3,
      hint: 'the container\'s paths must resolve inside the rootfs only: after chroot, "/" and ".." both stop at the rootfs',
      needs: ['02-rootfs-is-root'],
      async run(g) {
        const secret = join(g.tmp, g.token('outside-'));
        writeFileSync(secret, 'host only\n');
        g.defer(`the host file ${secret}`, () => rmSync(secret, { force: true }));
        const r = await g.run([], ['sh', '-c', `cat ${secret} || echo hidden; cd / && cd .. && cd .. && pwd && ls`]);
        if (r.stdout.includes('host only')) return failed(`the container read ${secret}, a file of the host outside its rootfs`);
        if (!r.stdout.includes('hidden')) return failed(described(r));
        return passed();
      },
    },
  ],
});
