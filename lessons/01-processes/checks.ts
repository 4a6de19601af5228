// Lesson 1 graded: a container is a process; the engine passes on its argv, environment, stdio,
// exit status and signals as a plain fork/exec would.
import { defineChecks, passed, failed, described } from '../../lib/lab/grader/check.js';

export default defineChecks({
  lesson: 1,
  title: 'Processes',
  checks: [
    {
      id: '01-exit-code',
      title: "the engine exits with the container's exit code",
      points: 2,
      hint: 'wait for the container process (waitpid) and exit with its status: WEXITSTATUS, or 128+N when killed by signal N',
      async run(g) {
        const n = g.randomInt(3, 120);
        const r = await g.run([], ['sh', '-c', `exit ${n}`]);
        return r.code === n ? passed(`exit ${n}`) : failed(`expected exit code ${n}: ${described(r)}`);
      },
    },
    {
      id: '01-not-found',
      title: 'a command that does not exist gives exit code 127',
      points: 1,
      hint: "when execve fails with ENOENT for every $PATH entry, report it and exit 127 (docker's code for 'command not found'; 126 is 'cannot execute')",
      async run(g) {
        const name = g.token('no-such-command-');
        const r = await g.run([], [name]);
        return r.code === 127 ? passed() : failed(`expected exit code 127 for a missing command: ${described(r)}`);
      },
    },
    {
      id: '01-stdio',
      title: "the container's stdout and stderr reach the engine's, separately",
      points: 2,
      hint: 'give the container process the engine\'s fds 1 and 2 (or relay them); do not merge stderr into stdout without a tty',
      async run(g) {
        const o = g.token('out-');
        const e = g.token('err-');
        const r = await g.run([], ['sh', '-c', `echo ${o}; echo ${e} >&2`]);
        if (r.code !== 0) return failed(described(r));
        if (!r.stdout.includes(o)) return failed(`stdout lacks what the container wrote to fd 1: ${described(r)}`);
        if (r.stdout.includes(e)) return failed(`what the container wrote to fd 2 came out on stdout: ${described(r)}`);
        if (!r.stderr.includes(e)) return failed(`stderr lacks what the container wrote to fd 2: ${described(r)}`);
        return passed();
      },
    },
    {
      id: '01-stdin',
      title: 'with -i, the engine\'s stdin reaches the container',
      points: 2,
      hint: 'with -i (--interactive) keep the container\'s fd 0 connected to the engine\'s stdin; without it, give it /dev/null',
      async run(g) {
        const text = `${g.token('line-')}\n${g.token('line-')}\n`;
        const r = await g.run([], ['cat'], { input: text });
        return r.code === 0 && r.stdout === text ? passed() : failed(`cat should have echoed ${JSON.stringify(text)}: ${described(r)}`);
      },
    },
    {
      id: '01-argv',
      title: 'arguments reach the command exactly, spaces and quotes included',
      points: 2,
      hint: 'pass the arguments after the image (or --rootfs DIR) to execve as they are: no joining with spaces, no shell',
      async run(g) {
        const t = g.token();
        const args = ['two words', "it's", '$HOME', t];
        const r = await g.run([], ['sh', '-c', 'for a in "$@"; do echo "[$a]"; done', 'sh', ...args]);
        const want = args.map((a) => `[${a}]`).join('\n') + '\n';
        return r.stdout === want ? passed() : failed(`expected the lines ${JSON.stringify(want)}: ${described(r)}`);
      },
    },
    {
      id: '01-env',
      title: '-e KEY=VALUE is in the container\'s environment, and PATH is set',
      points: 1,
      hint: 'build the environment from -e flags (plus PATH and HOSTNAME as docker does) and pass it to execve',
      async run(g) {
        const v = g.token('value-');
        const r = await g.run(['-e', `LAB_VALUE=${v}`], ['sh', '-c', 'echo "$LAB_VALUE"; echo "$PATH"']);
        const [value, path] = r.stdout.split('\n');
        if (value !== v) return failed(`LAB_VALUE should be ${v}: ${described(r)}`);
        if (!path || !path.split(':').includes('/bin')) return failed(`PATH should include /bin, it is "${path ?? ''}"`);
        return passed();
      },
    },
    {
      id: '01-signal-proxy',
      title: 'a SIGTERM sent to the engine reaches the container',
      points: 2,
      hint: 'forward the signals the engine receives (SIGTERM, SIGINT, SIGHUP...) to the container process, as docker run does (--sig-proxy)',
      async run(g) {
        const t = g.token('got-term-');
        // The shell waits in `read` once started; the trapped signal interrupts it.
        const c = await g.start([], `trap 'echo ${t}; exit 7' TERM`);
        c.signalEngine('SIGTERM');
        const r = (await c.exited(8000)) ?? (await c.stop());
        return r.code === 7 && r.stdout.includes(t) ? passed() : failed(`the container's TERM trap should have printed ${t} and exited 7: ${described(r)}`);
      },
    },
  ],
});
