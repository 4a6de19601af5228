// Lesson 5: the PID namespace: PID 1, /proc, init's signal rules, orphans and zombies.
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { status } from '../../lib/lab/proc.js';

export default defineLesson({
  title: 'PID namespace',
  summary: 'PID 1, /proc, why PID 1 ignores SIGTERM, and who reaps the zombies.',
  rootfs: true,
  steps: [
    explain(`
# Numbering afresh

A PID namespace (\`CLONE_NEWPID\`) numbers its processes from 1. The host still sees them, under
its own numbers: a process has one PID per level of namespaces (\`NSpid\` in \`/proc/PID/status\`).`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sh -c 'echo "my PID: $$"; ps'`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('the same process, seen from the host', 'grep -E "^(Name|Pid|NSpid)" /proc/$PID/status'),
    check('the container\'s process is PID 1 inside, another PID outside', (ctx) => {
      const nspid = status(Number(ctx.vars.PID), 'NSpid')?.split(/\s+/) ?? [];
      return nspid.length === 2 && nspid[1] === '1' ? pass(`NSpid: ${nspid.join(' ')}`) : fail(`NSpid is "${nspid.join(' ')}"`);
    }),
    explain(`
# PID 1 is special

The kernel protects a namespace's init as it protects the machine's: signals without a handler are
not delivered to it, from inside its namespace or from the host, except SIGKILL and SIGSTOP from
an ancestor namespace (\`pid_namespaces(7)\`).`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sh -c 'kill -TERM $$; echo "still alive: PID 1 has no handler for SIGTERM"'`),
    run(`kill -TERM $PID; sleep 0.5; ps -o pid,stat,comm -p $PID`, { title: 'SIGTERM from the host: ignored too' }),
    run(`kill -KILL $PID; sleep 0.5; ps -o pid,stat,comm -p $PID || echo "gone: SIGKILL from the host always gets through"`, { expect: 'any' }),
    explain(`
# Orphans and zombies

When a process's parent dies, the kernel gives it to PID 1 of its namespace, which must \`wait()\`
for it when it ends; until then it is a **zombie** (state Z). Here PID 1 is \`tail\`, which never
waits: the orphaned \`sleep 1\` ends and stays a zombie.`),
    run(`mini-docker run --rm --rootfs "$ROOTFS" sh -c '(sleep 1 >&- 2>&- &); exec tail -f /dev/null'`, { background: { as: 'INIT', comm: 'tail' } }),
    show('the container\'s processes after 1.5 s: the orphan is a zombie child of PID 1', 'sleep 1.5; ps -o pid,ppid,stat,comm --ppid $INIT; grep NSpid /proc/$INIT/status'),
    question({
      message: 'Who must reap an orphaned process that ends inside a container?',
      choices: [
        { name: 'The container\'s PID 1', correct: true },
        { name: 'The host\'s init (systemd)' },
        { name: 'The engine, mini-docker' },
      ],
      explanation: 'Orphans are re-parented to the init of their PID namespace. A PID 1 that never calls `wait()` (a server, `tail`) collects zombies; `docker run --init` puts a tiny init (tini) in front that reaps them and forwards signals.',
    }),
    question({
      message: '`docker stop` sends SIGTERM, waits 10 seconds, then sends SIGKILL. Why does a shell script as PID 1 often take the full 10 seconds?',
      choices: [
        { name: 'PID 1 ignores SIGTERM unless it installs a handler (trap)', correct: true },
        { name: 'Shells block all signals' },
        { name: 'SIGTERM is not forwarded into PID namespaces' },
      ],
      explanation: 'For PID 1 the default action of SIGTERM is "ignore", by the kernel\'s rule for init. `trap \'exit 0\' TERM` (or an init such as tini) makes it stop at once.',
    }),
  ],
});
