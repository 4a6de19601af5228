// The learner's scaffold (container-lab init): what lesson 11 asks them to write.
export default {
  'lesson-11-exec': `/**
 * TODO lesson 11: exec must run the command in the container, not next to it. The shim joins the
 * namespaces of a running process (setns(2) on each /proc/PID/ns/*, then fork, as the pid
 * namespace applies to children) when the plan says so: add \`join: pid\` to the plan returned
 * below. Without it the command starts in the host's namespaces.
 */
export function execPlan(pid: number, env: string[], workdir: string, user: { uid: number; gid: number; groups: number[] }, cmd: string[], tty: boolean, stdin: boolean): ShimPlan {
  const child: Op[] = [
    { op: 'chdir', path: workdir },
    { op: 'setgroups', gids: user.groups },
    { op: 'setgid', gid: user.gid },
    { op: 'setuid', uid: user.uid },
    ...env.map((kv): Op => ({ op: 'env', kv })),
    { op: 'exec', argv: cmd },
  ];
  if (tty) child.unshift({ op: 'console' });
  void pid;
  return { cloneFlags: 0, host: [], child, tty, stdin, debug: explaining() };
}`,
};
