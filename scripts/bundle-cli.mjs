#!/usr/bin/env node
// Bundles mini-docker's CLI (dist/lib/cli/entry.js and everything it imports) into one file,
// dist/mini-docker.mjs: Node then loads one module instead of about eighty, which was most of
// a container start (80 ms of module loading, measured). Lazy imports stay lazy.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(top, 'dist/lib/cli/entry.js')],
  outfile: join(top, 'dist/mini-docker.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // koffi loads a native addon that must stay in node_modules.
  external: ['koffi'],
  // CommonJS dependencies (commander) call require(): give the ES module one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
