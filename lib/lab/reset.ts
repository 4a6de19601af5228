// `container-lab reset`: forget progress, and remove from the host what the lab made, found by its
// names only: temporary directories container-lab-*, network namespaces container-lab-*, links
// clab-*, and processes of the engine whose data root is in such a directory. The engine's own data
// root (/var/lib/mini-docker: images, containers) only with --engine-data.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
  run(): void;
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
      a.run();
      out(`${c.green('✔')} ${a.what}`);
    } catch (e) {
      failed++;
      err(`${c.red('✘')} ${a.what}: ${(e as Error).message}`);
    }
  }
  if (actions.length === 1) out(c.dim('Nothing of the lab was left on this host.'));
  return failed ? 1 : 0;
}
