// Lesson 6: the user namespace: uid_map/gid_map, root inside, unprivileged outside.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { status } from '../../lib/lab/proc.js';

export default defineLesson({
  title: 'User namespace',
  summary: 'uid_map and gid_map: root inside, an unprivileged user outside; file ownership across the map.',
  rootfs: true,
  steps: [
    explain(`
# Root inside, nobody special outside

A user namespace (\`CLONE_NEWUSER\`) has its own uids, gids and capabilities. Its maps say which
host ids its ids are: \`--uidmap 0:100000:65536\` writes \`0 100000 65536\` to
\`/proc/PID/uid_map\`, so the container's root is uid 100000 on the host.`),
    run(`mini-docker run --rm --uidmap 0:100000:65536 --rootfs "$ROOTFS" sh -c 'id; cat /proc/self/uid_map'`),
    run(`mini-docker run --rm --uidmap 0:100000:65536 --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('the same process from the host: its ids, its maps, its user namespace', 'grep -E "^(Uid|Gid)" /proc/$PID/status; cat /proc/$PID/uid_map; readlink /proc/$PID/ns/user /proc/self/ns/user'),
    check('root inside is uid 100000 outside', (ctx) => {
      const uid = status(Number(ctx.vars.PID), 'Uid')?.split(/\s+/) ?? [];
      return uid.every((u) => u === '100000') && uid.length === 4 ? pass(`Uid: ${uid.join(' ')}`) : fail(`Uid is "${uid.join(' ')}"`);
    }),
    explain(`
# Ownership across the map

The kernel translates ids at the boundary. A file the container's root creates belongs to 100000
on the host. A file of the host's root (uid 0, outside the map) shows inside as the overflow id
65534, "nobody".`),
    run(`mini-docker run --rm --uidmap 0:100000:65536 --rootfs "$ROOTFS" sh -c 'touch /tmp/made-inside; ls -ln /tmp/made-inside /bin/busybox'; echo "on the host:"; ls -ln "$ROOTFS/tmp/made-inside" "$ROOTFS/bin/busybox"`),
    run(`mini-docker run --rm --uidmap 0:100000:65536 --rootfs "$ROOTFS" sh -c 'echo x > /etc/owned-by-host-root && echo written'`, { title: 'Root inside, writing into a directory of the host\'s root', expect: 'any' }),
    check('the container\'s root could not write there', (ctx) =>
      existsSync(join(ctx.vars.ROOTFS!, 'etc', 'owned-by-host-root')) ? fail('the file was created: the container runs as the host\'s root') : pass('Permission denied: its capabilities stop at what its namespace owns'),
    ),
    question({
      message: 'Who writes /proc/PID/uid_map of the container, and when?',
      choices: [
        { name: 'The engine, from outside, after clone and before the child goes on', correct: true },
        { name: 'The container\'s process itself, after exec' },
        { name: 'The kernel, from /etc/subuid' },
      ],
      explanation: 'The map is written once, by a process with privileges over the parent namespace, while the child waits on the sync pipe (lesson 8). Until then the child is the overflow uid 65534.',
    }),
    question({
      message: 'The container\'s root has CAP_SYS_ADMIN in its user namespace. What can it mount?',
      choices: [
        { name: 'What its own namespaces own: e.g. a proc for its own PID namespace, a tmpfs in its own mount namespace', correct: true },
        { name: 'Anything, like the host\'s root' },
        { name: 'Nothing: capabilities are dropped in user namespaces' },
      ],
      explanation: 'Capabilities in a user namespace apply to the resources that namespace owns (`user_namespaces(7)`). That is why the engine creates the PID and mount namespaces together with the user namespace.',
    }),
  ],
});
