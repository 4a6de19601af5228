// Lesson 5 graded: a PID namespace of its own: the command is PID 1, /proc shows only the
// container's processes, init's signal rules, and orphans re-parented to PID 1.
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';
import { status } from '../../lib/lab/proc.js';

export default defineChecks({
  lesson: 5,
  title: 'PID namespace',
  checks: [
    {
      id: '05-pid-one',
      title: 'the container\'s command is PID 1',
      points: 3,
      hint: 'create the container process with CLONE_NEWPID: the first process of a new PID namespace is its PID 1',
      async run(g) {
        const r = await g.run([], ['sh', '-c', 'echo $$']);
        return r.stdout.trim() === '1' ? passed() : failed(`echo $$ should print 1: ${described(r)}`);
      },
    },
    {
      id: '05-proc-pids',
      title: '/proc in the container lists only the container\'s processes',
      points: 2,
      hint: 'mount a new proc filesystem from inside the new PID namespace: a proc mount shows the PID namespace of whoever mounted it',
      needs: ['05-pid-one'],
      async run(g) {
        const r = await g.run([], ['sh', '-c', 'for p in /proc/[0-9]*; do echo ${p#/proc/}; done']);
        const ps = r.stdout.split('\n').filter(Boolean).map(Number);
        if (!ps.includes(1)) return failed(`PID 1 is not in the container's /proc: ${described(r)}`);
        return ps.length <= 3 ? passed(`pids ${ps.join(' ')}`) : failed(`the container's /proc lists ${ps.length} processes (${ps.slice(0, 10).join(' ')}...): it shows the host's`);
      },
    },
    {
      id: '05-nspid',
      title: 'the host sees the container\'s PID 1 under a PID of its own',
      points: 2,
      hint: 'a process in a child PID namespace has one PID per level: /proc/PID/status NSpid lists them (host first)',
      needs: ['05-pid-one'],
      async run(g) {
        const c = await g.start([], 'true');
        const nspid = status(c.pid, 'NSpid')?.split(/\s+/);
        await c.stop();
        return nspid && nspid.length >= 2 && nspid[nspid.length - 1] === '1' && nspid[0] === String(c.pid)
          ? passed(`NSpid: ${nspid.join(' ')}`)
          : failed(`/proc/${c.pid}/status NSpid is "${nspid?.join(' ')}", expected "${c.pid} 1"`);
      },
    },
    {
      id: '05-init-ignores-term',
      title: 'PID 1 survives a SIGTERM it has no handler for',
      points: 2,
      hint: 'this is the kernel\'s rule for a namespace\'s init (pid_namespaces(7)); it holds when the command really is PID 1 of a new PID namespace',
      needs: ['05-pid-one'],
      async run(g) {
        const t = g.token('alive-');
        const r = await g.run([], ['sh', '-c', `kill -TERM $$; echo ${t}`]);
        return r.code === 0 && r.stdout.includes(t) ? passed() : failed(`PID 1 should have ignored its own SIGTERM and printed ${t}: ${described(r)}`);
      },
    },
    {
      id: '05-orphans-to-init',
      title: 'an orphaned process is re-parented to the container\'s PID 1',
      points: 2,
      hint: 'in a new PID namespace, orphans go to that namespace\'s init: the container\'s PID 1, which must reap them (or run an init such as tini)',
      needs: ['05-pid-one'],
      async run(g) {
        // Poll: under load the subshell may take a moment to exit and orphan its child.
        const script = 'P=$( (sleep 10 >&- 2>&- & echo $!) ); i=0; while [ $i -lt 100 ]; do pp=$(cut -d" " -f4 /proc/$P/stat); [ "$pp" = 1 ] && break; sleep 0.05; i=$((i+1)); done; echo $pp; kill $P';
        const r = await g.run([], ['sh', '-c', script]);
        return r.stdout.trim() === '1' ? passed() : failed(`the orphaned sleep's parent should be 1: ${described(r)}`);
      },
    },
  ],
});
