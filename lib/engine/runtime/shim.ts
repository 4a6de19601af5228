// The TypeScript side of the native shim: start it, hand it the plan, learn the child's pid,
// let the engine set things up from outside, say "go", and relay what happened.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { installRoot } from '../paths.js';
import type { Readable, Writable } from 'node:stream';
import { EngineError } from '../errors.js';
import { encodePlan, type ShimPlan } from './ops.js';

/** native/shim/build/mini-docker-shim, found from this file whether run from lib/ or dist/lib/. */
export function shimPath(): string {
  const p = join(installRoot(), 'native/shim/build/mini-docker-shim');
  if (existsSync(p)) return p;
  throw new EngineError('shim_missing', 'the native shim is not built (native/shim/build/mini-docker-shim is missing)', {
    hint: "run 'npm run build' (needs a C compiler: apt-get install -y gcc libc6-dev)",
  });
}

export interface ShimHandle {
  /** The container's first process, as the host sees it. */
  pid: number;
  shim: ChildProcess;
  /** Let the child go on; resolves once the command is executing, rejects with its failure. */
  go(): Promise<void>;
  /** Stop the start: the shim kills the waiting child. */
  abort(): void;
  /** The container's exit code (128+N when killed by signal N). */
  exited: Promise<number>;
  /** Detached: let go of the shim (now the monitor) so that the CLI can exit. */
  release(): void;
}

/** Lines arriving on the shim's status pipe, one at a time. */
class StatusReader {
  private buf = '';
  private lines: string[] = [];
  private waiters: ((line: string | null) => void)[] = [];
  private ended = false;
  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
    });
    stream.on('end', () => this.end());
    stream.on('error', () => this.end());
  }
  private push(line: string) {
    const w = this.waiters.shift();
    if (w) w(line);
    else this.lines.push(line);
  }
  private end() {
    this.ended = true;
    for (const w of this.waiters.splice(0)) w(null);
  }
  next(): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

function failure(line: string): EngineError {
  const m = /^error (\d+) (.*)$/s.exec(line);
  const code = m ? Number(m[1]) : 125;
  const message = m ? m[2]! : line;
  const hint =
    code === 127 ? 'check the command name and the image\'s PATH' :
    code === 126 ? 'the file exists but cannot be executed: check its mode and format' : undefined;
  return new EngineError(code === 125 ? 'start_failed' : 'exec_failed', message, { exitCode: code, hint });
}

/**
 * Start the shim with the plan. `stdio` is what the container's process gets on 0, 1 and 2
 * (inherited in the foreground). Resolves once the child exists and waits for "go".
 */
export async function startShim(plan: ShimPlan, opts: { stdio?: StdioOptions; title: string; detached?: boolean }): Promise<ShimHandle> {
  const io = (opts.stdio ?? ['inherit', 'inherit', 'inherit']) as unknown[];
  // The second argument only reserves room for the stage title `ps` shows (see set_stage in shim.c).
  // Detached, the shim gets a session of its own (setsid): the terminal's hangup is not its end.
  const shim = spawn(shimPath(), [opts.title.padEnd(48)], { stdio: [...io.slice(0, 3), 'pipe', 'pipe'] as StdioOptions, detached: !!opts.detached });
  const config = shim.stdio[3] as Writable;
  const status = new StatusReader(shim.stdio[4] as Readable);
  const exitedProcess = new Promise<number>((resolve) => {
    shim.on('exit', (code, signal) => resolve(code ?? 128 + (signal ? osSignal(signal) : 0)));
    shim.on('error', () => resolve(125));
  });
  config.on('error', () => {}); // the shim may exit before reading all of it; its status says why
  config.write(encodePlan(plan));

  const first = await status.next();
  if (!first || !first.startsWith('pid ')) {
    await exitedProcess;
    throw first ? failure(first) : new EngineError('shim_died', 'the native shim exited before starting the container');
  }
  const pid = Number(first.slice(4));
  // The exit code comes on the status pipe ("exit N") once the command ran; if the shim itself
  // was killed, from its own exit status.
  const drainExit = async (): Promise<number> => {
    let exitCode: number | undefined;
    for (let line = await status.next(); line !== null; line = await status.next()) {
      const m = /^exit (\d+)$/.exec(line);
      if (m) exitCode = Number(m[1]);
    }
    const code = await exitedProcess;
    return exitCode ?? code;
  };
  let resolveExited!: (code: number) => void;
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));

  return {
    pid,
    shim,
    exited,
    release() {
      (shim.stdio[3] as Writable).destroy();
      (shim.stdio[4] as Readable).destroy();
      shim.unref();
    },
    abort() {
      config.end();
      void exitedProcess.then(resolveExited);
    },
    async go() {
      config.write('go\n');
      const line = await status.next();
      if (line === 'started') {
        void drainExit().then(resolveExited);
        return;
      }
      void exitedProcess.then(resolveExited);
      await exitedProcess;
      throw line ? failure(line) : new EngineError('shim_died', 'the container process died before its command started');
    },
  };
}

function osSignal(name: NodeJS.Signals): number {
  return osConstants.signals[name] ?? 0;
}
