// exec: a new process in a running container. The shim opens /proc/PID/ns/* of the container's
// first process, setns(2)s into each (user first), forks into the pid namespace, and from there
// it is the same start as run: wait for "go", set ids and environment, exec.
import type { StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';
import { explaining } from '../log.js';
import type { Layout } from '../paths.js';
import type { Op, ShimPlan } from '../runtime/ops.js';
import { startShim, type ShimHandle } from '../runtime/shim.js';
import { mergeEnv, parseEnvVar } from './config.js';
import { resolveUser } from './user.js';
import { readConfig } from './store.js';
import { currentState, isRunning } from './status.js';
import { openCgroup } from './cgroup.js';

export interface ExecRequest {
  cmd: string[];
  env?: string[];
  workdir?: string;
  user?: string;
  tty?: boolean;
  interactive?: boolean;
}

/** /etc/passwd and /etc/group as the container sees them (through its root). */
function containerFile(pid: number, path: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/root${path}`, 'utf8');
  } catch {
    return undefined;
  }
}

// #region lesson-11-exec
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
  return { cloneFlags: 0, join: pid, host: [], child, tty, stdin, debug: explaining() };
}
// #endregion lesson-11-exec

export async function execInContainer(paths: Layout, id: string, req: ExecRequest, io: { stdio?: StdioOptions; onStarted?(h: ShimHandle): void } = {}): Promise<number> {
  const config = readConfig(paths, id);
  const state = currentState(paths, id);
  if (!isRunning(state)) {
    throw new EngineError('not_running', `container ${id} is not running`, { exitCode: 1, hint: `start it first: mini-docker start ${config.name}` });
  }
  if (state.status === 'paused') throw new EngineError('paused', `container ${id} is paused, unpause the container before exec`, { exitCode: 1 });
  if (req.cmd.length === 0) throw new EngineError('no_command', 'exec needs a command', { hint: 'mini-docker exec CONTAINER COMMAND [ARG...]' });
  const user = resolveUser(req.user ?? config.user, containerFile(state.pid, '/etc/passwd'), containerFile(state.pid, '/etc/group'));
  const given = (req.env ?? []).map((e) => parseEnvVar(e)).filter((e): e is string => e !== undefined);
  const env = mergeEnv(config.env, req.tty ? ['TERM=xterm'] : [], given);
  const plan = execPlan(state.pid, env, req.workdir || config.workingDir, user, req.cmd, !!req.tty, !!req.interactive);
  const handle = await startShim(plan, { stdio: io.stdio, title: `${id.slice(0, 12)}-exec` });
  try {
    openCgroup(config)?.addProcess(handle.pid); // the container's limits hold for exec'd processes too
  } catch (e) {
    handle.abort();
    throw e;
  }
  await handle.go();
  io.onStarted?.(handle);
  return handle.exited;
}
