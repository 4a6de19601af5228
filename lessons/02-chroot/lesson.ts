// Lesson 2: chroot, a root of its own, and the classic escape that shows it is no boundary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, act, pass, fail } from '../../lib/lab/lesson.js';
import { compileEscape, ESCAPE_C } from '../../lib/lab/escape.js';

export default defineLesson({
  title: 'chroot',
  summary: 'Jail a shell in a busybox root, then escape the jail: why chroot is not a boundary.',
  rootfs: true,
  steps: [
    explain(`
# A root of its own

\`chroot(dir)\` changes where one process resolves \`/\`. A root filesystem is only a directory:
here one **static** busybox (a dynamic program would look for its libraries in the new root's
\`/lib\`) with a link per applet, and a few directories.`),
    show('the root filesystem the lab made', 'ls "$ROOTFS"; ls -l "$ROOTFS/bin" | head -4; file "$ROOTFS/bin/busybox" 2>/dev/null || true'),
    run(`chroot "$ROOTFS" /bin/sh -c 'echo "my / holds:"; ls /; cat /etc/passwd'`, { title: 'The host\'s chroot command, straight' }),
    run(`mini-docker run --rm --chroot --rootfs "$ROOTFS" sh -c 'echo "my / holds:"; ls /'`, { title: 'The engine in chroot mode (--chroot: chroot, no pivot_root)' }),
    explain(`
# The escape

chroot moves one pointer, the process's root. Its working directory stays where it was, and the
kernel only stops \`..\` at the root *when a path passes through it*. A process with
\`CAP_SYS_CHROOT\` chroots into a subdirectory (now its working directory is *outside* its root),
climbs with \`chdir("..")\`, and chroots into the top it reached. Here is the program:`),
    act('Write escape.c and compile it statically into the rootfs', (ctx) => {
      writeFileSync(join(ctx.tmp, 'escape.c'), ESCAPE_C);
      compileEscape(join(ctx.vars.ROOTFS!, 'escape'));
      return 'cc -static -o $ROOTFS/escape $LAB/escape.c';
    }),
    show('escape.c', 'cat "$LAB/escape.c"'),
    run(`mkdir -p "$LAB/host-only" && echo "a file of the host, outside the rootfs" > "$LAB/host-only/secret" && echo "made $LAB/host-only/secret"`),
    run(`mini-docker run --rm --chroot --rootfs "$ROOTFS" sh -c 'cat "$0" || echo "not reachable by its path"' "$LAB/host-only/secret"`, { title: 'By its path, the host\'s file is out of reach...' }),
    run(`mini-docker run --rm --chroot --rootfs "$ROOTFS" /escape "$LAB/host-only/secret"`, { title: '...but the escape program reads it' }),
    check('the chroot escape reached the host\'s file', async (ctx) => {
      const r = await ctx.sh('mini-docker run --rm --chroot --rootfs "$ROOTFS" /escape "$LAB/host-only/secret"');
      return r.stdout.includes('a file of the host') ? pass('chroot is not a security boundary') : fail(`the escape did not print the host's file: ${r.all}`);
    }),
    question({
      message: 'Why did chroot not stop the escape?',
      choices: [
        { name: 'chroot changes where "/" resolves; the working directory stayed outside the new root, and ".." is only stopped at the root', correct: true },
        { name: 'The escape program exploited a kernel bug' },
        { name: 'busybox ignores chroot' },
      ],
      explanation: 'This is documented behaviour (`chroot(2)`: "This call does not change the current working directory"). chroot was never meant to contain root. Mount namespaces and pivot_root (lesson 3) remove the host\'s tree from the container altogether.',
    }),
  ],
});
