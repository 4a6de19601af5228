// The learner's scaffold (container-lab init): what lesson 2 asks them to write.
export default {
  'lesson-03-pivot-root': `/**
 * TODO lesson 2: leave the host's tree. Return the operation that makes \`r\` the process's "/":
 *     return [{ op: 'chroot', root: r }];
 *   (the shim calls chroot(2), then chdir("/")). Until you do, the container's "/" is the host's.
 * TODO lesson 3: chroot can be escaped (lesson 2 shows how). Unless \`chroot\` is set (that is
 *   \`mini-docker run --chroot\`), return [{ op: 'pivot_root', root: r }] instead: the shim then
 *   calls pivot_root(".", ".") in r and unmounts the old root, so nothing of the host is left.
 */
function switchRoot(r: string, chroot: boolean): Op[] {
  void r;
  void chroot;
  return [];
}`,
};
