#!/usr/bin/env node
// Compiles native/shim/shim.c during `npm install` (and `npm run build`). Plain cc, no node-gyp:
// the shim is a standalone program, not a Node addon.
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(top, 'native/shim/shim.c');
const out = join(top, 'native/shim/build/mini-docker-shim');

const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return 0; } };
if (mtime(out) > mtime(src) && !process.argv.includes('--force')) process.exit(0);

const cc = process.env.CC || 'cc';
mkdirSync(dirname(out), { recursive: true });
const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-o', out, src], { stdio: 'inherit' });
if (r.error && r.error.code === 'ENOENT') {
  console.error(`container-lab: no C compiler found ('${cc}'): the native shim (native/shim/shim.c) must be compiled.\n` +
    `  Install one, e.g. 'apt-get install -y gcc libc6-dev' (Debian/Ubuntu), then run 'npm run build'.`);
  process.exit(1);
}
if (r.status !== 0) {
  console.error('container-lab: compiling native/shim/shim.c failed (see the compiler output above).');
  process.exit(r.status ?? 1);
}
