// Containers are named by full ID, by name, or by any unique prefix of the ID (docker's order).
import { EngineError } from '../errors.js';
import type { Layout } from '../paths.js';
import { listContainerIds, readConfig } from './store.js';

export function findContainer(paths: Layout, ref: string): string {
  const ids = listContainerIds(paths);
  if (ids.includes(ref)) return ref;
  const name = ref.replace(/^\//, '');
  for (const id of ids) {
    try {
      if (readConfig(paths, id).name === name) return id;
    } catch {
      // being created or removed
    }
  }
  const matches = /^[0-9a-f]+$/.test(ref) ? ids.filter((id) => id.startsWith(ref)) : [];
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new EngineError('ambiguous_prefix', `Multiple IDs found with provided prefix: ${ref}`, {
      exitCode: 1,
      hint: `candidates: ${matches.map((m) => m.slice(0, 12)).join(', ')}; give more characters of the ID`,
    });
  }
  throw new EngineError('no_such_container', `No such container: ${ref}`, { exitCode: 1, hint: "'mini-docker ps -a' lists the containers here" });
}
