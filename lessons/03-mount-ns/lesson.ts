// Lesson 3: the mount namespace, private propagation, /proc, and pivot_root.
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, act, pass, fail } from '../../lib/lab/lesson.js';
import { compileEscape } from '../../lib/lab/escape.js';
import { rootOf } from '../../lib/lab/proc.js';
import { mountsUnder } from '../../lib/lab/tempdir.js';

export default defineLesson({
  title: 'Mount namespace and pivot_root',
  summary: 'Mounts of its own, private propagation, /proc, and pivot_root instead of chroot.',
  rootfs: true,
  steps: [
    explain(`
# Mounts of its own

A mount namespace (\`CLONE_NEWNS\`) is a copy of the mount table. What is mounted in it afterwards
stays in it, **if** the copy is private: systemd makes \`/\` *shared* at boot, and a shared mount
passes mount events to its peers. \`unshare --propagation private\` does what the engine does first
in every container: \`mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)\`.`),
    run(`mkdir -p "$LAB/mnt"; unshare --mount --propagation private sh -c 'mount -t tmpfs lab-demo "$LAB/mnt"; echo "inside:"; grep lab-demo /proc/self/mountinfo'; echo "on the host:"; grep lab-demo /proc/self/mountinfo || echo "(nothing: the mount stayed in its namespace)"`),
    show('the host\'s propagation of / (shared:N means peers get its mount events)', "awk '$5 == \"/\" {print $5, $7}' /proc/self/mountinfo"),
    explain('Now a container: it gets its own mount namespace, mounts a fresh `/proc`, `/sys` and a small `/dev`, and switches root with `pivot_root`. Keep one running:'),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('the container\'s mount table (its /proc/PID/mountinfo)', 'cat /proc/$PID/mountinfo'),
    show('the host\'s mount table, filtered for the rootfs', 'grep "$ROOTFS" /proc/self/mountinfo || echo "(nothing of the container is mounted on the host)"'),
    show('where the container\'s root is, as the host can name it', 'readlink /proc/$PID/root'),
    check('the container is pivoted, and nothing leaked to the host', (ctx) => {
      const root = rootOf(Number(ctx.vars.PID));
      const leaked = mountsUnder(ctx.vars.ROOTFS!);
      if (leaked.length) return fail(`the host has mounts under the rootfs: ${leaked.join(', ')}`);
      return root === '/' ? pass('readlink /proc/PID/root is "/": no path of the host leads to it') : fail(`the container's root is ${root}, a path of the host`);
    }),
    explain('Compare a chroot container: the host can name its root, because the host\'s whole tree is still mounted in its namespace.'),
    run(`mini-docker run --rm --chroot --rootfs "$ROOTFS" sleep 600`, { background: { as: 'CPID', comm: 'sleep' } }),
    show('the chroot container\'s root, as the host names it', 'readlink /proc/$CPID/root'),
    act('Compile lesson 2\'s escape program into the rootfs again', (ctx) => {
      compileEscape(join(ctx.vars.ROOTFS!, 'escape'));
      return '$ROOTFS/escape';
    }),
    run(`mkdir -p "$LAB/host-only" && echo "a file of the host" > "$LAB/host-only/secret"; mini-docker run --rm --chroot --rootfs "$ROOTFS" /escape "$LAB/host-only/secret"`, { title: 'chroot: the escape reads the host\'s file' }),
    run(`mini-docker run --rm --rootfs "$ROOTFS" /escape "$LAB/host-only/secret"`, { title: 'pivot_root: it climbs to the container\'s own root, and finds nothing', expect: 1 }),
    question({
      message: 'What makes pivot_root safe where chroot is not?',
      choices: [
        { name: 'The old root is moved aside and unmounted: no path leads back to the host\'s files', correct: true },
        { name: 'pivot_root also drops the CAP_SYS_CHROOT capability' },
        { name: 'pivot_root makes the rootfs read-only' },
      ],
      explanation: '`pivot_root` swaps the root mount of the whole namespace; the engine then unmounts the old root (`umount2(".", MNT_DETACH)`). A process that climbs with `..` reaches the container\'s root, the top of everything it has.',
    }),
    question({
      message: 'Why must the container make its mounts private first?',
      choices: [
        { name: 'With shared propagation its mounts (its /proc, /dev...) would appear on the host', correct: true },
        { name: 'pivot_root refuses read-only mounts' },
        { name: 'Private mounts are faster' },
      ],
      explanation: 'A new mount namespace copies the host\'s mounts with their propagation. If `/` is shared, every mount the container makes propagates to the host\'s peer. `MS_REC|MS_PRIVATE` cuts the link (and pivot_root requires it too).',
    }),
  ],
});
