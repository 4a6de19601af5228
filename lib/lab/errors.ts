/** The lab's one error type: what failed (message) and what to do about it (hint). */
export class LabError extends Error {
  readonly hint?: string;
  readonly exitCode: number;
  constructor(message: string, hint?: string, exitCode = 1) {
    super(message);
    this.name = 'LabError';
    this.hint = hint;
    this.exitCode = exitCode;
  }
}
