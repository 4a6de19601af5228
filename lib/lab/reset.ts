// `container-lab reset`: forget progress, and remove from the host what the lab made, found by its
// names only: temporary directories container-lab-*, network namespaces container-lab-*, links
// clab-*, processes of the engine whose data root is in such a directory, and the engine's cgroups
// (those under its parent, "mini-docker" or $MINI_DOCKER_CGROUP_PARENT, and no other), the
// processes in them killed first. The engine's own data root (/var/lib/mini-docker: images,
// containers) and the cgroups of its containers only with --engine-data.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroups } from '../engine/cgroups/detect.js';
import type { CgroupDriver } from '../engine/cgroups/driver.js';
import { V1Driver } from '../engine/cgroups/v1.js';
import { cgroupParent } from '../engine/container/cgroup.js';
import { labTmpBase, TMP_PREFIX } from './paths.js';
import { ProgressStore } from './progress.js';
import { lessonEntries, parseLessonNumber } from './catalog.js';
import { LabError } from './errors.js';
import { descendants, pids } from './proc.js';
import { mountsUnder, removeLabDir } from './tempdir.js';
import { sleepSync } from './cleanup.js';
import { c, out, err } from './ui.js';

const ENGINE_DEFAULT_ROOT = '/var/lib/mini-docker';

interface Action {
  what: string;
  run(): void | Promise<void>;
}

function labDirs(): string[] {
  const base = labTmpBase();
  return readdirSync(base).filter((n) => n.startsWith(TMP_PREFIX)).map((n) => join(base, n));
}

/** Engine processes (CLI, shim) whose MINI_DOCKER_ROOT lies in one of the lab's directories. */
function labEngineProcesses(dirs: string[]): number[] {
  const found: number[] = [];
  for (const p of pids()) {
    if (p === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${p}/environ`, 'utf8');
    } catch {
      continue;
    }
    const root = env.split('\0').find((kv) => kv.startsWith('MINI_DOCKER_ROOT='))?.slice('MINI_DOCKER_ROOT='.length);
    if (root && dirs.some((d) => root === d || root.startsWith(d + '/'))) found.push(p);
  }
  return found;
}

/** The lab's network namespaces; a doctor's of the last 30 s may be in use by a running doctor. */
function listNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => {
      if (!n.startsWith(TMP_PREFIX)) return false;
      if (!n.startsWith(`${TMP_PREFIX}doctor-`)) return true;
      return Date.now() - statSync(join('/run/netns', n)).mtimeMs > 30_000;
    });
  } catch {
    return [];
  }
}

/** The engine's cgroup drivers on this host: v1 and, beside it on a hybrid host, v2 (forced by MINI_DOCKER_CGROUP_VERSION=2). */
function engineDrivers(parent: string): CgroupDriver[] {
  const found: CgroupDriver[] = [];
  for (const force of [1, 2] as const) {
    try {
      found.push(detectCgroups({ parent, force }));
    } catch {
      // no hierarchy of this version here
    }
  }
  return found;
}

/** The directories of the engine's parent cgroup: one per v1 hierarchy, one on v2. */
function parentDirs(d: CgroupDriver): string[] {
  const mounts = d instanceof V1Driver ? [...new Set(Object.values(d.mounts))] : [d.root];
  return mounts.map((m) => join(m, d.parent));
}

/**
 * Remove the engine's cgroups: every cgroup under the parent, in every hierarchy (each
 * container's is killed empty first: only the processes in it), then the parent once empty.
 * Those of containers in the engine's own data root stay unless engineData.
 */
function cgroupActions(engineData: boolean): Action[] {
  const actions: Action[] = [];
  const parent = cgroupParent();
  const own = join(ENGINE_DEFAULT_ROOT, 'containers');
  for (const driver of engineDrivers(parent)) {
    const names = driver.list();
    const kept = engineData ? [] : names.filter((n) => existsSync(join(own, n)));
    const gone = names.filter((n) => !kept.includes(n));
    const dirs = parentDirs(driver).filter((d) => existsSync(d));
    if (!dirs.length || (!gone.length && kept.length)) continue;
    const where = dirs.length > 1 ? `${dirs.length} hierarchies (${dirs.join(', ')})` : dirs[0]!;
    let procs = 0;
    for (const n of gone) {
      try {
        procs += driver.open(n)?.pids().length ?? 0;
      } catch {
        // not a name the engine gives: counted as empty
      }
    }
    const keptNote = kept.length ? `; keeping ${kept.length} of containers in ${ENGINE_DEFAULT_ROOT} (--engine-data removes them)` : '';
    actions.push({
      what: gone.length
        ? `remove ${gone.length} cgroup(s) of the engine under ${where} (cgroup v${driver.version}), killing the ${procs} process(es) in them first${keptNote}`
        : `remove the engine's cgroup parent in ${where} (cgroup v${driver.version}, no container cgroup in it)${keptNote}`,
      async run() {
        const failed: string[] = [];
        for (const n of gone) {
          try {
            await driver.open(n)?.remove();
          } catch (e) {
            failed.push(`${n}: ${(e as Error).message}`);
          }
        }
        if (!kept.length) driver.removeParent();
        if (failed.length) throw new Error(failed.join('; '));
      },
    });
  }
  return actions;
}

