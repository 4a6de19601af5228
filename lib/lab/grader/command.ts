// `container-lab grade`: the CLI side of the grader (options, streaming TAP, --out, exit code).
import { writeFileSync } from 'node:fs';
import { parseLessonList } from '../catalog.js';
import { LabError } from '../errors.js';
import { c, out } from '../ui.js';
import { grade, type CheckResult } from './grade.js';
import { summaryLines, tapFooter, tapHeader, tapLine, toJson, toJunit, toTap } from './report.js';

export interface GradeFlags {
  engine?: string;
  lessons: string;
  format: 'tap' | 'json' | 'junit';
  out?: string;
  only?: string;
}

function humanLine(r: CheckResult): string {
  const m = r.status === 'pass' ? c.green('✔') : r.status === 'fail' ? c.red('✘') : c.yellow('–');
  const extra = r.status === 'fail' ? `\n    ${c.red(r.diagnosis ?? '')}\n    ${c.dim('hint: ' + (r.hint ?? ''))}` : r.status === 'skip' ? c.dim(`  (skipped: ${r.reason})`) : '';
  return `${m} ${r.id.padEnd(24)} ${r.title}${extra}`;
}

export async function gradeCommand(f: GradeFlags): Promise<number> {
  if (process.getuid?.() !== 0) throw new LabError('grading runs containers: run it as root', 'sudo container-lab grade ...');
  const lessons = parseLessonList(f.lessons);
  const only = f.only?.split(',').map((s) => s.trim()).filter(Boolean);
  // TAP to stdout streams as the checks finish; with --out, people get one line per check.
  const streamTap = f.format === 'tap' && !f.out;
  const report = await grade({
    engine: f.engine,
    lessons,
    only,
    onPlan: (total, engine) => {
      if (streamTap) out(tapHeader(total, engine).join('\n'));
      else if (f.out) out(c.bold(`Grading ${engine} on lessons ${f.lessons} (${total} checks)`));
    },
    onResult: (r, i) => {
      if (streamTap) out(tapLine(r, i).join('\n'));
      else if (f.out) out(humanLine(r));
    },
  });
  if (streamTap) out(tapFooter(report.results).join('\n'));
  else {
    const text = f.format === 'json' ? toJson(report) : f.format === 'junit' ? toJunit(report) : toTap(report);
    if (f.out) {
      try {
        writeFileSync(f.out, text);
      } catch (e) {
        throw new LabError(`cannot write the report to ${f.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      out('');
      for (const l of summaryLines(report.results)) out(l);
      out(c.dim(`report (${f.format}): ${f.out}`));
    } else {
      process.stdout.write(text);
      for (const l of summaryLines(report.results)) process.stderr.write(l + '\n');
    }
  }
  return report.results.some((r) => r.status === 'fail') ? 1 : 0;
}
