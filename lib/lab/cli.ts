// container-lab's entry point: the learner's menu, lessons, the book, the doctor, the grader and
// the scaffold. Each command imports its module only when it runs, so that starting is fast.
import { Command, CommanderError, Option } from 'commander';
import { LabError } from './errors.js';

const HELP_AFTER = `
Start with no arguments for the lesson menu. Lessons run real kernel operations: run as root.
Data: progress in $XDG_DATA_HOME/container-lab (or ~/.local/share/container-lab).`;

function program(): Command {
  const p = new Command('container-lab')
    .description('A step-by-step container lab: build a real container engine on the real Linux kernel')
    .helpOption('-h, --help', 'Show this help')
    .addHelpText('after', HELP_AFTER)
    // Set before the subcommands are added, so that they inherit it: errors come back here.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .argument('[command]')
    .usage('[command] [options]')
    .action(async (unknown?: string) => {
      if (unknown) throw new LabError(`'${unknown}' is not a container-lab command`, 'see container-lab --help');
      const { openMenu } = await import('./menu.js');
      process.exitCode = await openMenu();
    });

  p.command('lesson <N>')
    .description('Run lesson N step by step (Enter between steps)')
    .option('-y, --yes', 'Run without a terminal: no pauses, questions answered, checks enforced')
    .option('--restart', 'Start over even when the lesson is in progress')
    .action(async (n: string, o: { yes?: boolean; restart?: boolean }) => {
      const { parseLessonNumber } = await import('./catalog.js');
      const { runLesson } = await import('./runner.js');
      process.exitCode = await runLesson(parseLessonNumber(n), { yes: !!o.yes, restart: !!o.restart });
    });

  p.command('read <N>')
    .description("Read lesson N's chapter of the book (paged with less when long)")
    .option('--no-pager', 'Print the whole chapter without less')
    .action(async (n: string, o: { pager: boolean }) => {
      const { parseLessonNumber } = await import('./catalog.js');
      const { readChapter } = await import('./read.js');
      process.exitCode = await readChapter(parseLessonNumber(n), { pager: o.pager });
    });

  p.command('list')
    .description('List the lessons and your progress')
    .action(async () => {
      const { printLessonList } = await import('./menu.js');
      await printLessonList();
    });

  p.command('doctor')
    .description('Lesson 0: check that this machine has what the lab needs')
    .action(async () => {
      const { runDoctor } = await import('./doctor.js');
      process.exitCode = await runDoctor();
    });

  p.command('check-book')
    .description('Check that every code excerpt in the book still matches the engine')
    .option('--fix', 'Rewrite out-of-date excerpts from the code (then review the diff)')
    .action(async (o: { fix?: boolean }) => {
      const { checkBookCommand } = await import('./read.js');
      process.exitCode = checkBookCommand({ fix: !!o.fix });
    });

  p.command('grade')
    .description('Grade an engine against the lessons\' checks, through its CLI and the kernel')
    .option('--engine <cmd>', 'The engine\'s command, e.g. "podman" or "/path/bin/mini-docker.js" (default: this project\'s mini-docker)')
    .option('--lessons <list>', 'Which lessons, e.g. 4, 1-8, 1,3,5-6', '1-8')
    .addOption(new Option('--format <format>', 'Report format').choices(['tap', 'json', 'junit']).default('tap'))
    .option('--out <file>', 'Write the report to a file (a summary goes to stdout)')
    .option('--only <ids>', 'Run only these check ids (comma separated)')
    .action(async (o: { engine?: string; lessons: string; format: 'tap' | 'json' | 'junit'; out?: string; only?: string }) => {
      const { gradeCommand } = await import('./grader/command.js');
      process.exitCode = await gradeCommand(o);
    });

  p.command('init <dir>')
    .description("Write a learner's starter engine: the engine's layout, lesson code replaced by TODOs")
    .option('--no-build', 'Do not compile it (tsc and the native shim)')
    .action(async (dir: string, o: { build: boolean }) => {
      const { initCommand } = await import('./scaffold.js');
      process.exitCode = await initCommand(dir, { build: o.build });
    });

  p.command('diff <N>')
    .description("Show the reference answer for lesson N against the learner's code")
    .option('--dir <dir>', "The learner's engine (default: the current directory)", '.')
    .action(async (n: string, o: { dir: string }) => {
      const { parseLessonNumber } = await import('./catalog.js');
      const { diffCommand } = await import('./scaffold.js');
      process.exitCode = await diffCommand(parseLessonNumber(n), o.dir);
    });

  p.command('skip <N>')
    .description("Fill in lesson N's code in the learner's engine with the reference answer")
    .option('--dir <dir>', "The learner's engine (default: the current directory)", '.')
    .option('--no-build', 'Do not recompile it')
    .action(async (n: string, o: { dir: string; build: boolean }) => {
      const { parseLessonNumber } = await import('./catalog.js');
      const { skipCommand } = await import('./scaffold.js');
      process.exitCode = await skipCommand(parseLessonNumber(n), o.dir, { build: o.build });
    });

  p.command('reset [N]')
    .description('Forget progress (of lesson N, or all) and remove what the lab left on this host')
    .option('--dry-run', 'Only list what would be removed')
    .option('--engine-data', "Also remove the engine's default data root (/var/lib/mini-docker): its images and containers")
    .action(async (n: string | undefined, o: { dryRun?: boolean; engineData?: boolean }) => {
      const { resetCommand } = await import('./reset.js');
      process.exitCode = await resetCommand(n, { dryRun: !!o.dryRun, engineData: !!o.engineData });
    });

  return p;
}

/** Run the CLI; resolves to the exit code. Errors a person can act on are printed without a stack. */
export async function main(argv: string[]): Promise<number> {
  const p = program();
  // A reader that goes away (container-lab grade | head) is not an error.
  // Stop writing, and end as on SIGTERM: a grading run still cleans up what it made.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.stdout.write = () => true;
    process.kill(process.pid, 'SIGTERM');
  });
  try {
    await p.parseAsync(argv, { from: 'user' });
  } catch (e) {
    return report(e);
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

function report(e: unknown): number {
  if (e instanceof CommanderError) {
    if (['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code)) return 0;
    return 2; // commander already printed what was wrong
  }
  if (e instanceof LabError) {
    process.stderr.write(`container-lab: ${e.message}\n`);
    if (e.hint) process.stderr.write(`  hint: ${e.hint}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`container-lab: internal error: ${msg}\n`);
  if (process.env.CONTAINER_LAB_STACK) process.stderr.write(`${(e as Error)?.stack}\n`);
  else process.stderr.write('  (set CONTAINER_LAB_STACK=1 to see where it happened)\n');
  return 1;
}
