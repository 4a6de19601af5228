// `run`: from a request to a running container process, in the order the kernel needs
// (ARCHITECTURE.md, "Starting a container"):
//   create the container's dirs -> resolve its rootfs -> spawn the shim with the plan ->
//   (child waits) write id maps from outside -> "go" -> the child mounts, pivots, execs.
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { EngineError } from '../errors.js';
import { explain, explaining } from '../log.js';
import type { Layout } from '../paths.js';
import { withLock, writeFileAtomic } from '../util/fs.js';
import { cloneFlagsFor, type NamespaceKind } from '../namespaces/namespaces.js';
import { writeIdMaps, hostId, validateIdMappings } from '../namespaces/idmap.js';
import { rootfsOps } from '../rootfs/mounts.js';
import { overlayFits, overlayMountOp } from '../storage/overlay.js';
import type { Op, ShimPlan } from '../runtime/ops.js';
import { startShim, type ShimHandle } from '../runtime/shim.js';
import { CLONE } from '../../../native/libc.js';
import {
  DEFAULT_PATH, mergeEnv, parseEnvFile, parseEnvVar, resolveCommand, validateHostname,
  type ContainerConfig, type ImageRunConfig, type RunRequest,
} from './config.js';
import { generateName, newContainerId, VALID_NAME } from './ids.js';
import { resolveUser, type ResolvedUser } from './user.js';
import {
  containerFiles, createContainerDirs, nameInUse, processStartTime, readState, removeContainerDir, writeState,
} from './store.js';

export interface RunIO {
  /** What the container's process gets as fds 0, 1, 2. */
  stdio?: StdioOptions;
  /** Called once the command runs, e.g. to forward signals to the shim. */
  onStarted?(handle: ShimHandle, config: ContainerConfig): void;
}

/** Where the container's "/" comes from. */
interface Rootfs {
  /** The directory that becomes "/" inside. */
  dir: string;
  /** Image layers (topmost first), when the rootfs is an overlay of an image. */
  lowerdirs?: string[];
  imageConfig: ImageRunConfig;
  imageId?: string;
  imageName: string;
}

const NETWORK_MODES = ['none', 'host', 'default', 'bridge'];

/** Check every flag before anything is made: bad input leaves nothing behind. */
async function validateRequest(req: RunRequest): Promise<void> {
  if (!req.image && !req.rootfs) throw new EngineError('no_image', '"run" requires an image or --rootfs DIR', { hint: 'mini-docker run [OPTIONS] IMAGE [COMMAND] [ARG...]' });
  if (req.rootfs) {
    let st;
    try {
      st = statSync(req.rootfs);
    } catch {
      throw new EngineError('no_rootfs', `rootfs ${req.rootfs} does not exist`, { hint: 'give --rootfs a directory holding a root filesystem (e.g. an unpacked busybox)' });
    }
    if (!st.isDirectory()) throw new EngineError('no_rootfs', `rootfs ${req.rootfs} is not a directory`);
  }
  // Image code is loaded only when an image is used: --rootfs runs skip it.
  if (req.image) (await import('../image/reference.js')).parseReference(req.image); // throws "invalid reference format"
  if (req.name !== undefined && !VALID_NAME.test(req.name)) {
    throw new EngineError('bad_name', `Invalid container name (${req.name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  if (req.hostname !== undefined) validateHostname(req.hostname);
  const net = req.network ?? 'default';
  if (!NETWORK_MODES.includes(net)) {
    throw new EngineError('bad_network', `network ${net} not found`, { hint: 'use --network none or --network host (bridge networks come with the networking lessons)' });
  }
  for (const [flag, v] of [['--pid', req.pid], ['--uts', req.uts], ['--ipc', req.ipc]] as const) {
    if (v !== undefined && v !== 'host' && v !== 'private' && v !== '') {
      throw new EngineError('bad_namespace', `invalid ${flag} mode "${v}"`, { hint: `use ${flag} host to share the host's namespace` });
    }
  }
  if (req.uidMap?.length) validateIdMappings(req.uidMap, '--uidmap');
  if (req.gidMap?.length) validateIdMappings(req.gidMap, '--gidmap');
  if (req.chroot && req.image && !req.rootfs) {
    // allowed: the overlay is still mounted in the shim's own mount namespace
  }
  for (const f of req.envFiles ?? []) parseEnvFile(f);
  for (const e of req.env ?? []) parseEnvVar(e);
}

