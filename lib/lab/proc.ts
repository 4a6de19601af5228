// Reading the kernel's answers from the host side: /proc/PID/{cmdline,stat,status,ns,root}.
// Used by lessons ("show") and by the grader, which may look at an engine only this way.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function pids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function cmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Fields of /proc/PID/stat after the command name (which may hold spaces): index 0 is state. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).trim().split(' ');
  } catch {
    return undefined;
  }
}

export function parentOf(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

export function stateOf(pid: number): string | undefined {
  return statFields(pid)?.[0];
}

/** When the process started (field 22 of /proc/PID/stat, in clock ticks since boot): with the pid, it names one process for good. */
export function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

export function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** One line of /proc/PID/status, e.g. status(pid, 'Uid') -> "100000 100000 100000 100000". */
export function status(pid: number, field: string): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
    return line?.slice(field.length + 1).trim();
  } catch {
    return undefined;
  }
}

/** "pid:[4026531836]": which namespace of a kind a process is in. */
export function nsOf(pid: number | 'self', kind: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** Where a process's "/" is, as the host can name it ("/" when it is no path of the host's tree). */
export function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of pids()) {
    const pp = parentOf(p);
    if (pp === undefined) continue;
    if (!children.has(pp)) children.set(pp, []);
    children.get(pp)!.push(p);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const ch of children.get(p) ?? []) {
      out.push(ch);
      walk(ch);
    }
  };
  walk(pid);
  return out;
}

/**
 * The container process started as `sh -c "<script holding token>"`: the one process whose
 * argv[0] is sh (or a path ending in /sh) and whose script holds the token. The engine's own
 * processes hold the token too, but never run as `sh`.
 */
export function findShellWithToken(token: string): number[] {
  return pids().filter((p) => {
    const argv = cmdline(p);
    return !!argv && argv.length >= 3 && /(^|\/)sh$/.test(argv[0]!) && argv[1] === '-c' && argv[2]!.includes(token);
  });
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, stepMs = 25): Promise<T | undefined> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
