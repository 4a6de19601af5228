// The grader is tested like an instructor uses it: `container-lab grade` against our engine (all
// pass), against deliberately broken engines (exactly the matching check fails, with its hint),
// and against podman when it is installed. The report formats are checked for validity.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser, type FinalResults } from 'tap-parser';
import { tempDir, removeTemp, lab, labLeftovers, top, type JsonCheck } from '../lab/helpers.js';

const home = tempDir('grader');
t.teardown(() => removeTemp(home));

interface JsonReport {
  engine: string;
  score: { earned: number; points: number; passed: number; failed: number; skipped: number };
  lessons: { lesson: number; checks: JsonCheck[] }[];
}

async function gradeJson(engine: string | undefined, env: NodeJS.ProcessEnv = {}): Promise<{ report: JsonReport; stdout: string; code: number }> {
  const file = join(home, `report-${Math.random().toString(16).slice(2)}.json`);
  const args = ['grade', '--lessons', '1-8', '--format', 'json', '--out', file, ...(engine ? ['--engine', engine] : [])];
  const r = await lab(args, home, { env });
  if (r.code > 1) throw new Error(`grade failed to run: ${r.stderr}`);
  return { report: JSON.parse(readFileSync(file, 'utf8')) as JsonReport, stdout: r.stdout, code: r.code };
}

const checksOf = (r: JsonReport) => r.lessons.flatMap((l) => l.checks);

/** A wrapper around our engine that adds flags to every `run`: a deliberately broken engine. */
function brokenEngine(name: string, flags: string): string {
  const path = join(home, `broken-${name}`);
  const engine = join(top, 'bin', 'mini-docker');
  writeFileSync(path, `#!/bin/sh\nif [ "$1" = run ]; then shift; exec ${engine} run ${flags} "$@"; fi\nexec ${engine} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

t.test('our engine passes every check of lessons 1-8', async (t) => {
  const { report, code } = await gradeJson(undefined);
  const bad = checksOf(report).filter((c) => c.status !== 'pass');
  t.same(bad, [], 'no check fails or is skipped');
  t.equal(code, 0);
  t.equal(report.score.earned, report.score.points);
  t.ok(report.score.passed >= 30, `${report.score.passed} checks`);
  t.same(labLeftovers(home), [], 'the grader removed its directories');
});

const broken: [string, string, string, RegExp][] = [
  ['no-pid-namespace', '--pid host', '05-pid-one', /CLONE_NEWPID/],
  ['host-uts', '--uts host', '04-hostname', /CLONE_NEWUTS/],
  ['chroot-not-pivot', '--chroot', '03-pivot-root', /pivot_root/],
];
for (const [name, flags, expected, hint] of broken) {
  t.test(`a broken engine (run ${flags}) fails exactly ${expected}, with its hint`, async (t) => {
    const { report, code } = await gradeJson(brokenEngine(name, flags));
    const failed = checksOf(report).filter((c) => c.status === 'fail');
    t.same(failed.map((c) => c.id), [expected], failed.map((c) => `${c.id}: ${c.diagnosis}`).join('\n'));
    t.match(failed[0]?.hint ?? '', hint);
    t.ok(failed[0]?.diagnosis, 'with a diagnosis');
    t.equal(code, 1, 'grade exits 1 when a check fails');
    for (const c of checksOf(report).filter((c) => c.status === 'skip')) t.match(c.reason ?? '', /^needs /, `${c.id} is skipped because of what it needs`);
  });
}

t.test('TAP output is valid TAP 14 with a plan, and a failing check carries its hint', async (t) => {
  const r = await lab(['grade', '--lessons', '4,5', '--engine', brokenEngine('tap', '--pid host')], home);
  t.equal(r.code, 1);
  t.match(r.stdout, /^TAP version 14\n/);
  const results: { ok: boolean; name: string; skip: unknown }[] = [];
  const final = await new Promise<FinalResults>((resolve) => {
    const p = new Parser({ strict: true }, resolve);
    p.on('assert', (a: { ok: boolean; name: string; skip: unknown }) => results.push(a));
    p.end(r.stdout);
  });
  const plan = { start: final.plan.start, end: final.plan.end };
  t.same(plan, { start: 1, end: results.length }, 'the plan counts every check');
  t.equal(results.filter((a) => !a.ok).length, 1);
  t.match(results.find((a) => !a.ok)?.name, /05-pid-one/);
  t.ok(results.filter((a) => a.skip).length >= 1, 'dependent checks are skipped');
  t.same(final.failures.filter((f) => f.tapError).map((f) => f.tapError), [], 'no TAP syntax errors');
  t.match(r.stdout, /CLONE_NEWPID/, 'the hint');
  t.match(r.stdout, /# score: \d+\/\d+ points/);
});

t.test('JUnit XML', async (t) => {
  const file = join(home, 'report.xml');
  const r = await lab(['grade', '--lessons', '4', '--format', 'junit', '--out', file, '--engine', brokenEngine('junit', '--uts host')], home);
  t.equal(r.code, 1);
  t.match(r.stdout, /score: \d+\/\d+ points/, 'a summary for people on stdout');
  const xml = readFileSync(file, 'utf8');
  t.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /);
  t.match(xml, /<testsuite name="lesson 04[^"]*" tests="3" failures="1" skipped="1"/);
  t.match(xml, /<testcase classname="lesson04" name="04-hostname: [^"]*" time="[\d.]+">\n\s*<failure message="[^"]*" type="check">/);
  t.match(xml, /<skipped message="needs 04-hostname, which failed"\/>/);
  const xmllint = spawnSync('xmllint', ['--noout', file]);
  if (!xmllint.error) t.equal(xmllint.status, 0, 'xmllint accepts it');
  const opens = (xml.match(/<testcase /g) ?? []).length;
  const closes = (xml.match(/<\/testcase>|<testcase [^>]*\/>/g) ?? []).length;
  t.equal(opens, closes, 'every testcase is closed');
});

t.test('bad grader input is explained', async (t) => {
  const r1 = await lab(['grade', '--lessons', 'seven'], home);
  t.equal(r1.code, 1);
  t.match(r1.stderr, /not a list of lessons/);
  const r2 = await lab(['grade', '--engine', join(home, 'no-such-engine'), '--lessons', '1'], home);
  t.equal(r2.code, 1);
  t.match(r2.stdout, /cannot run even `true`/);
  const r3 = await lab(['grade', '--format', 'yaml'], home);
  t.equal(r3.code, 2);
});

const podman = spawnSync('podman', ['--version']);
t.test('podman passes every check it can do', { skip: podman.error ? 'podman is not installed' : false }, async (t) => {
  const conf = join(home, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\n');
  const { report } = await gradeJson('podman', { CONTAINERS_CONF: conf });
  const checks = checksOf(report);
  t.same(checks.filter((c) => c.status === 'fail').map((c) => `${c.id}: ${c.diagnosis}`), [], 'no check fails');
  for (const c of checks.filter((c) => c.status === 'skip')) t.comment(`skipped for podman: ${c.id}: ${c.reason}`);
  t.ok(checks.filter((c) => c.status === 'pass').length >= checks.length - 2, 'at most a couple are skipped');
});
