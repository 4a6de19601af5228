// Output for people: colours (chalk, off when NO_COLOR is set or output is not a terminal),
// a spinner for long steps, and the one-key pause between steps.
import chalk, { Chalk, type ChalkInstance } from 'chalk';

function colourLevel(stream: NodeJS.WriteStream): 0 | 1 | 2 | 3 {
  // https://no-color.org: any non-empty NO_COLOR turns colour off.
  if (process.env.NO_COLOR) return 0;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return 1;
  return stream.isTTY ? 1 : 0;
}

export const c: ChalkInstance = new Chalk({ level: colourLevel(process.stdout) });

// Libraries that colour with the shared chalk (marked-terminal) or read FORCE_COLOR through
// their own copy (cli-highlight) follow the same choice.
chalk.level = c.level;
if (process.env.NO_COLOR) process.env.FORCE_COLOR = '0';

export const mark = {
  pass: () => c.green('✔'),
  fail: () => c.red('✘'),
  skip: () => c.yellow('–'),
  info: () => c.cyan('›'),
};

export function out(text = ''): void {
  process.stdout.write(text + '\n');
}

export function err(text = ''): void {
  process.stderr.write(text + '\n');
}

/** Indent every line of a block (command output, diagnoses) under a gutter. */
export function indent(text: string, gutter = '  │ '): string {
  const body = text.replace(/\n+$/, '');
  if (body === '') return c.dim(gutter + '(no output)');
  return body.split('\n').map((l) => c.dim(gutter) + l).join('\n');
}

export interface Spinner {
  stop(): void;
}

/** A spinner on stderr while `text` runs; a no-op when stderr is not a terminal. */
export function spinner(text: string): Spinner {
  if (!process.stderr.isTTY || process.env.CI) return { stop() {} };
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let i = 0;
  const started = Date.now();
  const draw = () => {
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    process.stderr.write(`\r${c.cyan(frames[i++ % frames.length])} ${text} ${c.dim(`${secs}s`)}\x1b[K`);
  };
  // Only commands that take a while get a spinner: most steps finish before it would show.
  const timer = setInterval(draw, 120);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (i > 0) process.stderr.write('\r\x1b[K');
    },
  };
}

export class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

export type PauseAnswer = 'next' | 'quit';

/**
 * Wait for Enter (go on) or q (stop here). Ctrl-C arrives as a byte in raw mode, so it is turned
 * into the same SIGINT the rest of the lab reacts to.
 */
export function pause(prompt = 'Enter: next step · q: quit'): Promise<PauseAnswer> {
  const stdin = process.stdin;
  process.stdout.write(c.dim(`  ${prompt} `));
  return new Promise((resolve) => {
    const wasRaw = stdin.isRaw;
    if (stdin.isTTY) stdin.setRawMode(true);
    stdin.resume();
    const onData = (buf: Buffer) => {
      const s = buf.toString();
      let answer: PauseAnswer | 'interrupt' | undefined;
      if (s.includes('\x03')) answer = 'interrupt';
      else if (/[qQ]/.test(s)) answer = 'quit';
      else if (/[\r\n ]/.test(s)) answer = 'next';
      if (!answer) return;
      stdin.off('data', onData);
      if (stdin.isTTY) stdin.setRawMode(wasRaw ?? false);
      stdin.pause();
      process.stdout.write('\r\x1b[K');
      if (answer === 'interrupt') {
        process.kill(process.pid, 'SIGINT');
        return;
      }
      resolve(answer);
    };
    stdin.on('data', onData);
  });
}
