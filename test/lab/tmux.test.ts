// container-lab in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
// The menu shows, a chapter renders (through less), and lesson 4 completes with key presses.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tempDir, removeTemp, labBin, labLeftovers } from './helpers.js';

const hasTmux = !spawnSync('tmux', ['-V']).error;

t.test('driving container-lab in tmux', { skip: hasTmux ? false : 'tmux is not installed' }, async (t) => {
  const home = tempDir('tmux');
  const session = `mdtest-${randomBytes(3).toString('hex')}`;
  const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
  t.teardown(() => {
    tmux('kill-session', '-t', session);
    removeTemp(home);
  });
  const cmd = `env TMPDIR=${home} XDG_DATA_HOME=${home}/xdg TERM=xterm-256color ${process.execPath} ${labBin}; echo EXITED-$?; sleep 600`;
  t.equal(tmux('new-session', '-d', '-s', session, '-x', '110', '-y', '40', cmd).status, 0, 'tmux session started');
  const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
  const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
  const waitFor = async (re: RegExp, ms = 20_000): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const s = screen();
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`the screen never showed ${re}:\n${s}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  const menu = await waitFor(/\? Lessons/);
  t.match(menu, /4 {2}UTS and IPC namespaces +○ not started/, 'the menu lists the lessons with progress marks');
  t.match(menu, /8 {2}Why a native shim/);

  // Lesson 3 -> Read the chapter: less shows it; q returns to the menu.
  keys('Down', 'Down', 'Down', 'Enter');
  await waitFor(/Lesson 3 · Mount namespace and pivot_root[\s\S]*Read the chapter/);
  keys('Enter');
  const chapter = await waitFor(/Propagation: make it private first/);
  t.match(chapter, /From lib\/engine\/rootfs\/mounts\.ts/, 'the chapter renders, with an excerpt of the engine');
  keys('q');
  await waitFor(/❯ +3 {2}Mount namespace/);

  // Lesson 4 -> Run: Enter through the steps (and the questions) until it is done.
  keys('Down', 'Enter');
  await waitFor(/Lesson 4 · UTS and IPC namespaces[\s\S]*Run the lesson/);
  keys('Down', 'Enter');
  await waitFor(/── 1\/16/);
  let done = '';
  for (let i = 0; i < 60 && !done; i++) {
    const s = screen();
    if (/Lesson 4 done/.test(s)) done = s;
    else {
      keys('Enter');
      await new Promise((r) => setTimeout(r, 700));
    }
  }
  t.ok(done, 'lesson 4 completed with key presses');
  t.match(done, /Lesson 4 done \(2 of 2 checks passed this run\)/, 'its checks passed');
  const after = await waitFor(/4 {2}UTS and IPC namespaces +✔ done/);
  t.ok(after, 'back in the menu, lesson 4 is marked done');
  const progress = JSON.parse(readFileSync(join(home, 'xdg', 'container-lab', 'progress.json'), 'utf8'));
  t.equal(progress.lessons['04-uts-ipc'].status, 'done');

  // From lesson 4 down to "Quit", below the last lesson (however many lessons there are now).
  const lessonCount = readdirSync(join(labBin, '..', '..', 'lessons')).filter((n) => /^\d\d-/.test(n)).length;
  keys(...Array.from({ length: lessonCount - 4 }, () => 'Down'), 'Enter');
  await waitFor(/EXITED-0/);
  t.same(labLeftovers(home), [], 'the lesson cleaned up');
});
