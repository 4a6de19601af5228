// npm run bench: how long `mini-docker run --rm busybox true` takes, against runc and podman
// measured in the same run on the same rootfs, as medians and ratios. Also where the time goes:
// Node's own start, the CLI's start, a run from a plain directory, a run from the image.
// Targets (issue 2): at most 4x runc, at most 0.35x podman.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { layout } from '../lib/engine/paths.js';
import { ensureLayers, resolveImage } from '../lib/engine/image/store.js';
import { installBusyboxImage } from '../sandbox-images/busybox/build.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MINI_DOCKER = join(REPO, 'bin/mini-docker');
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const WARMUP = 3;

interface Row { name: string; times: number[] }

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Wall time of one command, in milliseconds; throws when it fails. */
function timeOnce(argv: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr?.toString().trim()}`);
  return ms;
}

function measure(name: string, argv: () => string[], env: NodeJS.ProcessEnv = process.env): Row {
  for (let i = 0; i < WARMUP; i++) timeOnce(argv(), env);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(timeOnce(argv(), env));
  return { name, times };
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const median = (xs: number[]) => quantile(xs, 0.5);

function runcBundle(work: string, rootfs: string): string {
  const bundle = join(work, 'bundle');
  mkdirSync(bundle);
  spawnSync('runc', ['spec'], { cwd: bundle });
  const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['true'];
  spec.root = { path: rootfs, readonly: false };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  return bundle;
}

function report(rows: Row[], md: Row, runc?: Row, podman?: Row): void {
  console.log(`\n${RUNS} runs each after ${WARMUP} warm-up runs, wall time in ms\n`);
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'command'.padEnd(w)}  median     p90   x runc  x podman`);
  for (const r of rows) {
    const m = median(r.times);
    const vsRunc = runc ? (m / median(runc.times)).toFixed(2) : '-';
    const vsPodman = podman ? (m / median(podman.times)).toFixed(2) : '-';
    console.log(`${r.name.padEnd(w)}  ${m.toFixed(1).padStart(6)}  ${quantile(r.times, 0.9).toFixed(1).padStart(6)}  ${vsRunc.padStart(7)}  ${vsPodman.padStart(8)}`);
  }
  console.log('');
  if (runc) {
    const ratio = median(md.times) / median(runc.times);
    console.log(`target mini-docker <= 4x runc:      ${ratio.toFixed(2)}x  ${ratio <= 4 ? 'met' : 'NOT met'}`);
  } else console.log('runc is not installed: no ratio against it');
  if (podman) {
    const ratio = median(md.times) / median(podman.times);
    console.log(`target mini-docker <= 0.35x podman: ${ratio.toFixed(2)}x  ${ratio <= 0.35 ? 'met' : 'NOT met'}`);
  } else console.log('podman is not installed (or failed): no ratio against it');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench: containers need root: sudo npm run bench');
    process.exit(1);
  }
  const work = mkdtempSync('/tmp/mdbench-');
  try {
    const root = join(work, 'root');
    await installBusyboxImage(root);
    const paths = layout(root);
    const image = resolveImage(paths, 'busybox');
    if (!image) throw new Error('the busybox image did not install');
    // The same rootfs for everyone: a copy of the image's unpacked layer.
    const rootfs = join(work, 'rootfs');
    const lower = await ensureLayers(paths, image);
    cpSync(lower.at(-1)!, rootfs, { recursive: true, verbatimSymlinks: true });
    // Measured as users start it: the launcher, no NODE_EXTRA_CA_CERTS (see bin/mini-docker).
    const env: NodeJS.ProcessEnv = { ...process.env, MINI_DOCKER_ROOT: root };
    const rows: Row[] = [];
    const bare: NodeJS.ProcessEnv = { ...env };
    delete bare.NODE_EXTRA_CA_CERTS;
    rows.push(measure('node -e 0 (Node start alone)', () => ['node', '-e', '0'], bare));
    rows.push(measure('mini-docker --version (CLI start)', () => [MINI_DOCKER, '--version'], env));
    rows.push(measure('mini-docker run --rm --rootfs DIR true', () => [MINI_DOCKER, 'run', '--rm', '--rootfs', rootfs, 'true'], env));
    const md = measure('mini-docker run --rm busybox true', () => [MINI_DOCKER, 'run', '--rm', 'busybox', 'true'], env);
    rows.push(md);
    let runc: Row | undefined;
    if (has('runc')) {
      const bundle = runcBundle(work, rootfs);
      let n = 0;
      runc = measure('runc run (same rootfs)', () => ['runc', 'run', '--bundle', bundle, `mdbench-${process.pid}-${n++}`]);
      rows.push(runc);
    }
    let podman: Row | undefined;
    if (has('podman') && has('runc')) {
      // podman on this kind of machine: runc, cgroupfs, and ulimits it may set (DEVELOPERS.md).
      const conf = join(work, 'containers.conf');
      writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
      try {
        podman = measure('podman run --rm --rootfs DIR true', () => ['podman', 'run', '--rm', '--rootfs', rootfs, 'true'], { ...process.env, CONTAINERS_CONF: conf });
        rows.push(podman);
      } catch (e) {
        console.log(`podman skipped: ${(e as Error).message}`);
      }
    }
    report(rows, md, runc, podman);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
