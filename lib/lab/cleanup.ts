// Everything a lesson or a grading run makes on the host comes with its undo, pushed on a stack
// that runs in reverse order when the work ends: normally, on an error, or on Ctrl-C.
import { err, c } from './ui.js';

export type Undo = () => void | Promise<void>;

interface Item {
  what: string;
  undo: Undo;
}

export class CleanupStack {
  private items: Item[] = [];
  private running?: Promise<void>;

  /** Remember how to undo something just made; `what` names it if the undo fails. */
  defer(what: string, undo: Undo): void {
    this.items.push({ what, undo });
  }

  get size(): number {
    return this.items.length;
  }

  /** Undo everything, newest first. A failing undo is reported and the rest still run. */
  run(): Promise<void> {
    if (!this.running) {
      this.running = (async () => {
        while (this.items.length) {
          const item = this.items.pop()!;
          try {
            await item.undo();
          } catch (e) {
            err(c.yellow(`container-lab: could not clean up ${item.what}: ${(e as Error).message}`));
          }
        }
      })().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const EXIT_CODES: Record<(typeof SIGNALS)[number], number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * Run `fn` with a cleanup stack that runs when `fn` ends, fails, or the process gets SIGINT,
 * SIGTERM or SIGHUP (then the process exits 128+N once the stack is empty).
 */
export async function withCleanup<T>(fn: (stack: CleanupStack) => Promise<T>, opts: { quiet?: boolean } = {}): Promise<T> {
  const stack = new CleanupStack();
  let interrupted = false;
  const handlers = SIGNALS.map((sig) => {
    const h = () => {
      if (interrupted) return; // a second Ctrl-C while cleaning up: let the cleanup finish
      interrupted = true;
      if (!opts.quiet) err(c.yellow(`\ncontainer-lab: ${sig === 'SIGINT' ? 'interrupted' : sig}: cleaning up what this run made...`));
      void stack.run().finally(() => process.exit(EXIT_CODES[sig]));
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await fn(stack);
  } finally {
    if (!interrupted) {
      await stack.run();
      for (const [sig, h] of handlers) process.off(sig, h);
    } else {
      // The signal handler owns the exit: wait here until it ends the process.
      await new Promise(() => {});
    }
  }
}

/** Sleep without an event loop (for undos that must finish before the process exits). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
