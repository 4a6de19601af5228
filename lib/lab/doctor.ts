// `container-lab doctor` (lesson 0): does this machine have what the lab needs? One line per
// fact, read from the kernel, with what to do when it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { withCleanup, type CleanupStack } from './cleanup.js';
import { findStaticBusybox } from './rootfs.js';
import { makeLabDir, removeLabDir } from './tempdir.js';
import { repoRoot } from './paths.js';
import { c, out } from './ui.js';
import { cgroupInfo, type CgroupInfo } from '../engine/cgroups/detect.js';

export interface Finding {
  name: string;
  /** pass; fail (the lab cannot work without it); warn (a later lesson or a test needs it); info */
  status: 'pass' | 'fail' | 'warn' | 'info';
  detail: string;
  /** What to do, when it is not a pass. */
  fix?: string;
}

const NAMESPACES: [string, string][] = [
  ['mnt', 'mount points (lesson 3)'],
  ['uts', 'hostname (lesson 4)'],
  ['ipc', 'System V IPC, POSIX queues (lesson 4)'],
  ['pid', 'process ids (lesson 5)'],
  ['user', 'user and group ids (lesson 6)'],
  ['net', 'network devices, addresses, routes (lesson 7)'],
  ['cgroup', 'cgroup root view'],
  ['time', 'boot and monotonic clocks'],
];

function sh(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), missing: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT' };
}

function checkRoot(): Finding {
  const uid = process.getuid?.();
  return uid === 0
    ? { name: 'root', status: 'pass', detail: 'running as root (uid 0)' }
    : { name: 'root', status: 'fail', detail: `running as uid ${uid}`, fix: 'run the lab as root: sudo container-lab ... (it creates namespaces and mounts)' };
}

function checkKernel(): Finding {
  const r = release();
  const [maj = 0, min = 0] = r.split('.').map((x) => parseInt(x, 10));
  const ok = maj > 5 || (maj === 5 && min >= 4);
  return ok
    ? { name: 'kernel', status: 'pass', detail: `Linux ${r}` }
    : { name: 'kernel', status: 'fail', detail: `Linux ${r} is older than 5.4`, fix: 'use a machine with a kernel 5.4 or newer (overlayfs, cgroup v2 and user namespaces as the lab uses them)' };
}

function checkNamespaces(): Finding[] {
  return NAMESPACES.map(([kind, what]) => {
    const link = `/proc/self/ns/${kind}`;
    if (!existsSync(link)) {
      return { name: `namespace ${kind}`, status: kind === 'time' || kind === 'cgroup' ? 'warn' : 'fail', detail: `${link} is missing`, fix: `the kernel was built without CONFIG_${kind.toUpperCase()}_NS: use a distribution kernel` } as Finding;
    }
    if (kind === 'user') {
      const max = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim());
      if (max === 0) return { name: 'namespace user', status: 'fail', detail: 'user.max_user_namespaces is 0', fix: 'sysctl -w user.max_user_namespaces=15000' };
    }
    return { name: `namespace ${kind}`, status: 'pass', detail: what };
  });
}

/** The cgroup version, the controllers and the features that vary by kernel, as the engine detects them. */
function checkCgroups(): Finding[] {
  let info: CgroupInfo;
  try {
    info = cgroupInfo();
  } catch (e) {
    return [{ name: 'cgroups', status: 'fail', detail: (e as Error).message, fix: (e as { hint?: string }).hint ?? 'mount cgroup2 on /sys/fs/cgroup (mount -t cgroup2 none /sys/fs/cgroup)' }];
  }
  const kind =
    info.version === 2
      ? `v2: one unified tree at ${info.root}`
      : info.hybrid
        ? `v1, hybrid: a hierarchy per controller under ${info.root}, and a cgroup2 tree at ${info.unified!.path} (controllers: ${info.unified!.controllers.join(' ') || 'none'})`
        : `v1: a hierarchy per controller under ${info.root}`;
  const found: Finding[] = [{ name: 'cgroups', status: 'pass', detail: `${kind}; the engine uses its v${info.version} driver` }];
  const need = ['memory', 'cpu', 'pids', info.version === 1 ? 'blkio' : 'io'];
  const missing = need.filter((n) => !info.controllers.includes(n));
  const controllers = `${info.controllers.join(' ')}${info.version === 1 ? ' (each its own hierarchy)' : ''}`;
  found.push(
    missing.length
      ? { name: 'cgroup controllers', status: 'warn', detail: controllers, fix: `${missing.join(', ')} missing: the cgroups lesson (9) needs ${missing.length > 1 ? 'them' : 'it'}${info.version === 2 ? ` (enable in ${info.root}/cgroup.subtree_control)` : ''}` }
      : { name: 'cgroup controllers', status: 'pass', detail: controllers },
  );
  const f = info.features;
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  found.push({
    name: 'cgroup features',
    status: f.freezer ? 'info' : 'warn',
    detail: `freezer (pause) ${yes(f.freezer)}, OOM-kill counter ${yes(f.oomKillCounter)}, swap accounting ${yes(f.swapAccounting)}, cgroup.kill ${yes(f.cgroupKill)}, proportional IO weight (--blkio-weight) ${yes(f.ioWeight)}`,
    fix: f.freezer ? undefined : 'no freezer: pause needs the v1 freezer controller or cgroup.freeze (Linux 5.2)',
  });
  return found;
}

