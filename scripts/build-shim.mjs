#!/usr/bin/env node
// Compiles native/shim/shim.c during `npm install` (and `npm run build`). Plain cc, no node-gyp:
// the shim is a standalone program, not a Node addon. Also builds the small static tools that
// lessons and tests copy into containers (native/tools).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const top = join(dirname(fileURLToPath(import.meta.url)), '..');
const targets = [
  { src: 'native/shim/shim.c', out: 'native/shim/build/mini-docker-shim', flags: [] },
  // Static: it runs inside containers whose rootfs has no C library.
  { src: 'native/tools/ipcmk.c', out: 'native/tools/build/ipcmk', flags: ['-static'] },
];

const mtime = (p) => { try { return statSync(p).mtimeMs; } catch { return 0; } };
const cc = process.env.CC || 'cc';

for (const t of targets) {
  const src = join(top, t.src);
  const out = join(top, t.out);
  if (mtime(out) > mtime(src) && !process.argv.includes('--force')) continue;
  mkdirSync(dirname(out), { recursive: true });
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', ...t.flags, '-o', out, src], { stdio: 'inherit' });
  if (r.error && r.error.code === 'ENOENT') {
    console.error(`container-lab: no C compiler found ('${cc}'): the native shim (${t.src}) must be compiled.\n` +
      `  Install one, e.g. 'apt-get install -y gcc libc6-dev' (Debian/Ubuntu), then run 'npm run build'.`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`container-lab: compiling ${t.src} failed (see the compiler output above).`);
    process.exit(r.status ?? 1);
  }
}