function listLinks(): string[] {
  const r = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1]).filter((n): n is string => !!n && n.startsWith('clab-'));
}

export function plannedActions(opts: { engineData: boolean }): Action[] {
  const actions: Action[] = [];
  const dirs = labDirs();
  const procs = labEngineProcesses(dirs);
  if (procs.length) {
    actions.push({
      what: `stop ${procs.length} engine process(es) of the lab and their containers (pids ${procs.join(' ')})`,
      run() {
        for (const p of procs) for (const d of [...descendants(p).reverse(), p]) {
          try {
            process.kill(d, 'SIGKILL');
          } catch {
            // gone
          }
        }
        sleepSync(300);
      },
    });
  }
  actions.push(...cgroupActions(opts.engineData));
  for (const d of dirs) {
    const mounts = mountsUnder(d).length;
    actions.push({ what: `remove ${d}${mounts ? ` (after unmounting ${mounts} mount(s) in it)` : ''}`, run: () => removeLabDir(d) });
  }
  for (const ns of listNetns()) actions.push({ what: `delete network namespace ${ns}`, run: () => void spawnSync('ip', ['netns', 'delete', ns]) });
  for (const l of listLinks()) actions.push({ what: `delete link ${l}`, run: () => void spawnSync('ip', ['link', 'delete', l]) });
  if (opts.engineData && existsSync(ENGINE_DEFAULT_ROOT)) {
    actions.push({ what: `remove the engine's data root ${ENGINE_DEFAULT_ROOT} (its images and containers)`, run: () => removeLabDir(ENGINE_DEFAULT_ROOT) });
  }
  return actions;
}

export async function resetCommand(n: string | undefined, opts: { dryRun: boolean; engineData: boolean }): Promise<number> {
  const progress = new ProgressStore();
  if (n !== undefined) {
    const num = parseLessonNumber(n);
    const e = lessonEntries().find((x) => x.number === num);
    if (!e) throw new LabError(`there is no lesson ${num}`);
    if (!opts.dryRun) progress.reset(e.id);
    out(`${opts.dryRun ? 'would forget' : 'forgot'} the progress of lesson ${num}`);
    return 0;
  }
  if (process.getuid?.() !== 0) throw new LabError('reset removes mounts and network namespaces: run it as root', 'sudo container-lab reset');
  const actions = plannedActions(opts);
  actions.push({ what: `forget all progress (${progress.file})`, run: () => progress.reset() });
  let failed = 0;
  for (const a of actions) {
    if (opts.dryRun) {
      out(`would ${a.what}`);
      continue;
    }
    try {
      await a.run();
      out(`${c.green('✔')} ${a.what}`);
    } catch (e) {
      failed++;
      err(`${c.red('✘')} ${a.what}: ${(e as Error).message}`);
    }
  }
  if (actions.length === 1) out(c.dim('Nothing of the lab was left on this host.'));
  return failed ? 1 : 0;
}
