// Lesson 7: an empty network namespace: only lo; the hook for the networking lessons.
import { readFileSync } from 'node:fs';
import { defineLesson, explain, run, show, check, question, pass, fail } from '../../lib/lab/lesson.js';

export default defineLesson({
  title: 'Network namespace',
  summary: 'A network namespace of its own holds only lo, brought up by the engine.',
  rootfs: true,
  steps: [
    explain(`
# An empty network

A network namespace (\`CLONE_NEWNET\`) has its own devices, addresses, routes, firewall and
sockets. A new one holds one device, the loopback \`lo\`, and it is down; the engine brings it up.`),
    show('the host\'s devices', "ip -o link show | awk -F': ' '{print $2}'"),
    run(`mini-docker run --rm --network none --rootfs "$ROOTFS" sh -c 'ip addr; echo "routes:"; ip route'`),
    run(`mini-docker run --rm --network none --rootfs "$ROOTFS" sleep 600`, { background: { as: 'PID', comm: 'sleep' } }),
    show('its network namespace, and its devices read from the host', 'readlink /proc/$PID/ns/net /proc/self/ns/net; cat /proc/$PID/net/dev'),
    check('the container has only lo', (ctx) => {
      const devs = readFileSync(`/proc/${ctx.vars.PID}/net/dev`, 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
      return devs.length === 1 && devs[0] === 'lo' ? pass('devices: lo') : fail(`devices: ${devs.join(', ')}`);
    }),
    run(`mini-docker run --rm --network none --rootfs "$ROOTFS" sh -c 'nc -l -p 8080 > /tmp/got & sleep 0.3; echo "hello over lo" | nc 127.0.0.1 8080; sleep 0.2; cat /tmp/got'`, { title: 'A server and a client over 127.0.0.1, inside' }),
    question({
      message: 'What does a brand-new network namespace contain?',
      choices: [
        { name: 'Only a loopback device, down', correct: true },
        { name: 'A copy of the host\'s devices' },
        { name: 'lo and an eth0 connected to the host' },
      ],
      explanation: 'Nothing else exists until someone creates or moves a device into it. The networking lessons add a veth pair (one end inside as eth0), a bridge, addresses and NAT, set up from outside while the child waits.',
    }),
  ],
});
