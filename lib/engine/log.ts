/**
 * The engine's one logger. Quiet by default; the CLI's --debug turns on "explain mode", where
 * every kernel operation the engine performs is reported, in order, with the exact call.
 * The engine never prints: it hands lines to whatever sink the CLI or the lab installed.
 */
export type Sink = (line: string) => void;

let sink: Sink | undefined;

export function setExplainSink(s: Sink | undefined): void {
  sink = s;
}

export function explaining(): boolean {
  return sink !== undefined;
}

/** Report one kernel operation, e.g. explain('mount', 'overlay on /x (lowerdir=...)'). */
export function explain(what: string, detail: string): void {
  if (sink) sink(`${what.padEnd(12)} ${detail}`);
}
