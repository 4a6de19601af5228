// The grade as TAP (version 14, with a plan), JSON or JUnit XML, and as a score for people.
import type { CheckResult, GradeReport } from './grade.js';

export interface LessonScore {
  lesson: number;
  title: string;
  earned: number;
  points: number;
  passed: number;
  failed: number;
  skipped: number;
}

export function scores(results: CheckResult[]): { lessons: LessonScore[]; total: LessonScore } {
  const lessons = new Map<number, LessonScore>();
  const total: LessonScore = { lesson: 0, title: 'total', earned: 0, points: 0, passed: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    let s = lessons.get(r.lesson);
    if (!s) lessons.set(r.lesson, (s = { lesson: r.lesson, title: r.lessonTitle, earned: 0, points: 0, passed: 0, failed: 0, skipped: 0 }));
    for (const x of [s, total]) {
      x.earned += r.earned;
      x.points += r.points;
      if (r.status === 'pass') x.passed++;
      else if (r.status === 'fail') x.failed++;
      else x.skipped++;
    }
  }
  return { lessons: [...lessons.values()], total };
}

export function summaryLines(results: CheckResult[]): string[] {
  const { lessons, total } = scores(results);
  const lines = lessons.map((s) => {
    const extra = [s.failed ? `${s.failed} failed` : '', s.skipped ? `${s.skipped} skipped` : ''].filter(Boolean).join(', ');
    return `lesson ${String(s.lesson).padStart(2)} ${s.title.padEnd(34)} ${String(s.earned).padStart(3)}/${s.points} points${extra ? ` (${extra})` : ''}`;
  });
  lines.push(`score: ${total.earned}/${total.points} points · ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return lines;
}

// ---- TAP 14 -------------------------------------------------------------------------------

function yamlBlock(fields: [string, string | number | undefined][]): string[] {
  const out = ['  ---'];
  for (const [k, v] of fields) {
    if (v === undefined) continue;
    const s = String(v);
    if (typeof v === 'number' || (!s.includes('\n') && !/^[\s'"!&*{}[\]|>%@`#,?:-]|: | #|\s$/.test(s) && s.length < 100)) out.push(`  ${k}: ${s}`);
    else out.push(`  ${k}: |-`, ...s.split('\n').map((l) => `    ${l}`));
  }
  out.push('  ...');
  return out;
}

const tapEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');

export function tapHeader(total: number, engine: string): string[] {
  return ['TAP version 14', `# container-lab grade · engine: ${engine}`, `1..${total}`];
}

export function tapLine(r: CheckResult, index: number): string[] {
  const desc = `${r.id} ${tapEscape(r.title)}`;
  if (r.status === 'pass') return [`ok ${index} - ${desc}`];
  if (r.status === 'skip') return [`ok ${index} - ${desc} # SKIP ${tapEscape(r.reason ?? '')}`];
  return [
    `not ok ${index} - ${desc}`,
    ...yamlBlock([
      ['lesson', r.lesson],
      ['points', `0 of ${r.points}`],
      ['diagnosis', r.diagnosis],
      ['hint', r.hint],
    ]),
  ];
}

export function tapFooter(results: CheckResult[]): string[] {
  return summaryLines(results).map((l) => `# ${l}`);
}

export function toTap(report: GradeReport): string {
  return [...tapHeader(report.results.length, report.engine), ...report.results.flatMap((r, i) => tapLine(r, i + 1)), ...tapFooter(report.results)].join('\n') + '\n';
}

// ---- JSON ---------------------------------------------------------------------------------

export function toJson(report: GradeReport): string {
  const { lessons, total } = scores(report.results);
  return (
    JSON.stringify(
      {
        engine: report.engine,
        startedAt: report.startedAt,
        finishedAt: report.finishedAt,
        score: { earned: total.earned, points: total.points, passed: total.passed, failed: total.failed, skipped: total.skipped },
        lessons: lessons.map((s) => ({ ...s, checks: report.results.filter((r) => r.lesson === s.lesson) })),
      },
      null,
      2,
    ) + '\n'
  );
}

// ---- JUnit XML ----------------------------------------------------------------------------

function xml(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function toJunit(report: GradeReport): string {
  const { lessons, total } = scores(report.results);
  const secs = (ms: number) => (ms / 1000).toFixed(3);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="container-lab grade" tests="${report.results.length}" failures="${total.failed}" skipped="${total.skipped}" errors="0" time="${secs(report.results.reduce((n, r) => n + r.ms, 0))}">`,
  ];
  for (const s of lessons) {
    const rs = report.results.filter((r) => r.lesson === s.lesson);
    lines.push(
      `  <testsuite name="lesson ${String(s.lesson).padStart(2, '0')} · ${xml(s.title)}" tests="${rs.length}" failures="${s.failed}" skipped="${s.skipped}" errors="0" time="${secs(rs.reduce((n, r) => n + r.ms, 0))}">`,
      '    <properties>',
      `      <property name="engine" value="${xml(report.engine)}"/>`,
      `      <property name="points" value="${s.earned}/${s.points}"/>`,
      '    </properties>',
    );
    for (const r of rs) {
      const open = `    <testcase classname="lesson${String(r.lesson).padStart(2, '0')}" name="${xml(`${r.id}: ${r.title}`)}" time="${secs(r.ms)}"`;
      if (r.status === 'pass') lines.push(`${open}/>`);
      else if (r.status === 'skip') lines.push(`${open}>`, `      <skipped message="${xml(r.reason ?? '')}"/>`, '    </testcase>');
      else lines.push(`${open}>`, `      <failure message="${xml(r.diagnosis ?? '')}" type="check">${xml(`${r.diagnosis ?? ''}\n\nhint: ${r.hint ?? ''}`)}</failure>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n') + '\n';
}
