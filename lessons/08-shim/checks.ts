// Lesson 8 graded: what the native shim guarantees. The process in the namespaces is the command
// itself (single-threaded, no runtime inside), and everything the parent sets up from outside
// (the id maps) is in place before the command's first instruction: the sync pipe at work.
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';
import { comm, status } from '../../lib/lab/proc.js';

export default defineChecks({
  lesson: 8,
  title: 'Why a native shim',
  checks: [
    {
      id: '08-exec-single-thread',
      title: 'the container\'s process is the command itself, single-threaded',
      points: 2,
      hint: 'the child of clone must only do syscalls and then execve the command: no runtime (no Node, no Go scheduler) stays in the container',
      async run(g) {
        const c = await g.start([], 'true');
        const threads = status(c.pid, 'Threads');
        const name = comm(c.pid);
        await c.stop();
        return threads === '1' && name === 'sh' ? passed() : failed(`the container's process ${c.pid} is "${name}" with ${threads} threads; expected the command (sh) with 1`);
      },
    },
    {
      id: '08-maps-before-exec',
      title: 'the id maps are written before the command starts (5 starts in a row)',
      points: 3,
      hint: 'the child must wait (e.g. read on a sync pipe) until the parent has written /proc/PID/uid_map and gid_map, and only then setuid and exec; otherwise it may start as the overflow uid 65534',
      needs: ['06-root-inside'],
      async run(g) {
        for (let i = 0; i < 5; i++) {
          const base = 100000 + g.randomInt(1, 400) * 65536;
          const r = await g.run(['--uidmap', `0:${base}:65536`, '--gidmap', `0:${base}:65536`], ['sh', '-c', 'id -u; cat /proc/self/uid_map']);
          const [u, map] = r.stdout.split('\n');
          if (u !== '0' || map?.trim().split(/\s+/)[1] !== String(base)) return failed(`start ${i + 1}: the command's first look at its ids found uid ${u} and map "${map?.trim()}": ${described(r)}`);
        }
        return passed();
      },
    },
  ],
});
