// Lesson 0: what this machine's kernel offers the lab (container-lab doctor, step by step).
import { defineLesson, explain, act, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { CleanupStack } from '../../lib/lab/cleanup.js';
import { doctorFindings, formatFinding, type Finding } from '../../lib/lab/doctor.js';
import { out } from '../../lib/lab/ui.js';

let findings: Finding[] = [];

export default defineLesson({
  title: 'Lab check-up',
  summary: 'Read off the kernel what the lab needs: root, namespaces, cgroups, overlayfs, links, a compiler.',
  steps: [
    explain(`
# What the kernel offers

A container is a process the kernel isolates along independent axes, each with its own switch.
Before using them, ask the kernel which ones this machine has. The doctor reads each fact where the
kernel publishes it, and says what to do when one is missing.`),
    act('Ask the kernel (container-lab doctor)', async () => {
      const stack = new CleanupStack();
      try {
        findings = await doctorFindings(stack);
      } finally {
        await stack.run();
      }
      for (const f of findings) out(formatFinding(f));
      const bad = findings.filter((f) => f.status === 'fail').length;
      return bad ? `${bad} missing` : 'everything the lab needs is here';
    }),
    show('the namespaces of this very shell, one link per kind', 'ls -l /proc/self/ns'),
    explain('Two processes share a namespace exactly when their links name the same inode: `mnt:[4026531841]`. The number is an inode of the `nsfs` filesystem.'),
    show('the cgroup filesystems mounted here', 'findmnt -t cgroup,cgroup2 -o TARGET,FSTYPE,OPTIONS'),
    show('overlay (and AUFS, absent) in the list of filesystems the kernel can mount', "grep -E 'overlay|aufs' /proc/filesystems || true"),
    check('the lab has everything it cannot do without', () => {
      const bad = findings.filter((f) => f.status === 'fail');
      return bad.length ? fail(bad.map((f) => `${f.name}: ${f.detail}${f.fix ? ` → ${f.fix}` : ''}`).join('\n')) : pass(`${findings.filter((f) => f.status === 'pass').length} facts checked`);
    }),
    question({
      message: 'How do you tell, from the host, that two processes are in the same network namespace?',
      choices: [
        { name: 'Their /proc/PID/ns/net links point to the same namespace inode', correct: true },
        { name: 'They have the same IP address' },
        { name: 'They have the same parent process' },
      ],
      explanation: 'Namespaces are kernel objects with an inode in the `nsfs` filesystem; `/proc/PID/ns/KIND` is a link to it. Same inode, same namespace (`namespaces(7)`).',
    }),
    question({
      message: 'Why does the lab use overlayfs and not AUFS for image layers?',
      choices: [
        { name: 'AUFS was never merged into mainline Linux; overlayfs was (3.18) and replaced it', correct: true },
        { name: 'AUFS cannot stack more than two layers' },
        { name: 'overlayfs is a FUSE filesystem, so it needs no root' },
      ],
      explanation: 'AUFS needed patched kernels, so Docker moved to overlay (the `overlay2` driver) once it was in mainline. Lesson 10 mounts overlays by hand.',
    }),
  ],
});
