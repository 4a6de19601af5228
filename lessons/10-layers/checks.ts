// Lesson 10 graded: containers from one image share its layers read-only and write to a layer of
// their own. The checks run the busybox image the grader loads into the engine (`load -i`), and
// read the container's root from the kernel: its /proc/PID/mountinfo, and the upper dir on the host.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';
import { lowerDirs, rootMountOf, superOption } from '../../lib/lab/mountinfo.js';

/** Files of the busybox image a container may delete without breaking the shell it runs in. */
const DELETABLE = ['/etc/passwd', '/etc/group', '/bin/vi', '/bin/wget', '/bin/tar', '/bin/sed', '/bin/awk'];

export default defineChecks({
  lesson: 10,
  title: 'Layers: from AUFS to overlay',
  checks: [
    {
      id: '10-root-is-overlay',
      title: 'a container\'s root is an overlay mount (its /proc/PID/mountinfo)',
      points: 3,
      hint: 'mount an overlay as the container\'s root: the image\'s unpacked layers as lowerdir (read-only, shared), an upperdir and a workdir of the container\'s own; copying the image for every container (docker\'s old vfs driver) is not it',
      async run(g) {
        const image = await g.image();
        const c = await g.start([], 'true', { image });
        const root = rootMountOf(c.pid);
        await c.stop();
        if (!root) return failed(`cannot read /proc/${c.pid}/mountinfo of the container's process, or it lists no mount on /`);
        if (root.fstype !== 'overlay') return failed(`the container's / is a ${root.fstype} mount (source ${root.source}), not overlay`);
        if (root.root !== '/') return failed(`the container's / is a bind mount of ${root.root} inside an overlay of the host's, not an overlay of its own`);
        return superOption(root, 'upperdir') ? passed(`overlay, ${lowerDirs(root).length} lower layer(s)`) : failed('the container\'s / is an overlay without an upperdir: read-only, so the container cannot write');
      },
    },
    {
      id: '10-own-writes',
      title: 'a file written in a container is not in a second container of the same image',
      points: 3,
      hint: 'every container needs its own writable layer (overlay\'s upperdir, one per container) over the image\'s read-only layers: writing into the unpacked image shares the file with every container',
      async run(g) {
        const image = await g.image();
        const t = g.token();
        const file = `/etc/${g.token('written-')}`;
        const first = await g.start([], `echo ${t} > ${file} && cat ${file} || echo WRITE-FAILED`, { image });
        const wrote = first.stdout();
        const second = await g.run([], ['sh', '-c', `cat ${file} 2>/dev/null || echo absent`], { image });
        await first.stop();
        if (!wrote.includes(t)) return failed(`the first container could not write ${file}: it printed ${JSON.stringify(wrote.trim())}`);
        if (second.code !== 0) return failed(`the second container did not run: ${described(second)}`);
        if (second.stdout.includes(t)) return failed(`a second container of the same image reads ${file}, written by the first: their writes land in a shared directory`);
        return second.stdout.trim() === 'absent' ? passed(`${file} is only in the first container`) : failed(`unexpected output: ${described(second)}`);
      },
    },
    {
      id: '10-delete-keeps-image',
      title: 'a file deleted in a container is still in the image',
      points: 3,
      hint: 'a deletion must only hide the file from this container: overlay records it as a whiteout (a 0:0 character device) in the container\'s upperdir, and the layer below stays as it was',
      async run(g) {
        const image = await g.image();
        const victim = DELETABLE[g.randomInt(0, DELETABLE.length - 1)]!;
        const gone = await g.run([], ['sh', '-c', `rm -f ${victim} && test ! -e ${victim} && echo deleted`], { image });
        if (gone.stdout.trim() !== 'deleted') return failed(`the container could not delete ${victim}: ${described(gone)}`);
        const later = await g.run([], ['sh', '-c', `test -e ${victim} && echo present || echo missing`], { image });
        if (later.stdout.trim() === 'missing') return failed(`${victim}, deleted in one container, is missing in the next container of the same image: the deletion reached the image`);
        return later.stdout.trim() === 'present' ? passed(`${victim} deleted in one container, present in the next`) : failed(`the second container did not answer: ${described(later)}`);
      },
    },
    {
      id: '10-upper-dir',
      title: 'a container\'s writes land in its upper dir on the host, not in a lower layer',
      points: 3,
      hint: 'the overlay\'s upperdir (see the container\'s mountinfo) is where the kernel puts new and changed files; lowerdir layers are never written',
      needs: ['10-root-is-overlay'],
      async run(g) {
        const image = await g.image();
        const t = g.token();
        const name = g.token('upper-');
        const c = await g.start([], `echo ${t} > /${name}`, { image });
        const root = rootMountOf(c.pid);
        const upper = root && superOption(root, 'upperdir');
        const lowers = root ? lowerDirs(root) : [];
        // Read while the container runs: an engine may remove its upper dir with the container.
        const found = upper && isAbsolute(upper) ? read(join(upper, name)) : undefined;
        const inLower = lowers.filter((d) => isAbsolute(d) && existsSync(join(d, name)));
        await c.stop();
        if (!root || !upper) return failed(`the container's mountinfo has no overlay upperdir for /: ${root ? `${root.fstype} ${root.superOptions}` : 'no root mount'}`);
        if (!isAbsolute(upper)) return failed(`upperdir=${upper} is not an absolute path: the grader cannot find it on the host`);
        if (inLower.length) return failed(`/${name} written in the container is in the lower layer ${inLower[0]}: the image was changed`);
        if (found === undefined) return failed(`/${name}, written in the container, is not in its upperdir ${upper} on the host`);
        return found.trim() === t ? passed(`${join(upper, name)}`) : failed(`${join(upper, name)} holds ${JSON.stringify(found)}, not what the container wrote (${t})`);
      },
    },
  ],
});

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
