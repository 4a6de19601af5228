// create: from a request (docker run's flags) to a container on disk, with nothing running yet.
// Every flag is checked before anything is made: bad input leaves nothing behind.
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import type { NamespaceKind } from '../namespaces/namespaces.js';
import { hostId, validateIdMappings } from '../namespaces/idmap.js';
import {
  DEFAULT_PATH, mergeEnv, parseEnvFile, parseEnvVar, parseRestartPolicy, resolveCommand, validateHostname,
  type ContainerConfig, type RunRequest,
} from './config.js';
import { generateName, newContainerId, VALID_NAME } from './ids.js';
import { resolveUser, type ResolvedUser } from './user.js';
import { claimName, containerFiles, createContainerDirs, nameInUse, readConfig, releaseName, removeContainerDir } from './store.js';
import { findContainer } from './lookup.js';
import { cgroupParent, driverFor } from './cgroup.js';
import { readRootfsFile, rootfsForRequest, type Rootfs } from './rootfs-source.js';

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
  if ((req.uidMap?.length || req.gidMap?.length) && (req.chroot || req.pid === 'host')) {
    // The kernel mounts /proc for a user namespace only if it owns the pid namespace too.
    throw new EngineError('conflicting_options', `--uidmap cannot be combined with ${req.chroot ? '--chroot' : '--pid host'}`, {
      hint: 'a user namespace needs its own mount and pid namespaces: drop one of the two flags',
    });
  }
  if (req.gidMap?.length) validateIdMappings(req.gidMap, '--gidmap');
  for (const f of req.envFiles ?? []) parseEnvFile(f);
  parseRestartPolicy(req.restart ?? 'no');
  // A limit this host's cgroups cannot enforce is refused now, before anything exists.
  if (req.limits && Object.keys(req.limits).length) driverFor(cgroupParent(req.cgroupParent)).validate(req.limits);
  if (req.restart && req.restart !== 'no' && req.autoRemove) {
    throw new EngineError('conflicting_options', 'Conflicting options: --restart and --rm', { hint: 'a container removed when it exits cannot be restarted' });
  }
  for (const e of req.env ?? []) parseEnvVar(e);
}

/** Which namespaces the container gets: all of them, less the ones shared with the host. */
function namespacesFor(req: RunRequest): NamespaceKind[] {
  const ns: NamespaceKind[] = [];
  // #region lesson-05-pid-ns
  if (req.pid !== 'host') ns.push('pid');
  // #endregion lesson-05-pid-ns
  if (!req.chroot) ns.push('mnt');
  // #region lesson-04-uts-ipc-ns
  if (req.uts !== 'host') ns.push('uts');
  if (req.ipc !== 'host') ns.push('ipc');
  // #endregion lesson-04-uts-ipc-ns
  // #region lesson-07-net-ns
  if ((req.network ?? 'default') !== 'host') ns.push('net');
  // #endregion lesson-07-net-ns
  // #region lesson-06-user-ns
  if (req.uidMap?.length || req.gidMap?.length) ns.push('user');
  // #endregion lesson-06-user-ns
  return ns;
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
    restartPolicy: parseRestartPolicy(req.restart ?? 'no'),
    limits: req.limits ?? {},
    cgroupParent: cgroupParent(req.cgroupParent),
  };
}

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
export async function createContainer(paths: Layout, req: RunRequest): Promise<ContainerConfig> {
  await validateRequest(req);
  const rootfs = await rootfsForRequest(paths, req);
  const id = newContainerId();
  const userSpec = req.user ?? rootfs.imageConfig.User ?? '';
  const user = resolveUser(userSpec, readRootfsFile(rootfs, 'etc/passwd'), readRootfsFile(rootfs, 'etc/group'));
  if (req.uidMap?.length && hostId(req.uidMap, user.uid) === undefined) {
    throw new EngineError('bad_idmap', `user ${user.uid} is not mapped by --uidmap`, { hint: 'map the container user, e.g. --uidmap 0:100000:65536' });
  }
  if (req.uidMap?.length || req.gidMap?.length) checkReachable(rootfs.lowerdirs ? paths.containers : rootfs.dir);
  // The directory first, then the name: a name always points to a container that exists.
  const provisional = buildConfig(req, rootfs, id, '', user);
  createContainerDirs(paths, provisional, !!rootfs.lowerdirs);
  let name: string;
  try {
    name = takeName(paths, id, req.name);
  } catch (e) {
    removeContainerDir(paths, id);
    throw e;
  }
  const config = { ...provisional, name };
  writeJsonAtomic(containerFiles(paths, id).config, config);
  const f = containerFiles(paths, id);
  writeFileAtomic(f.hostname, config.hostname + '\n');
  writeFileAtomic(f.hosts, hostsFile(config.hostname));
  return config;
}


function conflict(name: string, holder: string, exitCode = 125): EngineError {
  return new EngineError('name_conflict', `Conflict. The container name "/${name}" is already in use by container "${holder}". You have to remove (or rename) that container to be able to reuse that name.`, { exitCode });
}

/** --name, or docker's generated adjective_surname: taken atomically (see claimName). */
function takeName(paths: Layout, id: string, wanted: string | undefined): string {
  if (wanted !== undefined) {
    const name = wanted.replace(/^\//, '');
    if (!claimName(paths, name, id)) throw conflict(name, nameInUse(paths, name) ?? 'another container');
    return name;
  }
  for (let i = 0; ; i++) {
    const name = generateName(i);
    if (claimName(paths, name, id)) return name;
  }
}

/** rename: the new name is claimed before the old one is given back. */
export async function renameContainer(paths: Layout, ref: string, newName: string): Promise<void> {
  const name = newName.replace(/^\//, '');
  if (!VALID_NAME.test(name)) throw new EngineError('bad_name', `Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { exitCode: 1 });
  const id = findContainer(paths, ref);
  const config = readConfig(paths, id);
  if (config.name === name) throw new EngineError('same_name', 'Renaming a container with the same name as its current name', { exitCode: 1 });
  if (!claimName(paths, name, id)) throw conflict(name, nameInUse(paths, name) ?? 'another container', 1);
  writeJsonAtomic(containerFiles(paths, id).config, { ...config, name });
  releaseName(paths, config.name, id);
}
