// Every lesson runs end to end without a terminal (--yes: questions answered, checks enforced),
// leaves nothing behind, and records its progress; Ctrl-C in the middle still cleans up.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTemp, lab, labLeftovers, mountsMentioning, labBin, top, cgroupsNamed, cgroupParentOf, loopDevicesUnder } from './helpers.js';
import { isAlive } from '../../lib/lab/proc.js';

const home = tempDir('lessons');
t.teardown(() => removeTemp(home));

const lessons = readdirSync(join(top, 'lessons')).filter((n) => /^\d\d-/.test(n) && existsSync(join(top, 'lessons', n, 'lesson.ts'))).sort();

for (const id of lessons) {
  const n = Number(id.slice(0, 2));
  t.test(`lesson ${n} (${id}) runs with --yes`, async (t) => {
    const r = await lab(['lesson', String(n), '--yes'], home);
    if (r.code !== 0) t.comment(`stdout tail:\n${r.stdout.slice(-3000)}\nstderr:\n${r.stderr.slice(-2000)}`);
    t.equal(r.code, 0, 'exits 0');
    t.match(r.stdout, new RegExp(`Lesson ${n} done`));
    t.notMatch(r.stdout + r.stderr, /internal error|could not clean up/);
    t.same(labLeftovers(home), [], 'its temporary directory is gone');
    t.same(mountsMentioning(`container-lab-lesson${id.slice(0, 2)}`), [], 'nothing of it is mounted');
    t.same(cgroupsNamed(cgroupParentOf(home)), [], 'no cgroup of its containers is left');
    t.same(loopDevicesUnder(home), [], 'no loop device of its is left');
    const progress = JSON.parse(readFileSync(join(home, 'xdg', 'container-lab', 'progress.json'), 'utf8'));
    t.equal(progress.lessons[id]?.status, 'done', 'progress says done');
  });
}

t.test('with --yes, a step that fails stops the lesson with exit 1, and it still cleans up', async (t) => {
  // A temporary directory closed to others: the container's root in lesson 6's user namespace
  // (uid 100000 on the host) cannot reach the rootfs, so the engine refuses the run.
  const closed = tempDir('closed');
  t.teardown(() => removeTemp(closed));
  chmodSync(closed, 0o700);
  const r = await lab(['lesson', '6', '--yes'], closed, { env: { XDG_DATA_HOME: join(home, 'xdg-closed') } });
  t.equal(r.code, 1);
  t.match(r.stdout, /✘ the command exited with 125, expected 0/);
  t.match(r.stderr, /Lesson 6 stopped: step \d+ failed/);
  t.same(labLeftovers(closed), [], 'its directory was removed');
  const progress = JSON.parse(readFileSync(join(home, 'xdg-closed', 'container-lab', 'progress.json'), 'utf8'));
  t.equal(progress.lessons['06-user'].status, 'in-progress', 'progress remembers where it stopped');
});

t.test('a lesson needs a terminal unless --yes', async (t) => {
  const r = await lab(['lesson', '4'], home);
  t.equal(r.code, 1);
  t.match(r.stderr, /needs a terminal/);
  t.match(r.stderr, /--yes/);
});

t.test('bad lesson numbers are explained, without a stack', async (t) => {
  for (const args of [['lesson', '99', '--yes'], ['lesson', 'four', '--yes']]) {
    const r = await lab(args, home);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.stderr, /container-lab: .*lesson/);
    t.notMatch(r.stderr, /\n\s+at /);
  }
});

t.test('Ctrl-C in the middle of a lesson cleans up what it made', async (t) => {
  const child = spawn(process.execPath, [labBin, 'lesson', '4', '--yes'], {
    env: { ...process.env, NO_COLOR: '1', TMPDIR: home, XDG_DATA_HOME: join(home, 'xdg') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (out += d));
  const pid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no background container within 30s:\n${out}`)), 30_000);
    child.stdout.on('data', () => {
      const m = /PID=(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  t.ok(isAlive(pid), 'the lesson\'s container runs');
  const dirs = labLeftovers(home);
  t.equal(dirs.length, 1, 'the lesson has its directory');
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.equal(code, 130, 'exits 130 after an interrupt');
  t.match(out, /interrupted: cleaning up/);
  t.notOk(isAlive(pid), 'its container was stopped');
  t.same(labLeftovers(home), [], 'its directory was removed');
  t.notOk(existsSync(join(home, dirs[0]!)));
});