function filesystems(): string[] {
  return readFileSync('/proc/filesystems', 'utf8').split('\n').map((l) => l.trim().split(/\s+/).pop()!).filter(Boolean);
}

function checkOverlay(): Finding {
  if (filesystems().includes('overlay')) return { name: 'overlayfs', status: 'pass', detail: 'overlay is in /proc/filesystems (image layers, lesson 10)' };
  const m = sh('modprobe', ['overlay']);
  if (m.ok && filesystems().includes('overlay')) return { name: 'overlayfs', status: 'pass', detail: 'overlay (module loaded now with modprobe)' };
  return { name: 'overlayfs', status: 'fail', detail: 'overlay is not in /proc/filesystems', fix: 'modprobe overlay (or use a kernel with CONFIG_OVERLAY_FS)' };
}

function checkAufs(): Finding {
  return filesystems().includes('aufs')
    ? { name: 'aufs', status: 'info', detail: 'AUFS is present; the lab still uses overlay, its successor in mainline Linux' }
    : {
        name: 'aufs',
        status: 'info',
        detail: 'not here, and that is expected: AUFS, Docker\'s first layered filesystem, was never merged into mainline Linux; overlayfs (merged in 3.18) took its place, and the lab uses overlay',
      };
}

/** bridge and veth, tried for real in a network namespace made for it and deleted after. */
function checkLinks(stack: CleanupStack): Finding[] {
  const ns = `container-lab-doctor-${randomBytes(3).toString('hex')}`;
  const add = sh('ip', ['netns', 'add', ns]);
  if (add.missing) return [{ name: 'bridge, veth', status: 'fail', detail: 'the ip command is missing', fix: 'apt-get install -y iproute2' }];
  if (!add.ok) return [{ name: 'bridge, veth', status: 'fail', detail: `ip netns add failed: ${add.out}`, fix: 'run as root on a kernel with network namespaces' }];
  stack.defer(`the network namespace ${ns}`, () => void sh('ip', ['netns', 'delete', ns]));
  const br = sh('ip', ['-n', ns, 'link', 'add', 'clab-br0', 'type', 'bridge']);
  const veth = sh('ip', ['-n', ns, 'link', 'add', 'clab-v0', 'type', 'veth', 'peer', 'name', 'clab-v1']);
  const found: Finding[] = [
    br.ok
      ? { name: 'bridge', status: 'pass', detail: `created a bridge in a throwaway network namespace (${ns})` }
      : { name: 'bridge', status: 'fail', detail: `ip link add type bridge: ${br.out}`, fix: 'modprobe bridge (CONFIG_BRIDGE)' },
    veth.ok
      ? { name: 'veth', status: 'pass', detail: 'created a veth pair in the same namespace' }
      : { name: 'veth', status: 'fail', detail: `ip link add type veth: ${veth.out}`, fix: 'modprobe veth (CONFIG_VETH)' },
  ];
  const ipt = sh('iptables', ['--version']);
  if (ipt.missing) {
    found.push({ name: 'iptables', status: 'warn', detail: 'iptables is missing', fix: 'apt-get install -y iptables (the NAT and port mapping lessons need it)' });
  } else {
    const list = sh('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', '-t', 'nat', '-S']);
    found.push(
      list.ok
        ? { name: 'iptables', status: 'pass', detail: `${ipt.out.split('\n')[0]}; the nat table works (tried in ${ns})` }
        : { name: 'iptables', status: 'warn', detail: `iptables -t nat -S failed: ${list.out}`, fix: 'load the netfilter modules (modprobe iptable_nat or nf_tables)' },
    );
  }
  return found;
}

