// npm run bench (part 2): the cost of detached containers. Starts 100 detached `sleep`
// containers, reports the total time, the monitors' memory (RSS of each mini-docker-shim on the
// host, outside the containers; target at most 2 MiB each) and how long `ps` takes with 100
// containers (target under 150 ms), with podman's numbers from the same run when installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installBusyboxImage } from '../sandbox-images/busybox/build.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MINI_DOCKER = join(REPO, 'bin/mini-docker');
const N = Number(process.env.BENCH_CONTAINERS ?? 100);

function run(argv: string[], env: NodeJS.ProcessEnv): { ms: number; out: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  return { ms, out: r.stdout };
}

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const work = mkdtempSync('/tmp/mdbench-');
  const root = join(work, 'root');
  const env = { ...process.env, MINI_DOCKER_ROOT: root };
  try {
    await installBusyboxImage(root);
    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push(run([MINI_DOCKER, 'run', '-d', 'busybox', 'sleep', '3600'], env).out.trim());
    const startAll = Date.now() - t0;
    const monitors = ids.map((id) => JSON.parse(readFileSync(join(root, 'containers', id, 'state.json'), 'utf8')).shimPid as number);
    const rss = monitors.map(rssKiB);
    const psTimes = Array.from({ length: 15 }, () => run([MINI_DOCKER, 'ps'], env).ms);
    const listed = run([MINI_DOCKER, 'ps', '-q'], env).out.trim().split('\n').length;

    console.log(`\n${N} detached containers (busybox sleep)`);
    console.log(`  start all:           ${(startAll / 1000).toFixed(1)} s (${(startAll / N).toFixed(0)} ms each)`);
    console.log(`  monitor RSS:         median ${(median(rss) / 1024).toFixed(2)} MiB, max ${(Math.max(...rss) / 1024).toFixed(2)} MiB, total ${(rss.reduce((a, b) => a + b, 0) / 1024).toFixed(1)} MiB`);
    console.log(`  target <= 2 MiB:     ${Math.max(...rss) <= 2048 ? 'met' : 'NOT met'}`);
    console.log(`  ps with ${listed}:       median ${median(psTimes).toFixed(1)} ms  (target < 150 ms: ${median(psTimes) < 150 ? 'met' : 'NOT met'})`);

    const t1 = Date.now();
    run([MINI_DOCKER, 'rm', '-f', ...ids], env);
    console.log(`  rm -f all:           ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    podmanComparison(work);
  } finally {
    spawnSync(MINI_DOCKER, ['container', 'prune', '-f'], { env });
    rmSync(work, { recursive: true, force: true });
  }
}

/** The same measure for podman (its conmon is its monitor), when it is installed. */
function podmanComparison(work: string): void {
  if (spawnSync('sh', ['-c', 'command -v podman && command -v runc']).status !== 0) {
    console.log('  podman: not installed, no comparison');
    return;
  }
  const conf = join(work, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
  const rootfs = join(work, 'rootfs');
  spawnSync('mkdir', ['-p', rootfs]);
  spawnSync('cp', ['-a', ...readdirLayers(join(work, 'root')), rootfs]);
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const n = Math.min(N, 20);
  const ids: string[] = [];
  try {
    const t0 = Date.now();
    for (let i = 0; i < n; i++) ids.push(run(['podman', 'run', '-d', '--rootfs', rootfs, 'sleep', '3600'], env).out.trim());
    const each = (Date.now() - t0) / n;
    const conmons = spawnSync('pgrep', ['-x', 'conmon'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    const rss = conmons.map(rssKiB).filter((x) => x > 0);
    const ps = median(Array.from({ length: 5 }, () => run(['podman', 'ps'], env).ms));
    console.log(`  podman (${n} containers): ${each.toFixed(0)} ms each to start, conmon RSS median ${(median(rss) / 1024).toFixed(2)} MiB, ps ${ps.toFixed(0)} ms`);
  } catch (e) {
    console.log(`  podman: skipped (${(e as Error).message.split('\n')[0]})`);
  } finally {
    if (ids.length) spawnSync('podman', ['rm', '-f', ...ids], { env });
  }
}

function readdirLayers(root: string): string[] {
  const dir = join(root, 'layers');
  return spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map((l) => `${join(dir, l)}/.`);
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