/** Which namespaces the container gets: all of them, less the ones shared with the host. */
function namespacesFor(req: RunRequest): NamespaceKind[] {
  const ns: NamespaceKind[] = [];
  if (req.pid !== 'host') ns.push('pid');
  if (!req.chroot) ns.push('mnt');
  if (req.uts !== 'host') ns.push('uts');
  if (req.ipc !== 'host') ns.push('ipc');
  if ((req.network ?? 'default') !== 'host') ns.push('net');
  if (req.uidMap?.length || req.gidMap?.length) ns.push('user');
  return ns;
}

async function resolveRootfs(paths: Layout, req: RunRequest): Promise<Rootfs> {
  if (req.rootfs) return { dir: req.rootfs, imageConfig: {}, imageName: req.rootfs };
  const { parseReference } = await import('../image/reference.js');
  const { resolveImage, ensureLayers } = await import('../image/store.js');
  const ref = parseReference(req.image!);
  const image = await resolveImage(paths, req.image!);
  if (!image) {
    throw new EngineError('no_such_image', `Unable to find image '${ref.familiar}' locally`, {
      hint: `build or load it first (mini-docker images lists what is here; the busybox sandbox image comes with set-up)`,
    });
  }
  const lowerdirs = await ensureLayers(paths, image);
  return { dir: '', lowerdirs, imageConfig: image.config.config ?? {}, imageId: image.id, imageName: req.image! };
}

/**
 * In a user namespace the container's root is an unprivileged uid on the host: every directory
 * on the way to its rootfs must let others through (the x bit), or its mounts fail with EACCES.
 */
function checkReachable(dir: string): void {
  for (let p = resolve(dir); p !== '/'; p = dirname(p)) {
    if (!existsSync(p)) continue; // made later, by the engine, with mode 0711
    const st = statSync(p);
    if ((st.mode & 0o001) === 0) {
      throw new EngineError('rootfs_unreachable', `${p} is closed to other users, so a container with --uidmap cannot reach ${dir}`, {
        hint: `chmod o+x ${p} (or keep the data root and rootfs where others may pass)`,
      });
    }
  }
}

/** A file of the container's rootfs, read from the host before anything is mounted. */
function readRootfsFile(rootfs: Rootfs, rel: string): string | undefined {
  const dirs = rootfs.lowerdirs ?? [rootfs.dir];
  for (const d of dirs) {
    const p = join(d, rel);
    try {
      const st = lstatSync(p);
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // an overlay whiteout: deleted above
      return readFileSync(p, 'utf8');
    } catch {
      // not in this layer: look below
    }
  }
  return undefined;
}

