// Lesson 4: the UTS namespace (hostname) and the IPC namespace (System V IPC, POSIX queues).
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';
import { nsOf } from '../../lib/lab/proc.js';

const MSG_ID = /(?:id|ID):\s*(\d+)/;

export default defineLesson({
  title: 'UTS and IPC namespaces',
  summary: 'A hostname of its own, and System V IPC objects the host cannot see.',
  rootfs: true,
  steps: [
    explain(`
# A hostname of its own

The **UTS namespace** (for *UNIX Time-sharing System*, the struct \`uname(2)\` fills in) holds two
strings: the hostname and the NIS domain name. A process in a new UTS namespace starts with a copy
of its parent's and can change them without the host noticing. \`mini-docker run --hostname\`
creates one (\`CLONE_NEWUTS\`) and calls \`sethostname(2)\` in it before the command starts.`),
    show('the host\'s hostname', 'hostname'),
    run('mini-docker run --rm --hostname lab-box --rootfs "$ROOTFS" hostname'),
    explain('Now keep a container running (`sleep 600` in the background), to look at it from the host.'),
    run('mini-docker run --rm --hostname lab-box --rootfs "$ROOTFS" sleep 600', { background: { as: 'PID', comm: 'sleep' } }),
    show('which UTS namespace each process is in', 'readlink /proc/$PID/ns/uts /proc/self/ns/uts'),
    run('nsenter --target $PID --uts hostname renamed-inside && nsenter --target $PID --uts hostname && hostname', { title: 'Rename the container from the host (nsenter joins only its UTS namespace), then ask both' }),
    check('the container has its own hostname, and the host kept its own', async (ctx) => {
      const pid = Number(ctx.vars.PID);
      if (nsOf(pid, 'uts') === nsOf('self', 'uts')) return fail('the container shares the host\'s UTS namespace: mini-docker did not pass CLONE_NEWUTS');
      const inside = (await ctx.sh('nsenter --target $PID --uts hostname')).stdout.trim();
      const host = (await ctx.sh('hostname')).stdout.trim();
      if (inside !== 'renamed-inside') return fail(`inside, hostname says "${inside}", not renamed-inside`);
      if (host === inside) return fail('the host\'s hostname changed too: the namespaces are not separate');
      return pass(`container: ${inside}, host: ${host}`);
    }),
    question({
      message: 'What does a UTS namespace hold?',
      choices: [
        { name: 'The hostname and the NIS domain name', correct: true },
        { name: 'The hostname and the IP addresses' },
        { name: 'The clock and the time zone' },
      ],
      explanation: 'Only the two strings of `uname -n` and `domainname`. Addresses belong to the network namespace (lesson 7); clocks to the time namespace.',
    }),
    explain(`
# Inter-process communication, partitioned

System V IPC objects (message queues, semaphores, shared memory) are named by a numeric key that
any process can guess; POSIX message queues by a name under \`/dev/mqueue\`. A new **IPC namespace**
(\`CLONE_NEWIPC\`) starts empty, so a container cannot read the host's queues or attach to its
shared memory. \`ipcmk\` makes an object, \`ipcs\` lists them (util-linux, on the host; the static
busybox inside has neither, so we run the host's tools in the container's IPC namespace with
\`nsenter --ipc\`, which joins that namespace only).`),
    run('ipcmk --queue', {
      title: 'A message queue on the host',
      then: (ctx, r) => {
        const id = MSG_ID.exec(r.stdout)?.[1];
        if (!id) throw new Error(`ipcmk printed no queue id: ${r.all}`);
        ctx.vars.HOSTQ = id;
        ctx.defer(`the host's message queue ${id}`, async () => void (await ctx.sh(`ipcrm -q ${id}`)));
      },
    }),
    show('the host\'s queues, then the container\'s', 'ipcs -q; echo "--- in the container\'s IPC namespace:"; nsenter --target $PID --ipc ipcs -q'),
    run('nsenter --target $PID --ipc ipcmk --queue', {
      title: 'A queue made inside the container\'s IPC namespace',
      then: (ctx, r) => {
        ctx.vars.INQ = MSG_ID.exec(r.stdout)?.[1] ?? '';
      },
    }),
    show('/proc/sysvipc/msg lists the queues of the reader\'s IPC namespace', 'echo "host:"; cat /proc/sysvipc/msg; echo "container:"; nsenter --target $PID --ipc cat /proc/sysvipc/msg'),
    check('each side sees only its own queue', async (ctx) => {
      // /proc/sysvipc/msg: a header, then "key msqid ..." per queue. Ids restart at 0 in every
      // namespace, so the queues are told apart by their random keys.
      const queues = (text: string) => text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 2).map((f) => ({ key: f[0]!, id: f[1]! }));
      const host = queues((await ctx.sh('cat /proc/sysvipc/msg')).stdout);
      const inside = queues((await ctx.sh('nsenter --target $PID --ipc cat /proc/sysvipc/msg')).stdout);
      const hostKey = host.find((q) => q.id === ctx.vars.HOSTQ)?.key;
      if (!hostKey) return fail(`the host's queue ${ctx.vars.HOSTQ} is missing from the host's list`);
      if (inside.some((q) => q.key === hostKey)) return fail('the container sees the host\'s queue: it shares the host\'s IPC namespace');
      if (inside.length !== 1) return fail(`expected exactly one queue in the container, found ${inside.length}`);
      if (host.some((q) => q.key === inside[0]!.key)) return fail('the host sees the container\'s queue');
      return pass(`host key ${hostKey}, container key ${inside[0]!.key}: neither sees the other's`);
    }),
    question({
      message: 'The container exits. What happens to the queue made inside it?',
      choices: [
        { name: 'It stays on the host until someone runs ipcrm' },
        { name: 'It is destroyed with the IPC namespace', correct: true },
        { name: 'It moves to the host\'s IPC namespace' },
      ],
      explanation: 'When the last process of an IPC namespace is gone, the kernel frees the namespace and every object in it (`ipc_namespaces(7)`). The host\'s queue is ours to remove: the lesson does it as it cleans up.',
    }),
  ],
});
