/**
 * The one error type of the engine: what failed (message), why (cause), and what to do (hint).
 * `exitCode` follows docker: 125 the engine failed, 126 the command cannot be executed,
 * 127 the command was not found; 1 for a plain failure of a management command.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: number;
  constructor(code: string, message: string, opts: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'EngineError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 125;
  }
}

export function isEngineError(e: unknown): e is EngineError {
  return e instanceof EngineError;
}

/** The message of anything thrown, without a stack. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
