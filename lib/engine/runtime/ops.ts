// The list of operations the native shim executes, as plain data. TypeScript decides what a
// container needs; native/shim/shim.c only carries it out, one syscall per operation, in order.
// In explain mode (--debug) the shim prints each call as it makes it.

export type Op =
  | { op: 'unshare'; flags: number }
  | { op: 'private'; path: string }
  | { op: 'mount'; source: string; target: string; fstype: string; flags: number; data?: string; ifExists?: boolean }
  | { op: 'mkdir'; path: string; mode: number }
  | { op: 'touch'; path: string }
  | { op: 'symlink'; target: string; path: string }
  | { op: 'pivot_root'; root: string }
  | { op: 'chroot'; root: string }
  | { op: 'chdir'; path: string }
  | { op: 'sethostname'; name: string }
  | { op: 'ifup'; name: string }
  | { op: 'console' }
  | { op: 'setgroups'; gids: number[] }
  | { op: 'setgid'; gid: number }
  | { op: 'setuid'; uid: number }
  | { op: 'env'; kv: string }
  | { op: 'exec'; argv: string[] };

/** Everything the shim needs to start one container process. */
export interface ShimPlan {
  /** CLONE_NEW* flags for clone(2). */
  cloneFlags: number;
  /** Run in the shim itself before clone: its own mount namespace and the rootfs mount. */
  host: Op[];
  /** Run in the container's process after the engine says "go"; the last one is exec. */
  child: Op[];
  tty: boolean;
  stdin: boolean;
  debug: boolean;
  /** Detached: the shim stays as the container's monitor, keeping its output in `log`
   *  (docker's json-file lines). */
  detach?: { log: string };
  /** Where the shim records the exit code and time when the container's process ends. */
  exitFile?: string;
  /** exec: instead of creating namespaces, join those of this running process, then fork. */
  join?: number;
  /** What the monitor executes once the container exited (the engine's restart decision). */
  onExit?: string[];
}

function escape(field: string): string {
  return field.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}

function fields(op: Op): (string | number)[] {
  switch (op.op) {
    case 'unshare': return ['unshare', op.flags];
    case 'private': return ['private', op.path];
    case 'mount': return [op.ifExists ? 'mount-if-exists' : 'mount', op.source, op.target, op.fstype, op.flags, op.data ?? ''];
    case 'mkdir': return ['mkdir', op.path, op.mode.toString(8)];
    case 'touch': return ['touch', op.path];
    case 'symlink': return ['symlink', op.target, op.path];
    case 'pivot_root': return ['pivot_root', op.root];
    case 'chroot': return ['chroot', op.root];
    case 'chdir': return ['chdir', op.path];
    case 'sethostname': return ['sethostname', op.name];
    case 'ifup': return ['ifup', op.name];
    case 'console': return ['console'];
    case 'setgroups': return ['setgroups', ...op.gids];
    case 'setgid': return ['setgid', op.gid];
    case 'setuid': return ['setuid', op.uid];
    case 'env': return ['env', op.kv];
    case 'exec': return ['exec', ...op.argv];
  }
}

/** The plan as the shim reads it on fd 3 (see the protocol comment in native/shim/shim.c). */
export function encodePlan(plan: ShimPlan): string {
  const lines = [
    `option\tdebug\t${plan.debug ? 1 : 0}`,
    `option\tstdin\t${plan.stdin ? 1 : 0}`,
    `option\ttty\t${plan.tty ? 1 : 0}`,
    `option\tclone\t${plan.cloneFlags >>> 0}`,
    ...(plan.detach ? [`option\tdetach\t1`, `option\tlog\t${escape(plan.detach.log)}`] : []),
    ...(plan.exitFile ? [`option\texitfile\t${escape(plan.exitFile)}`] : []),
    ...(plan.join ? [`option\tjoin\t${plan.join}`] : []),
    ...(plan.onExit?.length ? [['onexit', ...plan.onExit].map(escape).join('\t')] : []),
    ...plan.host.map((op) => ['host', ...fields(op)].map((f) => escape(String(f))).join('\t')),
    ...plan.child.map((op) => ['child', ...fields(op)].map((f) => escape(String(f))).join('\t')),
    'end',
  ];
  return lines.join('\n') + '\n';
}
