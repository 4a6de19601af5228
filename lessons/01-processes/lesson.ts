// Lesson 1: a container is a process: fork/exec, stdio, exit codes, signals.
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { comm, parentOf } from '../../lib/lab/proc.js';

export default defineLesson({
  title: 'Processes',
  summary: 'fork/exec, stdio, exit codes and signals: what a container really is.',
  rootfs: true,
  steps: [
    explain(`
# A container is a process

A shell runs a command in three steps: \`fork()\` copies the shell, the copy calls \`execve()\` and
becomes the command, and the shell calls \`waitpid()\` to learn how it ended. The status word says
either "exited with N" or "killed by signal N"; shells fold both into one number: N, or 128+N.`),
    run(`sh -c 'exit 3'; echo "exit status: $?"`),
    run(`sleep 30 & echo "started $!"; kill -TERM $!; wait $!; echo "exit status: $? (128 + 15, SIGTERM)"`),
    explain(`
Now the same in a container. \`$ROOTFS\` is a directory with a static busybox (the lab made it);
\`mini-docker run --rootfs\` runs a command with it as its root, in new namespaces. Whatever the
command does, the engine reports it as any parent would: its exit code, its output.`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sh -c 'exit 3'`, { expect: 3 }),
    run(`mini-docker run --rm --rootfs "$ROOTFS" no-such-command`, { expect: 127 }),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sh -c 'echo "to stdout"; echo "to stderr" >&2' 2>/dev/null`, { title: 'stdout and stderr stay apart (stderr thrown away here)' }),
    run(`echo "from the host, through a pipe" | mini-docker run --rm -i --rootfs "$ROOTFS" tr a-z A-Z`, { title: 'With -i, the engine\'s stdin is the container\'s' }),
    explain('Keep one running (`sleep 600`), and look at it from the host: it is in the host\'s process list like any process.'),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('the container\'s process and its parent, the shim', 'ps -o pid,ppid,user,stat,comm -p "$PID,$(ps -o ppid= -p $PID | tr -d " ")"'),
    show('its namespaces, next to this shell\'s', 'readlink /proc/$PID/ns/pid /proc/self/ns/pid /proc/$PID/ns/mnt /proc/self/ns/mnt'),
    check('the container is an ordinary host process, child of the shim', (ctx) => {
      const pid = Number(ctx.vars.PID);
      const parent = parentOf(pid);
      const name = parent ? comm(parent) : undefined;
      if (comm(pid) !== 'sleep') return fail(`process ${pid} is not the container's sleep`);
      return name?.startsWith('shim') ? pass(`pid ${pid}, parent ${parent} (${name})`) : fail(`the parent of ${pid} is ${parent} (${name}), not the shim`);
    }),
    run(`kill -KILL $PID; sleep 0.5; echo "the engine reported the container's end; ps finds: $(ps -o pid= -p $PID || echo nothing)"`),
    question({
      message: 'A container\'s process is killed by SIGKILL (signal 9). What exit code does mini-docker run report?',
      choices: [{ name: '137', correct: true }, { name: '9' }, { name: '1' }, { name: '0' }],
      explanation: 'The status word says "killed by signal 9"; docker, like shells, reports 128 + 9 = 137. A plain `exit 9` would give 9.',
    }),
    explain(`
Signals sent to \`mini-docker run\` (Ctrl-C, \`kill\`) are forwarded to the container's process, as
\`docker run --sig-proxy\` does; the process decides what they mean. Lesson 5 shows the twist:
as PID 1 of its namespace, it ignores signals it has no handler for.`),
  ],
});
