// Resources of a running container through its cgroup: update its limits, freeze and thaw it,
// and read what it uses.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import type { Limits } from '../cgroups/limits.js';
import type { CgroupStats } from '../cgroups/driver.js';
import { writeJsonAtomic } from '../util/fs.js';
import { containerFiles, readConfig, readState, writeState } from './store.js';
import { currentState, isRunning } from './status.js';
import { driverFor, openCgroup } from './cgroup.js';

function runningCgroup(paths: Layout, id: string) {
  const config = readConfig(paths, id);
  const state = currentState(paths, id);
  if (!isRunning(state)) throw new EngineError('not_running', `container ${config.name} is not running`, { exitCode: 1 });
  const cg = openCgroup(config);
  if (!cg) throw new EngineError('no_cgroup', `container ${config.name} has no cgroup (was it started by an older mini-docker?)`, { exitCode: 1 });
  return { config, state, cg };
}

/** update: the kernel's limits change at once for a running container; the config keeps them. */
export function updateContainer(paths: Layout, id: string, limits: Limits): void {
  const config = readConfig(paths, id);
  driverFor(config.cgroupParent).validate(limits);
  const merged: Limits = { ...config.limits, ...limits };
  if (isRunning(currentState(paths, id))) openCgroup(config)?.update(limits);
  writeJsonAtomic(containerFiles(paths, id).config, { ...config, limits: merged });
}

export async function pauseContainer(paths: Layout, id: string): Promise<void> {
  const { config, state, cg } = runningCgroup(paths, id);
  if (state.status === 'paused') throw new EngineError('paused', `Container ${id} is already paused`, { exitCode: 1 });
  await cg.freeze();
  writeState(paths, id, { ...readState(paths, id), status: 'paused' });
  void config;
}

export function unpauseContainer(paths: Layout, id: string): void {
  const { state, cg } = runningCgroup(paths, id);
  if (state.status !== 'paused') throw new EngineError('not_paused', `Container ${id} is not paused`, { exitCode: 1 });
  cg.thaw();
  writeState(paths, id, { ...readState(paths, id), status: 'running' });
}

export interface ContainerStats {
  id: string;
  name: string;
  /** percent of one CPU over the sampling interval */
  cpuPercent: number;
  memUsage: number;
  memLimit: number;
  memPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
  raw: CgroupStats;
}

/** Bytes received and sent on the container's interfaces but loopback (/proc/PID/net/dev). */
function netIO(pid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  try {
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m || m[1] === 'lo') continue;
      const f = m[2]!.trim().split(/\s+/).map(Number);
      rx += f[0]!;
      tx += f[8]!;
    }
  } catch {
    // exited meanwhile
  }
  return { rx, tx };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two samples `intervalMs` apart, as docker computes CPU % from consecutive reads. */
export async function containerStats(paths: Layout, ids: string[], intervalMs = 500): Promise<ContainerStats[]> {
  const first = new Map<string, { cpu: number; t: bigint }>();
  const live = ids.map((id) => ({ id, ...runningCgroup(paths, id) }));
  for (const c of live) first.set(c.id, { cpu: c.cg.stats().cpu.usageNs, t: process.hrtime.bigint() });
  await sleep(intervalMs);
  return live.map(({ id, config, state, cg }) => {
    const s = cg.stats();
    const before = first.get(id)!;
    const wallNs = Number(process.hrtime.bigint() - before.t);
    const memUsage = Math.max(0, s.memory.usage - s.memory.inactiveFile);
    const memLimit = s.memory.limit ?? totalmem();
    const net = netIO(state.pid);
    return {
      id, name: config.name,
      cpuPercent: wallNs > 0 ? ((s.cpu.usageNs - before.cpu) / wallNs) * 100 : 0,
      memUsage, memLimit, memPercent: memLimit > 0 ? (memUsage / memLimit) * 100 : 0,
      netRx: net.rx, netTx: net.tx,
      blockRead: s.io.reduce((a, d) => a + d.readBytes, 0),
      blockWrite: s.io.reduce((a, d) => a + d.writeBytes, 0),
      pids: s.pids.current,
      raw: s,
    };
  });
}
