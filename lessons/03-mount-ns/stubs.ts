// The learner's scaffold (container-lab init): what lesson 3 asks them to write.
export default {
  'lesson-03-proc': `// TODO lesson 3: /proc and /sys for the container, mounted inside its mount namespace.
//   proc: { op: 'mount', source: 'proc', target: \`\${r}/proc\`, fstype: 'proc', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC }
//   sys:  with its own network namespace, a read-only sysfs (fstype 'sysfs', add MS.RDONLY);
//         without one, a read-only recursive bind of the host's /sys (MS.BIND | MS.REC | MS.RDONLY).
// A proc mount shows the PID namespace of the process that mounts it (lesson 5).
function procAndSys(r: string, ownNetNs: boolean): Op[] {
  void r;
  void ownNetNs;
  return [];
}`,
  'lesson-03-dev': `/**
 * TODO lesson 3: a small /dev of the container's own: a tmpfs on \`\${r}/dev\` (mode=755), then for
 * each name in DEVICES a bind mount of the host's /dev/NAME onto a file made with { op: 'touch' };
 * a new devpts instance on /dev/pts (data 'newinstance,ptmxmode=0666,mode=0620') with /dev/ptmx
 * a symlink to pts/ptmx; a tmpfs on /dev/shm; the symlinks fd, stdin, stdout, stderr into
 * /proc/self/fd; and, with its own IPC namespace, an mqueue filesystem on /dev/mqueue.
 * Never bind the host's whole /dev: its disks would be the container's.
 */
function minimalDev(r: string, ownIpcNs: boolean): Op[] {
  void r;
  void ownIpcNs;
  return [];
}`,
};
