// Lesson 8: why Node needs a native shim: threads, the sync pipe, the run sequence.
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { status } from '../../lib/lab/proc.js';

export default defineLesson({
  title: 'Why a native shim',
  summary: 'Threads vs unshare/setns, the sync pipe, and the run sequence, in the shim\'s C.',
  rootfs: true,
  steps: [
    explain(`
# Node has threads

The kernel refuses \`unshare(CLONE_NEWUSER)\` and \`setns\` into a mount namespace to a
multithreaded process, and nothing of JavaScript can run between \`fork\` and \`exec\`. Node always
has several threads (V8's compiler and GC, libuv's pool):`),
    run(`node -e 'setTimeout(() => console.log("a node process has " + require("fs").readdirSync("/proc/self/task").length + " threads"), 100)'; echo "this bash has $(ls /proc/$$/task | wc -l) thread"`),
    explain(`
So mini-docker does in TypeScript what needs no special process (images, overlay, state, id maps)
and hands a **list of operations** to \`native/shim/shim.c\`, a single-threaded C program that
clones the container's process and carries the list out. \`--debug\` prints each operation:`),
    run(`mini-docker --debug run --rm --hostname lab --rootfs "$ROOTFS" true 2>&1 | grep '^\\[explain\\]'`),
    explain(`
Read it from the top: the shim takes a mount namespace of its own, prepares mount points, and
\`clone\`s with the \`CLONE_NEW*\` flags. The child then **waits** on the sync pipe while the engine
does what only the outside can do (write the id maps). "go": the child mounts, pivots, names
itself, drops to the container's user and \`execve\`s. \`container-lab read 8\` shows the C.`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('the container\'s process, and its parent the shim (its name says its stage)', 'grep -E "^(Name|Threads)" /proc/$PID/status; cat /proc/$(ps -o ppid= -p $PID | tr -d " ")/comm'),
    check('the process in the container is the command, single-threaded', (ctx) => {
      const t = status(Number(ctx.vars.PID), 'Threads');
      return t === '1' ? pass('Threads: 1 — nothing of Node is in the container') : fail(`Threads: ${t}`);
    }),
    question({
      message: 'Why can\'t Node call unshare(CLONE_NEWUSER) for the container itself?',
      choices: [
        { name: 'The kernel refuses it to a multithreaded process, and Node always has several threads', correct: true },
        { name: 'Node has no FFI' },
        { name: 'Only C programs may create namespaces' },
      ],
      explanation: '`unshare(2)`: CLONE_NEWUSER requires that the calling process is not threaded. runc has the same problem with Go and solves it with C that runs before the Go runtime (nsexec).',
    }),
    question({
      message: 'Why does the cloned child wait on a pipe before doing anything?',
      choices: [
        { name: 'So that the parent can set it up from outside (id maps; later cgroup and network) before any of its code runs', correct: true },
        { name: 'To let the shell prompt return first' },
        { name: 'Because clone is asynchronous' },
      ],
      explanation: 'Some things can only be done after the child exists and only from outside its namespaces. The sync pipe orders them: the command\'s first instruction already sees its final world.',
    }),
  ],
});
