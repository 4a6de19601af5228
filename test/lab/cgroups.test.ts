// Lesson 9 makes things on the host besides its directory: cgroups (through the engine) and a
// loop device with a filesystem mounted from it. Ctrl-C in the middle, as a terminal sends it to
// the whole foreground process group, still undoes all of them.
import t from 'tap';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir, removeTemp, labLeftovers, mountsMentioning, labBin, cgroupParentOf, cgroupsNamed, loopDevicesUnder } from './helpers.js';

const home = tempDir('lesson9');
t.teardown(() => removeTemp(home));

t.test('Ctrl-C while lesson 9 has its loop device cleans up: umount, losetup -d, rm, cgroups', async (t) => {
  const child = spawn(process.execPath, [labBin, 'lesson', '9', '--yes'], {
    env: { ...process.env, NO_COLOR: '1', TMPDIR: home, XDG_DATA_HOME: join(home, 'xdg'), MINI_DOCKER_CGROUP_PARENT: cgroupParentOf(home) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as a shell gives a foreground job
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const loop = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no loop device within 120s:\n${out}`)), 120_000);
    child.stdout.on('data', () => {
      // Interrupt in the step after the disk is made: a container runs on it.
      const m = /LOOP=(\/dev\/loop\d+)[\s\S]*mini-docker run --rm --rootfs "\$DISK"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  t.equal(loopDevicesUnder(home).length, 1, `the lesson attached ${loop}`);
  process.kill(-child.pid!, 'SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 130, 'exits 130 after an interrupt');
  t.match(out, /interrupted: cleaning up/);
  t.notMatch(out, /could not clean up/);
  t.same(loopDevicesUnder(home), [], 'its loop device is detached');
  t.same(mountsMentioning(home), [], 'nothing of it is mounted');
  t.same(labLeftovers(home), [], 'its directory (with the disk image) is removed');
  t.same(cgroupsNamed(cgroupParentOf(home)), [], 'no cgroup of its containers is left');
});