function buildConfig(req: RunRequest, rootfs: Rootfs, id: string, name: string, user: ResolvedUser): ContainerConfig {
  const { entrypoint, cmd } = resolveCommand(rootfs.imageConfig, req.entrypoint, req.cmd);
  const hostname = req.hostname ?? id.slice(0, 12);
  const given = mergeEnv(
    (req.envFiles ?? []).flatMap((f) => parseEnvFile(f)),
    (req.env ?? []).map((e) => parseEnvVar(e)).filter((e): e is string => e !== undefined),
  );
  const env = mergeEnv(
    [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`],
    rootfs.imageConfig.Env ?? [],
    req.tty ? ['TERM=xterm'] : [],
    given,
  );
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  return {
    id,
    name,
    created: new Date().toISOString(),
    image: rootfs.imageName,
    imageId: rootfs.imageId,
    rootfs: req.rootfs,
    chroot: !!req.chroot,
    entrypoint,
    cmd,
    env,
    workingDir: req.workdir || rootfs.imageConfig.WorkingDir || '/',
    user: req.user ?? rootfs.imageConfig.User ?? '',
    hostname,
    tty: !!req.tty,
    openStdin: !!req.interactive,
    autoRemove: !!req.autoRemove,
    namespaces: namespacesFor(req),
    network: req.network ?? 'default',
    uidMap: req.uidMap ?? [],
    gidMap: req.gidMap?.length ? req.gidMap : req.uidMap ?? [],
    stopSignal: rootfs.imageConfig.StopSignal,
  };
}

/** mkdir -p of the working directory, component by component, inside the new root. */
function workdirOps(root: string, workingDir: string): Op[] {
  const ops: Op[] = [];
  let p = root;
  for (const part of workingDir.split('/').filter(Boolean)) {
    p = `${p}/${part}`;
    ops.push({ op: 'mkdir', path: p, mode: 0o755 });
  }
  return ops;
}

// #region lesson-08-plan
/** The whole start of a container, as the list of operations the shim carries out. */
export function buildPlan(config: ContainerConfig, rootDir: string, overlay: Op | undefined, user: ResolvedUser, etc: { path: string; source: string }[]): ShimPlan {
  const ns = new Set(config.namespaces);
  const host: Op[] = [
    // The shim's own mount namespace: the rootfs overlay is mounted there, never on the host,
    // and the kernel unmounts it when the last process of the container is gone.
    { op: 'unshare', flags: CLONE.NEWNS },
    { op: 'private', path: '/' },
  ];
  if (overlay) host.push(overlay);
  const fs = rootfsOps({ rootfs: rootDir, chroot: config.chroot, ownNetNs: ns.has('net'), ownIpcNs: ns.has('ipc'), etcFiles: etc });
  host.push(...fs.prepare, ...workdirOps(rootDir, config.workingDir));
  const child: Op[] = [];
  // In a new user namespace the process starts unmapped: become the namespace's root first, so
  // what it mounts and creates is owned by a mapped id (runc does the same).
  if (ns.has('user')) child.push({ op: 'setgid', gid: 0 }, { op: 'setuid', uid: 0 });
  child.push(...fs.mount);
  if (config.tty) child.push({ op: 'console' }); // a pty of the container's own devpts
  if (ns.has('uts')) child.push({ op: 'sethostname', name: config.hostname });
  if (ns.has('net')) child.push({ op: 'ifup', name: 'lo' });
  child.push(
    { op: 'chdir', path: config.workingDir },
    { op: 'setgroups', gids: user.groups },
    { op: 'setgid', gid: user.gid },
    { op: 'setuid', uid: user.uid },
    ...config.env.map((kv): Op => ({ op: 'env', kv })),
    { op: 'exec', argv: [...config.entrypoint, ...config.cmd] },
  );
  return { cloneFlags: cloneFlagsFor(ns), host, child, tty: config.tty, stdin: config.openStdin, debug: explaining() };
}
// #endregion lesson-08-plan

function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    `127.0.1.1\t${hostname}`,
    '',
  ].join('\n');
}

/** Create the container: its directory, config and "created" state. Nothing runs yet. */
export async function createContainer(paths: Layout, req: RunRequest): Promise<{ config: ContainerConfig; rootfs: Rootfs; user: ResolvedUser }> {
  await validateRequest(req);
  const rootfs = await resolveRootfs(paths, req);
  const id = newContainerId();
  const userSpec = req.user ?? rootfs.imageConfig.User ?? '';
  const user = resolveUser(userSpec, readRootfsFile(rootfs, 'etc/passwd'), readRootfsFile(rootfs, 'etc/group'));
  if (req.uidMap?.length && hostId(req.uidMap, user.uid) === undefined) {
    throw new EngineError('bad_idmap', `user ${user.uid} is not mapped by --uidmap`, { hint: 'map the container user, e.g. --uidmap 0:100000:65536' });
  }
  if (req.uidMap?.length || req.gidMap?.length) checkReachable(rootfs.lowerdirs ? paths.containers : rootfs.dir);
  const config = await withLock(paths.lock, () => {
    let name = req.name;
    if (name !== undefined) {
      name = name.replace(/^\//, '');
      const holder = nameInUse(paths, name);
      if (holder) {
        throw new EngineError('name_conflict', `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
    } else {
      for (let i = 0; ; i++) {
        name = generateName(i);
        if (!nameInUse(paths, name)) break;
      }
    }
    const config = buildConfig(req, rootfs, id, name, user);
    createContainerDirs(paths, config, !!rootfs.lowerdirs);
    return config;
  });
  const f = containerFiles(paths, id);
  writeFileAtomic(f.hostname, config.hostname + '\n');
  writeFileAtomic(f.hosts, hostsFile(config.hostname));
  return { config, rootfs, user };
}

