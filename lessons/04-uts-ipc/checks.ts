// Lesson 4 graded: a hostname of its own (UTS namespace) and IPC objects of its own.
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';
import { nsOf } from '../../lib/lab/proc.js';

/** The keys of the System V message queues of the reader's IPC namespace. */
function queueKeys(text: string): string[] {
  return text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)[0]!).filter((k) => /^-?\d+$/.test(k));
}

export default defineChecks({
  lesson: 4,
  title: 'UTS and IPC namespaces',
  checks: [
    {
      id: '04-hostname',
      title: '--hostname sets the container\'s hostname, and only the container\'s',
      points: 3,
      hint: 'create the container with CLONE_NEWUTS and call sethostname(2) in it before exec',
      async run(g) {
        const before = hostname();
        const h = g.token('host-');
        const r = await g.run(['--hostname', h], ['sh', '-c', 'hostname; cat /proc/sys/kernel/hostname']);
        const after = hostname();
        if (after !== before) {
          spawnSync('hostname', [before]); // put the host's name back
          return failed(`the host's hostname changed from ${before} to ${after}: the container shares the host's UTS namespace`);
        }
        return r.stdout === `${h}\n${h}\n` ? passed(h) : failed(`hostname inside should be ${h}: ${described(r)}`);
      },
    },
    {
      id: '04-own-uts-ns',
      title: 'the container has a UTS namespace of its own',
      points: 1,
      hint: 'pass CLONE_NEWUTS to clone(2)',
      needs: ['04-hostname'],
      async run(g) {
        const c = await g.start(['--hostname', g.token('host-')], 'true');
        const ns = nsOf(c.pid, 'uts');
        await c.stop();
        return ns && ns !== nsOf('self', 'uts') ? passed(ns) : failed(`the container's process is in the host's UTS namespace ${ns}`);
      },
    },
    {
      id: '04-ipc-isolated',
      title: 'the host\'s System V message queue is invisible in the container',
      points: 3,
      hint: 'create the container with CLONE_NEWIPC: a new IPC namespace starts with no queues, semaphores or shared memory',
      needs: ['host:ipcmk'],
      async run(g) {
        const mk = spawnSync('ipcmk', ['-Q'], { encoding: 'utf8' });
        const id = /(\d+)\s*$/.exec(mk.stdout.trim())?.[1];
        if (mk.status !== 0 || !id) return failed(`ipcmk -Q on the host failed: ${mk.stderr}`);
        g.defer(`message queue ${id}`, () => void spawnSync('ipcrm', ['-q', id]));
        const line = readFileSync('/proc/sysvipc/msg', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === id);
        const key = line?.[0];
        if (!key) return failed(`the queue ${id} made on the host is not in the host's /proc/sysvipc/msg`);
        const r = await g.run([], ['cat', '/proc/sysvipc/msg']);
        if (r.code !== 0 || !r.stdout.includes('msqid')) return failed(`cannot read /proc/sysvipc/msg in the container: ${described(r)}`);
        return queueKeys(r.stdout).includes(key) ? failed(`the container lists the host's queue (key ${key}): it shares the host's IPC namespace`) : passed(`host queue key ${key} not visible`);
      },
    },
  ],
});
