// A container's description: plain data, built and validated once at the edge, then applied by
// the engine modules (runc's split between configs and the code that applies them).
import { readFileSync } from 'node:fs';
import { EngineError } from '../errors.js';
import type { IdMapping } from '../namespaces/idmap.js';
import type { NamespaceKind } from '../namespaces/namespaces.js';
import type { Limits } from '../cgroups/limits.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The parts of an OCI image config that decide how a container starts. */
export interface ImageRunConfig {
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
}

/** What the person asked for on the command line (docker run's flags). */
export interface RunRequest {
  image?: string;
  rootfs?: string;
  chroot?: boolean;
  name?: string;
  hostname?: string;
  env?: string[];
  envFiles?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  cmd: string[];
  uidMap?: IdMapping[];
  gidMap?: IdMapping[];
  network?: string;
  pid?: string;
  uts?: string;
  ipc?: string;
  tty?: boolean;
  interactive?: boolean;
  autoRemove?: boolean;
  detach?: boolean;
  restart?: string;
  /** Parsed from -m, --cpus, --pids-limit, ... by the CLI (cgroups/limits.ts). */
  limits?: Limits;
  cgroupParent?: string;
}

export interface RestartPolicy {
  name: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  maximumRetryCount: number;
}

export interface ContainerConfig {
  id: string;
  name: string;
  created: string;
  image: string;
  imageId?: string;
  rootfs?: string;
  chroot: boolean;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  workingDir: string;
  user: string;
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  autoRemove: boolean;
  namespaces: NamespaceKind[];
  network: string;
  uidMap: IdMapping[];
  gidMap: IdMapping[];
  stopSignal?: string;
  restartPolicy: RestartPolicy;
  limits: Limits;
  cgroupParent: string;
}

/** --restart no | always | unless-stopped | on-failure[:MAX] */
export function parseRestartPolicy(spec: string): RestartPolicy {
  const m = /^(no|always|unless-stopped|on-failure)(?::(\d+))?$/.exec(spec);
  if (!m || (m[2] !== undefined && m[1] !== 'on-failure')) {
    throw new EngineError('bad_restart', `invalid restart policy: ${spec}`, { hint: 'use no, always, unless-stopped or on-failure[:MAX_RETRIES]' });
  }
  return { name: m[1] as RestartPolicy['name'], maximumRetryCount: m[2] ? Number(m[2]) : 0 };
}

// #region lesson-01-argv
/**
 * docker's rule for what runs: ENTRYPOINT + CMD. Arguments after the image replace the image's
 * CMD; --entrypoint replaces the image's ENTRYPOINT and also drops the image's CMD.
 */
export function resolveCommand(image: ImageRunConfig, entrypointFlag: string | undefined, args: string[]) {
  const entrypoint = entrypointFlag !== undefined ? (entrypointFlag === '' ? [] : [entrypointFlag]) : image.Entrypoint ?? [];
  const cmd = args.length > 0 ? args : entrypointFlag !== undefined ? [] : image.Cmd ?? [];
  if (entrypoint.length + cmd.length === 0) {
    throw new EngineError('no_command', 'no command specified', { hint: 'give a command after the image, e.g. mini-docker run busybox sh' });
  }
  return { entrypoint, cmd, argv: [...entrypoint, ...cmd] };
}
// #endregion lesson-01-argv

/** One -e value: KEY=VALUE, or KEY alone to copy the host's value (dropped when unset). */
export function parseEnvVar(spec: string, hostEnv: NodeJS.ProcessEnv = process.env): string | undefined {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (key === '') throw new EngineError('bad_env', `invalid environment variable: ${spec}`, { hint: 'use -e KEY=VALUE' });
  if (/\s/.test(key)) throw new EngineError('bad_env', `variable '${key}' contains whitespaces`);
  if (eq >= 0) return spec;
  const v = hostEnv[key];
  return v === undefined ? undefined : `${key}=${v}`;
}

/** An --env-file: KEY=VALUE lines, KEY alone copies the host's value, # starts a comment. */
export function parseEnvFile(path: string, hostEnv: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new EngineError('bad_env_file', `open ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) return;
    try {
      const v = parseEnvVar(line, hostEnv);
      if (v !== undefined) out.push(v);
    } catch (e) {
      throw new EngineError('bad_env_file', `${path}:${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

/** Later entries win, keeping the first one's position (docker's ReplaceOrAppendEnvValues). */
export function mergeEnv(...lists: string[][]): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  for (const list of lists) {
    for (const kv of list) {
      const key = kv.includes('=') ? kv.slice(0, kv.indexOf('=')) : kv;
      if (!values.has(key)) order.push(key);
      values.set(key, kv);
    }
  }
  return order.map((k) => values.get(k)!);
}

/** A hostname the kernel accepts (at most 64 bytes) and DNS would: letters, digits, - and . */
export function validateHostname(h: string): void {
  if (h.length === 0 || h.length > 63 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(h)) {
    throw new EngineError('bad_hostname', `invalid hostname "${h}"`, { hint: 'use letters, digits, "-" and ".", at most 63 characters' });
  }
}
