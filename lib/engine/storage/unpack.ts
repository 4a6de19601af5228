// Unpacking an image layer into a directory that overlayfs can use as a lowerdir.
// A layer is untrusted input: every entry is checked before it touches the disk, nothing is ever
// written through a symlink, and the layer appears under its final name only once complete.
import {
  closeSync, constants, existsSync, fchmodSync, fchownSync, futimesSync, linkSync, lchownSync, lstatSync,
  lutimesSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, symlinkSync, unlinkSync, chmodSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { EngineError } from '../errors.js';
import { explain } from '../log.js';
import { openTar, readTar, type TarReadEntry } from '../image/tar-read.js';
import { geteuid, lsetxattr, makedev, mknod, S_IFBLK, S_IFCHR, S_IFIFO } from '../../../native/libc.js';

export interface UnpackedLayer {
  /** sha256 of the uncompressed tar: the layer's DiffID. */
  diffId: string;
  /** Bytes of regular-file content in the layer. */
  contentSize: number;
}

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

/**
 * Unpack the layer at `tarPath` (plain tar or gzip) into `destDir`, which must not exist yet.
 * OCI whiteouts become overlayfs whiteouts. When `expectDiffId` is given and the content does not
 * match it, nothing is left behind.
 */
export async function unpackLayer(tarPath: string, destDir: string, opts: { expectDiffId?: string } = {}): Promise<UnpackedLayer> {
  if (existsSync(destDir)) {
    throw new EngineError('layer_exists', `cannot unpack layer into ${destDir}: it already exists`);
  }
  explain('unpack', `${tarPath} -> ${destDir}`);
  const tmp = mkdtempSync(join(dirname(destDir), `.${basename(destDir)}.unpack-`));
  try {
    chmodSync(tmp, 0o755);
    const hash = createHash('sha256');
    const u = new Unpacker(tmp, tarPath);
    for await (const entry of readTar(hashing(openTar(tarPath), hash))) await u.apply(entry);
    u.finish();
    const diffId = `sha256:${hash.digest('hex')}`;
    if (opts.expectDiffId !== undefined && diffId !== opts.expectDiffId) {
      throw new EngineError('layer_digest_mismatch', `layer ${tarPath} has content ${diffId}, but the image says ${opts.expectDiffId}`, {
        hint: 'the layer blob is damaged or does not belong to this image: remove the image and load it again',
      });
    }
    renameSync(tmp, destDir);
    return { diffId, contentSize: u.contentSize };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

async function* hashing(source: AsyncIterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

class Unpacker {
  contentSize = 0;
  /** Directories (relative paths) known to be real directories, not symlinks. */
  private readonly dirs = new Set<string>(['']);
  /** Directory times are set last: creating their children would change them again. */
  private readonly dirTimes = new Map<string, number>();
  private readonly asRoot = geteuid() === 0;

  constructor(private readonly root: string, private readonly tarPath: string) {}

  async apply(entry: TarReadEntry): Promise<void> {
    const rel = this.cleanPath(entry.path, entry);
    if (rel === '') {
      if (entry.type !== 'dir') throw this.unsafe(entry, 'replaces the root of the layer');
      this.setMeta(this.root, entry);
      this.dirTimes.set('', entry.mtime);
      return;
    }
    const parentRel = dirname(rel) === '.' ? '' : dirname(rel);
    const name = basename(rel);
    this.makeParents(parentRel, entry);
    const parent = join(this.root, parentRel);

    // #region lesson-10-whiteouts
    // OCI marks deletions with names (image-spec layer.md, "Whiteouts"); overlayfs with a 0:0
    // character device for a deleted file and an xattr for a directory whose lower content is
    // hidden (Documentation/filesystems/overlayfs.rst).
    if (name === OPAQUE_MARKER) {
      explain('setxattr', `${parent} ${OVERLAY_OPAQUE_XATTR}=y  (for ${entry.path})`);
      lsetxattr(parent, OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
      return;
    }
    if (name.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return; // aufs bookkeeping, no meaning here
    if (name.startsWith(WHITEOUT_PREFIX)) {
      const hidden = name.slice(WHITEOUT_PREFIX.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw this.unsafe(entry, 'is a whiteout without a valid name');
      const path = join(parent, hidden);
      this.clearSlot(path, join(parentRel, hidden), false);
      explain('mknod', `${path} c 0 0  (whiteout for ${entry.path})`);
      mknod(path, S_IFCHR, makedev(0, 0));
      if (this.asRoot) lchownSync(path, entry.uid, entry.gid);
      return;
    }
    // #endregion lesson-10-whiteouts

    const path = join(this.root, rel);
    this.clearSlot(path, rel, entry.type === 'dir');
    switch (entry.type) {
      case 'dir':
        if (!existsSync(path)) mkdirSync(path, 0o700);
        this.dirs.add(rel);
        this.setMeta(path, entry);
        this.dirTimes.set(rel, entry.mtime);
        return;
      case 'file':
        return this.writeFile(path, entry);
      case 'symlink':
        // Any target is allowed: it is only ever resolved inside the container's root.
        if (entry.linkpath === '') throw this.unsafe(entry, 'is a symlink without a target');
        symlinkSync(entry.linkpath, path);
        if (this.asRoot) lchownSync(path, entry.uid, entry.gid);
        lutimesSync(path, entry.mtime, entry.mtime);
        return;
      case 'hardlink':
        linkSync(this.linkTarget(entry), path);
        return;
      case 'char':
      case 'block':
      case 'fifo': {
        const kind = entry.type === 'char' ? S_IFCHR : entry.type === 'block' ? S_IFBLK : S_IFIFO;
        const dev = entry.type === 'fifo' ? 0n : makedev(entry.devmajor, entry.devminor);
        explain('mknod', `${path} ${entry.type} ${entry.devmajor}:${entry.devminor}`);
        mknod(path, kind | entry.mode, dev);
        this.setMeta(path, entry);
        lutimesSync(path, entry.mtime, entry.mtime);
        return;
      }
    }
  }

  /** Set the deferred directory times, deepest first. */
  finish(): void {
    const byDepth = [...this.dirTimes].sort(([a], [b]) => b.split('/').length - a.split('/').length);
    for (const [rel, mtime] of byDepth) lutimesSync(join(this.root, rel), mtime, mtime);
  }

  private async writeFile(path: string, entry: TarReadEntry): Promise<void> {
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      for await (const chunk of entry.body()) {
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off);
        this.contentSize += chunk.length;
      }
      // chown before chmod: chown(2) clears setuid and setgid bits.
      if (this.asRoot) fchownSync(fd, entry.uid, entry.gid);
      fchmodSync(fd, entry.mode);
      futimesSync(fd, entry.mtime, entry.mtime);
    } finally {
      closeSync(fd);
    }
    this.setXattrs(path, entry);
  }

  private setMeta(path: string, entry: TarReadEntry): void {
    if (this.asRoot) lchownSync(path, entry.uid, entry.gid);
    chmodSync(path, entry.mode);
    this.setXattrs(path, entry);
  }

  private setXattrs(path: string, entry: TarReadEntry): void {
    for (const [name, value] of Object.entries(entry.xattrs)) lsetxattr(path, name, value);
  }

  /** A relative path with no '.', '..' or empty parts; '' for the layer's root. */
  private cleanPath(p: string, entry: TarReadEntry): string {
    if (p.startsWith('/')) throw this.unsafe(entry, 'is an absolute path');
    if (p.includes('\0')) throw this.unsafe(entry, 'has a NUL byte in its name');
    const parts = p.split('/').filter((c) => c !== '' && c !== '.');
    if (parts.includes('..')) throw this.unsafe(entry, "leads out of the layer with '..'");
    return parts.join('/');
  }

  /** Create missing parents; refuse to go through anything that is not a real directory. */
  private makeParents(parentRel: string, entry: TarReadEntry): void {
    if (this.dirs.has(parentRel)) return;
    let rel = '';
    for (const part of parentRel.split('/')) {
      rel = rel === '' ? part : `${rel}/${part}`;
      if (this.dirs.has(rel)) continue;
      const path = join(this.root, rel);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st === undefined) {
        mkdirSync(path);
        chmodSync(path, 0o755);
      } else if (st.isSymbolicLink()) {
        throw this.unsafe(entry, `would be written through the symlink ${rel}`);
      } else if (!st.isDirectory()) {
        throw this.unsafe(entry, `would be written under ${rel}, which is not a directory`);
      }
      this.dirs.add(rel);
    }
  }

  /** Make room for an entry: a later entry replaces an earlier one, except dir over dir. */
  private clearSlot(path: string, rel: string, isDir: boolean): void {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined || (isDir && st.isDirectory())) return;
    if (st.isDirectory()) {
      rmSync(path, { recursive: true });
      for (const d of this.dirs) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
      for (const d of this.dirTimes.keys()) if (d === rel || d.startsWith(`${rel}/`)) this.dirTimes.delete(d);
    } else {
      unlinkSync(path);
    }
  }

  /** A hard link's target must be an earlier entry of this layer, reached without symlinks. */
  private linkTarget(entry: TarReadEntry): string {
    const rel = this.cleanPath(entry.linkpath, entry);
    if (rel === '') throw this.unsafe(entry, 'is a hard link to the layer root');
    let dir = '';
    for (const part of rel.split('/').slice(0, -1)) {
      dir = dir === '' ? part : `${dir}/${part}`;
      const st = lstatSync(join(this.root, dir), { throwIfNoEntry: false });
      if (!st?.isDirectory()) throw this.unsafe(entry, `is a hard link through ${dir}, which is not a directory of this layer`);
    }
    const target = join(this.root, rel);
    const st = lstatSync(target, { throwIfNoEntry: false });
    if (st === undefined) throw this.unsafe(entry, `is a hard link to ${entry.linkpath}, which is not in this layer`);
    if (st.isDirectory()) throw this.unsafe(entry, `is a hard link to the directory ${entry.linkpath}`);
    return target;
  }

  private unsafe(entry: TarReadEntry, why: string): EngineError {
    return new EngineError('unsafe_layer_entry', `refusing to unpack layer ${this.tarPath}: entry ${JSON.stringify(entry.path)} ${why}`, {
      hint: 'the layer is damaged or was made to escape its directory; mini-docker unpacks nothing from it',
    });
  }
}
