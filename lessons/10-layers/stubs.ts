// The learner's scaffold (container-lab init): what lesson 10 asks them to write.
export default {
  'lesson-10-overlay': `/**
 * TODO lesson 10: the container's root, an overlay of the image's layers. Return the mount(2)
 * operation { op: 'mount', source: 'overlay', target: d.merged, fstype: 'overlay', flags: 0, data }
 * where data is "lowerdir=TOP:...:BOTTOM,upperdir=UPPER,workdir=WORK" (d.lower is topmost first).
 * Until then the kernel refuses an overlay without layers (EINVAL), and no image can run.
 */
export function overlayMountOp(d: OverlayDirs): Op {
  return { op: 'mount', source: 'overlay', target: d.merged, fstype: 'overlay', flags: 0, data: '' };
}`,
};
