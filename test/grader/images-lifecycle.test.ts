// Lessons 10 (layers) and 11 (living containers), graded like an instructor grades: our engine
// passes every check; engines broken on purpose fail exactly the matching check, with its hint
// (one that copies the image for each container instead of an overlay, one whose logs are empty,
// one whose stop ignores -t); podman passes them all, and its store keeps nothing of the grading;
// a learner's scaffold fails both lessons until their code is in. Nothing of a grading run is left.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, removeTemp, lab, labLeftovers, top, cgroupsNamed, cgroupParentOf, mountsMentioning, type JsonCheck } from '../lab/helpers.js';

const home = tempDir('grader10');
t.teardown(() => removeTemp(home));
const engine = join(top, 'bin', 'mini-docker');


async function grade(lessons: string, eng: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<{ checks: JsonCheck[]; code: number }> {
  const file = join(home, `report-${Math.random().toString(16).slice(2)}.json`);
  const r = await lab(['grade', '--lessons', lessons, '--format', 'json', '--out', file, ...(eng ? ['--engine', eng] : [])], home, { env });
  if (r.code > 1) throw new Error(`grade failed to run: ${r.stderr}`);
  const report = JSON.parse(readFileSync(file, 'utf8')) as { lessons: { checks: JsonCheck[] }[] };
  return { checks: report.lessons.flatMap((l) => l.checks), code: r.code };
}

const notPassing = (checks: JsonCheck[]) => checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status} ${c.diagnosis ?? c.reason ?? ''}`);

/** Nothing of a grading run is left: lab dirs, mounts, cgroups under the tests' parent, processes of its engines. */
function noLeftovers(t: Test): void {
  t.same(labLeftovers(home), [], 'the grader removed its directories');
  t.same(mountsMentioning(home), [], 'nothing is mounted');
  t.same(cgroupsNamed(cgroupParentOf(home)), [], 'no cgroup is left under the tests\' parent');
  const shims = spawnSync('sh', ['-c', `grep -las "${home}/container-lab-grade" /proc/[0-9]*/environ | wc -l`], { encoding: 'utf8' });
  t.equal(shims.stdout.trim(), '0', 'no process of the grading\'s engine runs on');
}

function script(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

/**
 * No overlay: on `load`, the layer of the grader's image is unpacked once into a plain directory;
 * every `run` of that image gets a full copy of it as --rootfs (docker's old vfs driver). Writes
 * and deletions stay in each container, but its root is no overlay.
 */
const copyingEngine = () =>
  script(
    'broken-vfs',
    `#!/bin/bash
base="$MINI_DOCKER_ROOT/vfs-base"
if [ "$1" = load ] && [ "$2" = -i ]; then
  ${engine} "$@" || exit $?
  tmp=$(mktemp -d "$MINI_DOCKER_ROOT/vfs-load.XXXXXX")
  tar -xf "$3" -C "$tmp"
  layer=$(ls -S "$tmp/blobs/sha256" | head -n 1)
  mkdir -p "$base" && tar -xf "$tmp/blobs/sha256/$layer" -C "$base"
  rm -rf "$tmp"
  exit 0
fi
if [ "$1" = run ]; then
  args=()
  for a in "$@"; do
    case "$a" in
      localhost/container-lab-busybox:*)
        copy=$(mktemp -d "$MINI_DOCKER_ROOT/vfs-copy.XXXXXX")
        cp -a "$base/." "$copy/"
        chmod 755 "$copy"
        args+=(--rootfs "$copy") ;;
      *) args+=("$a") ;;
    esac
  done
  exec ${engine} "\${args[@]}"
