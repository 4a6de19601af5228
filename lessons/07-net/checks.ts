// Lesson 7 graded: a network namespace of its own, holding only a working loopback.
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';
import { nsOf } from '../../lib/lab/proc.js';

export default defineChecks({
  lesson: 7,
  title: 'Network namespace',
  checks: [
    {
      id: '07-own-netns',
      title: 'with --network none the container has a network namespace of its own',
      points: 2,
      hint: 'create the container with CLONE_NEWNET',
      async run(g) {
        const c = await g.start(['--network', 'none'], 'true');
        const ns = nsOf(c.pid, 'net');
        await c.stop();
        return ns && ns !== nsOf('self', 'net') ? passed(ns) : failed(`the container's process is in the host's network namespace ${ns}`);
      },
    },
    {
      id: '07-only-lo',
      title: 'its only network device is lo',
      points: 3,
      hint: 'a new network namespace holds only a loopback device: move nothing of the host\'s into it',
      needs: ['07-own-netns'],
      async run(g) {
        const r = await g.run(['--network', 'none'], ['cat', '/proc/net/dev']);
        const devs = r.stdout.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
        return devs.length === 1 && devs[0] === 'lo' ? passed() : failed(`/proc/net/dev in the container lists: ${devs.join(', ') || described(r)}`);
      },
    },
    {
      id: '07-lo-up',
      title: 'lo is up, with 127.0.0.1',
      points: 2,
      hint: 'a new namespace\'s lo starts down: bring it up (SIOCSIFFLAGS with IFF_UP, or ip link set lo up) inside the namespace before exec',
      needs: ['07-only-lo'],
      async run(g) {
        const r = await g.run(['--network', 'none'], ['sh', '-c', 'ip -o link show lo; ip -o -4 addr show lo']);
        if (!/<[^>]*\bUP\b[^>]*>/.test(r.stdout)) return failed(`lo is not up: ${described(r)}`);
        return r.stdout.includes('127.0.0.1') ? passed() : failed(`lo has no 127.0.0.1: ${described(r)}`);
      },
    },
    {
      id: '07-loopback-traffic',
      title: 'a TCP connection over 127.0.0.1 works inside',
      points: 2,
      hint: 'with lo up, the kernel routes 127.0.0.0/8 locally in the namespace',
      needs: ['07-lo-up'],
      async run(g) {
        const t = g.token('hello-');
        const port = g.randomInt(20000, 40000);
        // The client retries until the listener is up; then the listener's output is read.
        const script = `nc -l -p ${port} > /tmp/${t} & L=$!; i=0; until echo ${t} | nc 127.0.0.1 ${port}; do i=$((i+1)); [ $i -gt 100 ] && break; sleep 0.05; done; wait $L; cat /tmp/${t}; rm -f /tmp/${t}`;
        const r = await g.run(['--network', 'none'], ['sh', '-c', script]);
        return r.stdout.includes(t) ? passed() : failed(`the message sent with nc over 127.0.0.1:${port} did not arrive: ${described(r)}`);
      },
    },
  ],
});