function checkCompiler(stack: CleanupStack): Finding {
  const v = sh('cc', ['--version']);
  if (v.missing) return { name: 'C compiler', status: 'fail', detail: 'cc is missing (the native shim is C)', fix: 'apt-get install -y gcc libc6-dev' };
  const dir = makeLabDir('doctor');
  stack.defer(`the directory ${dir}`, () => removeLabDir(dir));
  writeFileSync(join(dir, 't.c'), 'int main(void) { return 0; }\n');
  const st = sh('cc', ['-static', '-o', join(dir, 't'), join(dir, 't.c')]);
  const first = v.out.split('\n')[0];
  return st.ok
    ? { name: 'C compiler', status: 'pass', detail: `${first}; static linking works (lesson 2 compiles a static program)` }
    : { name: 'C compiler', status: 'warn', detail: `${first}; but cc -static fails`, fix: 'apt-get install -y libc6-dev (static libc, for the chroot escape program of lesson 2)' };
}

function checkBusybox(): Finding {
  const bb = findStaticBusybox();
  return bb
    ? { name: 'busybox-static', status: 'pass', detail: `${bb} is statically linked (the rootfs of the first lessons)` }
    : { name: 'busybox-static', status: 'fail', detail: 'no static busybox', fix: 'apt-get install -y busybox-static' };
}

function checkShim(): Finding {
  const shim = join(repoRoot, 'native/shim/build/mini-docker-shim');
  return existsSync(shim)
    ? { name: 'native shim', status: 'pass', detail: 'native/shim/build/mini-docker-shim is built' }
    : { name: 'native shim', status: 'fail', detail: 'the native shim is not compiled', fix: 'npm run build (compiles native/shim/shim.c with cc)' };
}

function checkOptional(): Finding[] {
  const f: Finding[] = [];
  for (const [cmd, flag, why, pkg] of [
    ['podman', '--version', 'graded against, next to mini-docker', 'podman runc'],
    ['tmux', '-V', 'the terminal tests', 'tmux'],
    ['nsenter', '--version', 'lessons enter namespaces with it', 'util-linux'],
    ['ipcmk', '--version', 'lesson 4 makes System V IPC objects', 'util-linux'],
  ] as const) {
    const r = sh(cmd, [flag]);
    f.push(r.missing ? { name: cmd, status: 'warn', detail: `not installed (${why})`, fix: `apt-get install -y ${pkg}` } : { name: cmd, status: 'pass', detail: r.out.split('\n')[0]! });
  }
  return f;
}

export async function doctorFindings(stack: CleanupStack): Promise<Finding[]> {
  return [
    checkRoot(),
    checkKernel(),
    ...checkNamespaces(),
    ...checkCgroups(),
    checkOverlay(),
    checkAufs(),
    ...(process.getuid?.() === 0 ? checkLinks(stack) : [{ name: 'bridge, veth', status: 'fail', detail: 'not tried: needs root', fix: 'run as root' } as Finding]),
    checkCompiler(stack),
    checkBusybox(),
    checkShim(),
    ...checkOptional(),
  ];
}

export function formatFinding(f: Finding): string {
  const m = { pass: c.green('✔'), fail: c.red('✘'), warn: c.yellow('!'), info: c.cyan('i') }[f.status];
  const line = `${m} ${f.name.padEnd(18)} ${f.status === 'pass' ? f.detail : f.status === 'info' ? c.dim(f.detail) : c.bold(f.detail)}`;
  return f.fix ? `${line}\n  ${' '.repeat(19)}${c.dim('→ ' + f.fix)}` : line;
}

export async function runDoctor(): Promise<number> {
  return withCleanup(async (stack) => {
    out(c.bold('container-lab doctor: what this machine offers the lab\n'));
    const findings = await doctorFindings(stack);
    for (const f of findings) out(formatFinding(f));
    const failed = findings.filter((f) => f.status === 'fail');
    const warned = findings.filter((f) => f.status === 'warn');
    out('');
    if (failed.length) out(c.red(`${failed.length} thing(s) the lab cannot do without: see the → lines.`));
    else out(c.green(`Ready for the lab.`) + (warned.length ? c.dim(` (${warned.length} warning(s): later lessons or tests need them)`) : ''));
    return failed.length ? 1 : 0;
  });
}

export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}