fi
exec ${engine} "$@"
`,
  );

t.test('our engine passes every check of lessons 10 and 11', async (t) => {
  const { checks, code } = await grade('10,11', undefined);
  t.same(notPassing(checks), [], 'no check fails or is skipped');
  t.equal(code, 0);
  t.equal(checks.length, 9);
  for (const c of checks) t.comment(`${c.id}: ${c.detail ?? ''}`);
  noLeftovers(t);
});

const broken: [string, string, () => string, string, RegExp][] = [
  ['copies the image for each container instead of mounting an overlay', '10', copyingEngine, '10-root-is-overlay', /overlay/],
  ['keeps no logs', '11', () => script('broken-logs', `#!/bin/sh\nif [ "$1" = logs ]; then exit 0; fi\nexec ${engine} "$@"\n`), '11-logs', /log file/],
  [
    'stops at once whatever -t says',
    '11',
    () => script('broken-stop', `#!/bin/sh\nif [ "$1" = stop ]; then shift; [ "$1" = -t ] && shift 2; exec ${engine} stop -t 0 "$@"; fi\nexec ${engine} "$@"\n`),
    '11-stop-timeout',
    /waits up to -t seconds/,
  ],
];
for (const [what, lessons, make, expected, hint] of broken) {
  t.test(`an engine that ${what} fails exactly ${expected}, with its hint`, async (t) => {
    const { checks, code } = await grade(lessons, make());
    const failed = checks.filter((c) => c.status === 'fail');
    t.same(failed.map((c) => c.id), [expected], failed.map((c) => `${c.id}: ${c.diagnosis}`).join('\n'));
    t.match(failed[0]?.hint ?? '', hint);
    t.ok(failed[0]?.diagnosis, 'with a diagnosis');
    t.equal(code, 1);
    for (const c of checks.filter((c) => c.status === 'skip')) t.match(c.reason ?? '', new RegExp(`^needs ${expected}`), `${c.id} is skipped because of what it needs`);
    noLeftovers(t);
  });
}

const podman = spawnSync('podman', ['--version']);
t.test('podman passes every check of lessons 10 and 11, and keeps nothing of the grading', { skip: podman.error ? 'podman is not installed' : false }, async (t) => {
  const conf = join(home, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const { checks } = await grade('10,11', 'podman', { CONTAINERS_CONF: conf });
  t.same(notPassing(checks), [], 'no check fails or is skipped');
  for (const c of checks) t.comment(`${c.id}: ${c.detail ?? ''}`);
  const images = spawnSync('podman', ['images', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8', env });
  t.same(images.stdout.split('\n').filter((n) => n.includes('container-lab-busybox')), [], 'the grader\'s image is removed from podman\'s store');
  const ps = spawnSync('podman', ['ps', '-a', '--format', '{{.Names}}'], { encoding: 'utf8', env });
  t.same(ps.stdout.split('\n').filter((n) => /^lab-[0-9a-f]{10}$/.test(n)), [], 'the checks\' detached containers are removed');
  noLeftovers(t);
});

t.test('a learner\'s scaffold fails lessons 10 and 11 until their code is written (or skipped)', async (t) => {
  const mine = join(home, 'my-engine');
  const init = await lab(['init', mine], home);
  t.equal(init.code, 0, init.stdout + init.stderr);
  t.match(init.stdout, /lesson 10: lesson-10-overlay/);
  t.match(init.stdout, /lesson 11: lesson-11-exec/);
  const bin = join(mine, 'bin', 'mini-docker');
  // With the code of the lessons before in, only that of lessons 10 and 11 is missing.
  for (const n of [2, 3, 4, 5, 6, 8, 9]) {
    const s = await lab(['skip', String(n), '--dir', mine, '--no-build'], home);
    if (s.code !== 0) t.match(s.stderr, /has no code to write|there is no lesson/, `skip ${n}`);
  }
  const built = await lab(['skip', '7', '--dir', mine], home);
  t.equal(built.code, 0, built.stdout + built.stderr);
  const before = await grade('10,11', bin);
  const status = Object.fromEntries(before.checks.map((c) => [c.id, c.status]));
  t.same(
    status,
    {
      '10-root-is-overlay': 'fail', '10-own-writes': 'fail', '10-delete-keeps-image': 'fail', '10-upper-dir': 'skip',
      '11-run-detached': 'pass', '11-logs': 'pass', '11-exec-joins-ns': 'fail', '11-stop-timeout': 'pass', '11-rm-force': 'pass',
    },
    notPassing(before.checks).join('\n'),
  );
  t.match(before.checks.find((c) => c.id === '11-exec-joins-ns')?.diagnosis ?? '', /not in the container's namespaces/);
  noLeftovers(t);
  t.equal((await lab(['skip', '10', '--dir', mine, '--no-build'], home)).code, 0);
  t.equal((await lab(['skip', '11', '--dir', mine], home)).code, 0);
  const after = await grade('10,11', bin);
  t.same(notPassing(after.checks), [], 'with the reference code in, lessons 10 and 11 pass');
  noLeftovers(t);
});
