// Lesson 10: images as stacks of layers; AUFS as history, overlayfs by hand (copy-up, whiteouts,
// opaque directories); then the engine's image store and each container's overlay.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineLesson, explain, run, show, check, question, pass, fail, type LessonContext } from '../../lib/lab/lesson.js';
import { prepareEngine } from '../../lib/lab/lesson-engine.js';
import { lowerDirs, rootMountOf, superOption } from '../../lib/lab/mountinfo.js';

function lstat(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

const isWhiteout = (path: string) => {
  const st = lstat(path);
  return !!st && st.isCharacterDevice() && st.rdev === 0;
};

/** The digests (hex) of the busybox image's manifest, config and layer, from the store's files. */
function imageDigests(ctx: LessonContext): void {
  const store = join(ctx.vars.MINI_DOCKER_ROOT!, 'images');
  const blob = (digest: string) => JSON.parse(readFileSync(join(store, 'blobs', 'sha256', digest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string }[] };
  const index = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  const manifest = index.manifests[0]!.digest;
  const m = blob(manifest);
  ctx.vars.MANIFEST = manifest.slice(7);
  ctx.vars.CONFIG = m.config.digest.slice(7);
  ctx.vars.LAYER = m.layers[0]!.digest.slice(7);
}

export default defineLesson({
  title: 'Layers: from AUFS to overlay',
  summary: 'Images as stacks of layers; overlayfs by hand (copy-up, whiteouts, opaque dirs); the engine\'s image store.',
  steps: [
    explain(`
# Images are stacks of layers

An image is not a disk: it is a **stack of layers**, each a tar archive of what one build step
changed (files added or modified, and files deleted, written as special *whiteout* entries). Many
images share their lower layers (the same base distribution), and a host keeps each layer once.

To run a container, the engine must show the stack as **one** directory tree, and give the
container somewhere to write without changing the layers, which other containers use too. That is
the job of a **union filesystem**.

Docker's first one was **AUFS** (*another union filesystem*, Junjiro Okajima, 2006): a stack of
branches with whiteout files named \`.wh.NAME\`. It never entered the mainline kernel; Docker
depended on distributions that patched it in, and moved away from it once **overlayfs** (Miklos
Szeredi) was merged in Linux 3.18 (2014). Docker's \`overlay2\` driver, on overlayfs with many
lower layers, became the default; AUFS support was removed from Docker altogether in 2023. The
\`.wh.\` names live on in the OCI image format, as the way a layer *tar* says "deleted".`),
    run('modprobe -q overlay 2>/dev/null; grep -wE "overlay|aufs" /proc/filesystems; grep -qw aufs /proc/filesystems || echo "(no aufs: this kernel was built without it)"', { title: 'The union filesystems this kernel knows (/proc/filesystems)' }),
    check('the kernel has overlayfs', () => {
      const fs = readFileSync('/proc/filesystems', 'utf8').split('\n').map((l) => l.trim().split(/\s+/).pop());
      if (!fs.includes('overlay')) return fail('overlay is not in /proc/filesystems: load the module (modprobe overlay) or use a kernel built with CONFIG_OVERLAY_FS');
      return pass(fs.includes('aufs') ? 'overlay, and aufs too (a patched kernel)' : 'overlay; no aufs, as on every mainline kernel');
    }),
    explain(`
# overlayfs by hand

An overlay mount stacks directories. **lowerdir** is one or more read-only layers
(\`lower1:lower2:...\`, topmost first): the image. **upperdir** gets every change: the container's
own layer. **workdir**, an empty directory on the same filesystem as upperdir, is where the kernel
prepares a file before moving it into upper in one atomic rename. The mount point shows the
**merged** view.

Make a lower layer with a few files, and empty upper, work and merged directories:`),
    run('mkdir -p "$LAB/ov/lower/etc" "$LAB/ov/upper" "$LAB/ov/work" "$LAB/ov/merged" && echo "from the image" > "$LAB/ov/lower/hello.txt" && echo "delete me" > "$LAB/ov/lower/remove-me" && echo a > "$LAB/ov/lower/etc/a.conf" && echo b > "$LAB/ov/lower/etc/b.conf"; cd "$LAB/ov" && find . | sort', {
      then: (ctx) => {
        ctx.vars.OV = join(ctx.tmp, 'ov');
      },
    }),
    run('mount -t overlay overlay -o lowerdir="$OV/lower",upperdir="$OV/upper",workdir="$OV/work" "$OV/merged" && echo mounted', {
      title: 'Mount the overlay (on the host, in $LAB: the lesson unmounts it when it ends)',
      then: (ctx) => ctx.defer(`the overlay on ${ctx.vars.OV}/merged`, async () => void (await ctx.sh('! mountpoint -q "$OV/merged" || umount "$OV/merged"'))),
    }),
    show('the merged view, and the mount in the host\'s mount table', 'ls -l "$OV/merged"; grep " $OV/merged " /proc/self/mountinfo'),
    explain(`
## Writing: copy-up

A write to a file of a lower layer first **copies it up**: the kernel copies the whole file into
upperdir (through workdir) and changes the copy. The lower layer is never written. A new file is
simply created in upperdir.`),
    run('echo "changed in the merged view" >> "$OV/merged/hello.txt"; echo "a new file" > "$OV/merged/new.txt"'),
    show('hello.txt in each directory, and what upper holds now', 'for d in lower upper merged; do echo "== $d/hello.txt:"; cat "$OV/$d/hello.txt"; done; echo "== upper:"; ls -l "$OV/upper"'),
    check('the change went to upper; the lower layer is untouched', (ctx) => {
      const ov = ctx.vars.OV!;
      const lower = readFileSync(join(ov, 'lower', 'hello.txt'), 'utf8');
      if (lower !== 'from the image\n') return fail(`lower/hello.txt changed: ${JSON.stringify(lower)}`);
      if (!lstat(join(ov, 'upper', 'hello.txt'))?.isFile()) return fail('upper/hello.txt is missing: no copy-up happened');
      if (!lstat(join(ov, 'upper', 'new.txt'))) return fail('upper/new.txt is missing');
      return pass('lower/hello.txt still says "from the image"; the copy in upper has the new line');
    }),
    explain(`
## Deleting: whiteouts

A file of a lower layer cannot be removed from it. Instead, the kernel puts a **whiteout** in
upperdir: a character device with device number **0:0** under the same name. The merged view hides
any name that has a whiteout above it.`),
    run('rm "$OV/merged/remove-me"; ls "$OV/merged"'),
    show('the whiteout in upper, and the file still in lower', 'ls -l "$OV/upper"; stat -c "%n: %F, device %t:%T" "$OV/upper/remove-me"; echo "lower:" $(ls "$OV/lower")'),
    check('remove-me is a 0:0 character device in upper, and still a file in lower', (ctx) => {
      const ov = ctx.vars.OV!;
      if (!isWhiteout(join(ov, 'upper', 'remove-me'))) return fail('upper/remove-me is not a character device 0:0');
      if (!lstat(join(ov, 'lower', 'remove-me'))?.isFile()) return fail('lower/remove-me is gone: the deletion reached the lower layer');
      if (lstat(join(ov, 'merged', 'remove-me'))) return fail('merged/remove-me is still visible');
      return pass('whiteout c 0:0 in upper; lower unchanged; hidden in merged');
    }),
    explain(`
## Replacing a directory: opaque directories

Remove a directory that exists below, then create one with the same name: the new directory must
not show the old one's files. The kernel marks it **opaque** with the extended attribute
\`trusted.overlay.opaque="y"\`: lookups stop there instead of reaching the lower layers.`),
    run('rm -r "$OV/merged/etc" && mkdir "$OV/merged/etc" && echo c > "$OV/merged/etc/c.conf"; echo "merged/etc:" $(ls "$OV/merged/etc"); echo "lower/etc: " $(ls "$OV/lower/etc"); echo "upper/etc: " $(ls "$OV/upper/etc")'),
    check('upper/etc carries trusted.overlay.opaque = "y"', async (ctx) => {
      const { lgetxattr } = await import('../../native/libc.js'); // getxattr(2), through the engine's FFI
      let v: string;
      try {
        v = lgetxattr(join(ctx.vars.OV!, 'upper', 'etc'), 'trusted.overlay.opaque').toString();
      } catch (e) {
        return fail(`upper/etc has no trusted.overlay.opaque attribute: ${(e as Error).message}`);
      }
      return v === 'y' ? pass('lgetxattr("upper/etc", "trusted.overlay.opaque") = "y": a.conf and b.conf below stay hidden') : fail(`trusted.overlay.opaque is "${v}"`);
    }),
    question({
      message: 'A container deletes /bin/vi, which is in a lower layer. What does the kernel write?',
      choices: [
        { name: 'A character device 0:0 named bin/vi in the upper directory', correct: true },
        { name: 'Nothing: it removes bin/vi from the lower layer' },
        { name: 'A file named .wh.vi in the lower layer' },
      ],
      explanation: 'Lower layers are read-only and shared. overlayfs records the deletion as a whiteout in upper (a 0:0 character device). The `.wh.vi` form is how an OCI layer *tar* says the same thing; the engine turns one into the other when it unpacks a layer.',
    }),
    run('umount "$OV/merged"; echo "merged, unmounted, is empty again: $(ls -A "$OV/merged" | wc -l) entries"; echo "upper keeps every change:"; ls -la "$OV/upper"', { title: 'Unmount: the changes stay, as plain files in upper' }),
    explain(`
Everything a container changed is in one directory, upper. \`docker commit\` tars it into a new
layer (turning whiteouts back into \`.wh.\` entries); removing the container deletes it.

# The engine's image store

Now the same, done by mini-docker. Its data root holds an **OCI image layout** (\`images/\`:
\`index.json\` names the images, \`blobs/sha256/\` holds every manifest, config and layer by
digest), the layers unpacked once (\`layers/\`), and one directory per container (\`containers/ID/\`
with upper, work, merged). The lesson's engine starts empty: load the busybox sandbox image.`),
    prepareEngine(),
    run('mini-docker load -i "$BUSYBOX_OCI"'),
    run('mini-docker images', { then: (ctx) => imageDigests(ctx) }),
    show('the image layout in the data root', 'cd "$MINI_DOCKER_ROOT/images" && find . -type f | sort && cat index.json'),
    show('the manifest: the config and the layers, each by digest', 'cat "$MINI_DOCKER_ROOT/images/blobs/sha256/$MANIFEST"; echo'),
    show('the config: rootfs.diff_ids, the digest of each layer as an uncompressed tar', 'grep -o \'"rootfs":{[^}]*}\' "$MINI_DOCKER_ROOT/images/blobs/sha256/$CONFIG"; echo; echo "the layer is a tar:"; tar -tvf "$MINI_DOCKER_ROOT/images/blobs/sha256/$LAYER" | head -4'),
    explain(`
A layer's **digest** (in the manifest) is the hash of the blob as stored, compressed or not; its
**diff ID** (in the config) is the hash of the uncompressed tar. The engine unpacks each layer once
into \`layers/\`, in a directory named by its **chain ID**: the first layer's chain ID is its diff
ID, each next one hashes its parent's chain ID with its own diff ID. An unpacked layer only means
something on top of the same layers beneath, and the chain ID names exactly that stack.

Run two containers from the image. The first writes /etc/motd and deletes /bin/vi:`),
    run('mini-docker run --rm --name one busybox sh -c \'echo "written by one" > /etc/motd; rm /bin/vi; exec sleep 600\'', { background: { as: 'ONE', comm: 'sleep' } }),
    run('mini-docker run --rm --name two busybox sleep 600', { background: { as: 'TWO', comm: 'sleep' } }),
    show('the layer store: one directory, by chain ID (with one layer, its diff ID)', 'ls "$MINI_DOCKER_ROOT/layers"; mini-docker inspect --format "{{json .RootFS.diff_ids}}" busybox'),
    show('each container\'s root, read from its own mount table (/proc/PID/mountinfo)', 'for p in $ONE $TWO; do echo "== pid $p:"; grep " / / " /proc/$p/mountinfo | tr "," "\\n" | grep -E "overlay|dir="; done'),
    show('the host\'s mount table', 'grep "$MINI_DOCKER_ROOT" /proc/self/mountinfo || echo "(nothing: each overlay is mounted in its shim\'s private mount namespace, and goes away with it)"'),
    show('what each container sees (the host reaches a container\'s root through /proc/PID/root)', 'for p in $ONE $TWO; do echo "== pid $p:"; cat /proc/$p/root/etc/motd; ls -l /proc/$p/root/bin/vi; done', { expect: 'any' }),
    run('mini-docker diff one; echo "--- two:"; mini-docker diff two', { title: 'docker diff: A(dded), C(hanged), D(eleted), read from the upper dir' }),
    show('one\'s upper dir on the host, and inspect\'s GraphDriver', 'mini-docker inspect --format "{{json .GraphDriver}}" one; echo; ls -lR "$(mini-docker inspect --format "{{.GraphDriver.Data.UpperDir}}" one)"'),
    check('both containers stand on the same layer, each writing to an upper dir of its own', (ctx) => {
      const one = rootMountOf(Number(ctx.vars.ONE));
      const two = rootMountOf(Number(ctx.vars.TWO));
      if (one?.fstype !== 'overlay' || two?.fstype !== 'overlay') return fail(`the containers' roots are ${one?.fstype} and ${two?.fstype}, not overlay`);
      const [l1, l2] = [lowerDirs(one), lowerDirs(two)];
      if (l1.join(':') !== l2.join(':')) return fail(`their lower layers differ: ${l1.join(':')} and ${l2.join(':')}`);
      const [u1, u2] = [superOption(one, 'upperdir')!, superOption(two, 'upperdir')!];
      if (u1 === u2) return fail(`both write to ${u1}`);
      if (!isWhiteout(join(u1, 'bin', 'vi'))) return fail(`${u1}/bin/vi is not a whiteout`);
      if (!lstat(join(l1[0]!, 'bin', 'vi'))) return fail(`the layer ${l1[0]} lost bin/vi`);
      if (!lstat(join(u1, 'etc', 'motd'))?.isFile() || lstat(join(u2, 'etc', 'motd'))) return fail('etc/motd should be in one\'s upper dir only');
      return pass(`shared lower ${l1[0]}; one's changes (etc/motd, the bin/vi whiteout) only in ${u1}`);
    }),
    question({
      message: 'Why are unpacked layers named by chain ID rather than by their own digest?',
      choices: [
        { name: 'A layer\'s content is only meaningful on top of the same layers beneath it, and the chain ID names that whole stack', correct: true },
        { name: 'Digests are too long for directory names' },
        { name: 'The chain ID is shorter to compute' },
      ],
      explanation: 'A layer can hold whiteouts and changes of files it does not contain: on another base it would mean something else. `ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))` identifies the layer together with everything below it (OCI image spec, config.md).',
    }),
    question({
      message: 'A container is removed. What happens to the files it wrote?',
      choices: [
        { name: 'They go with its upper dir; the image\'s layers are unchanged', correct: true },
        { name: 'They are merged into the image\'s top layer' },
        { name: 'They stay in the layer store for the next container' },
      ],
      explanation: 'The container\'s layer is its upper dir, deleted with `containers/ID/`. To keep it, `commit` would tar upper into a new layer of a new image.',
    }),
  ],
});
