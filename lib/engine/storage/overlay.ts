// The container's root filesystem: the image's layers, read-only, under an upper dir of its own.
// Every write lands in upper/, so the image is never changed (and `diff`/`commit` read upper/).
import type { Op } from '../runtime/ops.js';

export interface OverlayDirs {
  /** Image layers, topmost first (overlayfs' order for lowerdir). */
  lower: string[];
  upper: string;
  work: string;
  merged: string;
}

// #region lesson-10-overlay
/** The mount(2) call for an overlay: "lowerdir=top:...:bottom,upperdir=...,workdir=...". */
export function overlayMountOp(d: OverlayDirs): Op {
  const data = `lowerdir=${d.lower.join(':')},upperdir=${d.upper},workdir=${d.work}`;
  return { op: 'mount', source: 'overlay', target: d.merged, fstype: 'overlay', flags: 0, data };
}
// #endregion lesson-10-overlay

/** mount(2) takes at most one page of options: too many or too long layer paths do not fit. */
export function overlayFits(d: OverlayDirs): boolean {
  const op = overlayMountOp(d);
  return op.op === "mount" && (op.data ?? "").length < 4000;
}
