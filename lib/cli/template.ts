// The common part of Go's text/template that docker's --format uses:
//   {{.State.Pid}}   {{json .Config}}   {{.Name}} {{.State.Status}}   {{upper .Name}}   {{println ...}}
// Objects and lists print as JSON (Go would print map[...]; JSON is what scripts want).
import { EngineError } from '../engine/errors.js';

function lookup(data: unknown, path: string): unknown {
  if (path === '.') return data;
  let v: unknown = data;
  for (const key of path.slice(1).split('.')) {
    if (v === null || typeof v !== 'object' || !(key in (v as object))) {
      throw new EngineError('bad_template', `template: can't evaluate field ${key}`, { hint: 'field names are case-sensitive, e.g. {{.State.Pid}}' });
    }
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function show(v: unknown): string {
  if (v === null || v === undefined) return '<no value>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function evalAction(action: string, data: unknown): string {
  const words = action.trim().split(/\s+/);
  const arg = (w: string | undefined) => {
    if (w === undefined) throw new EngineError('bad_template', `template: missing argument in {{${action}}}`);
    if (/^".*"$/.test(w)) return w.slice(1, -1);
    return lookup(data, w);
  };
  switch (words[0]) {
    case 'json': return JSON.stringify(arg(words[1]));
    case 'upper': return show(arg(words[1])).toUpperCase();
    case 'lower': return show(arg(words[1])).toLowerCase();
    case 'println': return words.slice(1).map((w) => show(arg(w))).join(' ') + '\n';
    case 'join': {
      const list = arg(words[1]);
      return Array.isArray(list) ? list.map(show).join(String(arg(words[2]))) : show(list);
    }
    default:
      if (words.length === 1 && words[0]!.startsWith('.')) return show(lookup(data, words[0]!));
      throw new EngineError('bad_template', `template: unsupported action {{${action}}}`, { hint: 'supported: {{.Field.Path}}, {{json .X}}, {{upper .X}}, {{lower .X}}, {{join .List ","}}, {{println .X}}' });
  }
}

/** Render a template against one value; `\t` and `\n` written literally count as escapes, as docker does. */
export function renderTemplate(template: string, data: unknown): string {
  return template.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\{\{(.*?)\}\}/g, (_, action: string) => evalAction(action, data));
}
