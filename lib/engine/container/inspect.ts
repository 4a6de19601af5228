// inspect: a container as docker's API describes it (the subset this engine has).
import type { Layout } from '../paths.js';
import { containerFiles, readConfig } from './store.js';
import { currentState } from './status.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

export function inspectContainer(paths: Layout, id: string, lowerdirs?: string[]) {
  const c = readConfig(paths, id);
  const s = currentState(paths, id);
  const f = containerFiles(paths, id);
  const ns = new Set(c.namespaces);
  const argv = [...c.entrypoint, ...c.cmd];
  return {
    Id: c.id,
    Created: c.created,
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: !!s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.status === 'running' || s.status === 'paused' ? s.pid : 0,
      ExitCode: s.exitCode,
      Error: s.error ?? '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: s.finishedAt ?? ZERO_TIME,
    },
    Image: c.imageId ?? '',
    LogPath: f.log,
    Name: `/${c.name}`,
    RestartCount: s.restartCount ?? 0,
    Driver: c.rootfs ? 'rootfs' : 'overlay',
    HostConfig: {
      AutoRemove: c.autoRemove,
      RestartPolicy: { Name: c.restartPolicy.name, MaximumRetryCount: c.restartPolicy.maximumRetryCount },
      NetworkMode: c.network,
      PidMode: ns.has('pid') ? '' : 'host',
      UTSMode: ns.has('uts') ? '' : 'host',
      IpcMode: ns.has('ipc') ? 'private' : 'host',
      UsernsMode: ns.has('user') ? 'private' : '',
      UidMap: c.uidMap.map((m) => `${m.inside}:${m.host}:${m.size}`),
      CgroupParent: c.cgroupParent ?? '',
      Memory: c.limits?.memory ?? 0,
      MemorySwap: c.limits?.memorySwap ?? 0,
      MemoryReservation: c.limits?.memoryReservation ?? 0,
      OomKillDisable: !!c.limits?.oomKillDisable,
      NanoCpus: c.limits?.nanoCpus ?? 0,
      CpuShares: c.limits?.cpuShares ?? 0,
      CpuPeriod: c.limits?.cpuPeriod ?? 0,
      CpuQuota: c.limits?.cpuQuota ?? 0,
      CpusetCpus: c.limits?.cpusetCpus ?? '',
      PidsLimit: c.limits?.pidsLimit ?? null,
      BlkioWeight: c.limits?.blkioWeight ?? 0,
      BlkioDeviceReadBps: (c.limits?.deviceReadBps ?? []).map((d) => ({ Path: d.path, Rate: d.rate })),
      BlkioDeviceWriteBps: (c.limits?.deviceWriteBps ?? []).map((d) => ({ Path: d.path, Rate: d.rate })),
      BlkioDeviceReadIOps: (c.limits?.deviceReadIops ?? []).map((d) => ({ Path: d.path, Rate: d.rate })),
      BlkioDeviceWriteIOps: (c.limits?.deviceWriteIops ?? []).map((d) => ({ Path: d.path, Rate: d.rate })),
      GidMap: c.gidMap.map((m) => `${m.inside}:${m.host}:${m.size}`),
    },
    Mounts: [] as unknown[],
    GraphDriver: c.rootfs
      ? { Name: 'rootfs', Data: { Dir: c.rootfs } }
      : {
          Name: 'overlay',
          Data: { LowerDir: (lowerdirs ?? []).join(':'), UpperDir: f.upper, WorkDir: f.work, MergedDir: f.merged },
        },
    Config: {
      Hostname: c.hostname,
      User: c.user,
      Tty: c.tty,
      OpenStdin: c.openStdin,
      Env: c.env,
      Cmd: c.cmd,
      Image: c.image,
      WorkingDir: c.workingDir,
      Entrypoint: c.entrypoint.length ? c.entrypoint : null,
      StopSignal: c.stopSignal ?? 'SIGTERM',
    },
  };
}
