// top: the container's processes, with their host PIDs and the PIDs they have inside.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Layout } from '../paths.js';
import { EngineError } from '../errors.js';
import { readConfig } from './store.js';
import { currentState, isRunning } from './status.js';

export interface ProcessRow {
  uid: number;
  pid: number;
  ppid: number;
  /** The PID as the container sees it (last field of NSpid in /proc/PID/status). */
  containerPid: number;
  state: string;
  /** CPU time, user + system, in seconds. */
  cpuSeconds: number;
  cmd: string;
}

function processRow(pid: number): ProcessRow | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [String(pid)];
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      uid, pid, ppid: Number(fields[1]), containerPid: Number(nspid.at(-1)), state: fields[0]!,
      cpuSeconds: ticks / 100, cmd: cmdline || `[${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}]`,
    };
  } catch {
    return undefined; // exited while we looked
  }
}

/** Processes that share the container's PID namespace (or, sharing the host's, its process tree). */
export function containerProcesses(paths: Layout, id: string): ProcessRow[] {
  const state = currentState(paths, id);
  if (!isRunning(state)) throw new EngineError('not_running', `container ${readConfig(paths, id).name} is not running`, { exitCode: 1 });
  const ownPidNs = readConfig(paths, id).namespaces.includes('pid');
  const ns = readlinkSync(`/proc/${state.pid}/ns/pid`);
  const rows: ProcessRow[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    try {
      if (ownPidNs ? readlinkSync(`/proc/${pid}/ns/pid`) !== ns : pid !== state.pid) continue;
    } catch {
      continue;
    }
    const row = processRow(pid);
    if (row) rows.push(row);
  }
  if (!ownPidNs) {
    // The host's pid namespace: follow the tree down from the container's first process.
    const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map((n) => processRow(Number(n))).filter((r): r is ProcessRow => !!r);
    const inTree = new Set([state.pid]);
    for (let grew = true; grew;) {
      grew = false;
      for (const r of all) if (!inTree.has(r.pid) && inTree.has(r.ppid)) inTree.add(r.pid), rows.push(r), (grew = true);
    }
  }
  return rows.sort((a, b) => a.pid - b.pid);
}