/**
 * Run a created container in the foreground: start it, wait for it, record how it ended.
 * Returns the container's exit code (128+N when killed by signal N).
 */
export async function startForeground(paths: Layout, created: { config: ContainerConfig; rootfs: Rootfs; user: ResolvedUser }, io: RunIO = {}): Promise<number> {
  const { config, rootfs, user } = created;
  const f = containerFiles(paths, config.id);
  const rootDir = rootfs.lowerdirs ? f.merged : rootfs.dir;
  let overlay: Op | undefined;
  if (rootfs.lowerdirs) {
    const dirs = { lower: rootfs.lowerdirs, upper: f.upper, work: f.work, merged: f.merged };
    if (!overlayFits(dirs)) throw new EngineError('too_many_layers', 'the image has too many layers for one overlay mount');
    overlay = overlayMountOp(dirs);
  }
  // Files the engine provides in /etc exist only if the image has an /etc to hold them.
  const etc = (rootfs.lowerdirs ?? [rootDir]).some((d) => existsSync(join(d, 'etc')))
    ? [{ path: '/etc/hostname', source: f.hostname }, { path: '/etc/hosts', source: f.hosts }]
    : [];
  const plan = buildPlan(config, rootDir, overlay, user, etc);

  const handle = await startShim(plan, { stdio: io.stdio, title: `${config.id.slice(0, 12)}` });
  try {
    if (config.namespaces.includes('user')) writeIdMaps(handle.pid, config.uidMap, config.gidMap);
  } catch (e) {
    handle.abort();
    await handle.exited;
    recordExit(paths, config.id, 125, (e as Error).message);
    throw new EngineError('idmap_failed', `writing the id maps of pid ${handle.pid} failed: ${(e as Error).message}`, { cause: e });
  }
  writeState(paths, config.id, {
    status: 'running', pid: handle.pid, pidStartTime: processStartTime(handle.pid), shimPid: handle.shim.pid,
    exitCode: 0, startedAt: new Date().toISOString(),
  });
  explain('go', `container ${config.id.slice(0, 12)}: pid ${handle.pid} may exec`);
  try {
    await handle.go();
  } catch (e) {
    recordExit(paths, config.id, (e as EngineError).exitCode ?? 125, (e as Error).message);
    throw e;
  }
  io.onStarted?.(handle, config);
  const code = await handle.exited;
  recordExit(paths, config.id, code);
  return code;
}

function recordExit(paths: Layout, id: string, code: number, error?: string): void {
  const prev = readState(paths, id);
  writeState(paths, id, { ...prev, status: 'exited', pid: 0, exitCode: code, error, finishedAt: new Date().toISOString() });
}

/** docker run in the foreground: create, start, wait, and with --rm remove. */
export async function runForeground(paths: Layout, req: RunRequest, io: RunIO = {}): Promise<number> {
  const created = await createContainer(paths, req);
  try {
    return await startForeground(paths, created, io);
  } finally {
    if (req.autoRemove) removeContainerDir(paths, created.config.id);
  }
}
