#!/usr/bin/env node
// `npm test`: build, run every tap test (unit, kernel, lab, grader) on the real kernel, check
// that nothing of the tests is left on the host, and end with one line: "N passed, N failed".
//   npm test                  everything
//   npm test -- unit kernel   only test/unit and test/kernel
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(top);

if (process.getuid && process.getuid() !== 0) {
  console.error('npm test: the tests create namespaces, mounts and cgroups on the real kernel: run them as root (sudo npm test).');
  process.exit(1);
}

const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('npm test: the build failed (see above).');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const suites = process.argv.slice(2).length ? process.argv.slice(2) : ['unit', 'kernel', 'lab', 'grader'];
const files = [];
const walk = (d) => {
  if (!existsSync(d)) return;
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.js')) files.push(p);
  }
};
for (const s of suites) walk(join('dist/test', s));
if (files.length === 0) {
  console.error(`npm test: no test files under dist/test/{${suites.join(',')}}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// One test file at a time: some kernel tests measure what the kernel enforces (a CPU share, a
// throttled write rate, a stop timeout), and a neighbour's load would blur the measure.
// The engine's own cgroups (default parent "mini-docker") before the run: a test that forgets
// its own parent must not leave one behind either.
const engineCgroups = () => {
  const found = [];
  for (const h of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const d = join('/sys/fs/cgroup', h, 'mini-docker');
    if (existsSync(d)) for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) found.push(join(d, e.name));
  }
  return found;
};
const cgroupsBefore = new Set(engineCgroups());

const tap = spawn('npx', ['tap', '--disable-coverage', '--allow-empty-coverage', '--timeout=900', '--jobs=1', '--reporter=tap', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, NO_COLOR: '1' },
});
let tail = '';
tap.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4000);
});
const code = await new Promise((resolve) => tap.on('close', (c) => resolve(c ?? 1)));

// tap closes with a line like "# { total: 46, pass: 44, fail: 1, skip: 1 }".
const m = /# \{ total: (\d+)(.*)\}/.exec(tail);
const count = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(m?.[2] ?? '')?.[1] ?? 0);
let passed = count('pass');
let failed = count('fail');
const skipped = count('skip') + count('todo');
if (!m && code !== 0) failed += 1;

// What the tests may have left behind: everything they make carries "mdtest" in its name.
const leaks = [];
const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => /mdtest|mini-docker|container-lab/.test(l));
if (mounts.length) leaks.push(`${mounts.length} mounts:\n  ${mounts.join('\n  ')}`);
const dirs = readdirSync('/tmp').filter((n) => n.startsWith('mdtest-'));
if (dirs.length) leaks.push(`temp dirs in /tmp: ${dirs.join(' ')}`);
const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout?.split('\n').filter((l) => /mdt/.test(l)) ?? [];
if (links.length) leaks.push(`links: ${links.join('; ')}`);
for (const c of ['memory', 'pids', 'cpu', 'unified']) {
  const p = `/sys/fs/cgroup/${c}`;
  if (existsSync(p) && readdirSync(p).some((n) => /mdtest/.test(n))) leaks.push(`cgroups under ${p}`);
}
const newCgroups = engineCgroups().filter((d) => !cgroupsBefore.has(d));
if (newCgroups.length) leaks.push(`engine cgroups: ${newCgroups.join(' ')}`);
if (leaks.length) {
  console.log(`# leak check failed: the tests left on this host:\n# ${leaks.join('\n# ')}`);
  failed += 1;
} else {
  console.log('# leak check: nothing of the tests is left on this host');
  passed += 1;
}

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || code !== 0 ? 1 : 0);
