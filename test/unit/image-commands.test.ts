// The image commands through the real CLI: what a person sees, and what scripts rely on.
import t from 'tap';
import { join } from 'node:path';
import { md, tempRoot } from '../helpers/engine.js';
import { defaultOutDir, installBusyboxImage } from '../../sandbox-images/busybox/build.js';

t.test('images, tag, rmi, load', async (t) => {
  const root = tempRoot(t);
  const id = await installBusyboxImage(root);
  const short = id.slice(7, 19);

  const images = await md(root, ['images']);
  t.equal(images.code, 0, images.stderr);
  const lines = images.stdout.trimEnd().split('\n');
  t.match(lines[0], /^REPOSITORY {3}TAG {6}IMAGE ID {7}CREATED {7}SIZE$/);
  t.match(lines[1], new RegExp(`^busybox {6}latest {3}${short} {3}\\S.* ago {3}\\d[\\d.]*[kMG]?B$`));

  t.equal((await md(root, ['images', '-q'])).stdout, `${short}\n`);
  t.equal((await md(root, ['images', '-q', '--no-trunc'])).stdout, `${id}\n`);
  const json = JSON.parse((await md(root, ['images', '--format', 'json'])).stdout);
  t.match(json, { Repository: 'busybox', Tag: 'latest', ID: short, CreatedAt: '2024-01-01 00:00:00 +0000 UTC' });

  t.same(await md(root, ['tag', 'busybox', 'localhost:5000/me/bb:v1']), { code: 0, stdout: '', stderr: '' });
  t.match((await md(root, ['images', 'localhost:5000/me/bb'])).stdout, /\nlocalhost:5000\/me\/bb {3}v1 /);
  t.same(await md(root, ['rmi', 'localhost:5000/me/bb:v1']), { code: 0, stdout: 'Untagged: localhost:5000/me/bb:v1\n', stderr: '' });
  t.same(await md(root, ['image', 'rm', 'busybox']), { code: 0, stdout: `Untagged: busybox:latest\nDeleted: ${id}\n`, stderr: '' });
  t.equal((await md(root, ['images', '-q'])).stdout, '');

  t.same(await md(root, ['load', '-i', defaultOutDir()]), { code: 0, stdout: 'Loaded image: busybox:latest\n', stderr: '' });
  t.same(await md(root, ['load', '-i', defaultOutDir(), '--tag', 'other:1']), { code: 0, stdout: 'Loaded image: other:1\n', stderr: '' });
  t.equal((await md(root, ['images', '-q'])).stdout, `${short}\n${short}\n`, 'one row per tag');
});

t.test('rmi goes on after a failure and exits non-zero', async (t) => {
  const root = tempRoot(t);
  const id = await installBusyboxImage(root);
  const r = await md(root, ['rmi', 'nope', 'busybox']);
  t.equal(r.code, 1);
  t.equal(r.stdout, `Untagged: busybox:latest\nDeleted: ${id}\n`);
  t.match(r.stderr, /^mini-docker: No such image: nope:latest\n/);
});

t.test('mistakes get a message and a hint, never a stack', async (t) => {
  const root = tempRoot(t);
  const bad = await md(root, ['rmi', 'Busybox']);
  t.equal(bad.code, 125);
  t.equal(bad.stderr.split('\n')[0], 'mini-docker: invalid reference format: repository name (library/Busybox) must be lowercase');
  t.match(bad.stderr, /hint: /);
  const missing = await md(root, ['tag', 'nope', 'x']);
  t.equal(missing.code, 1);
  t.equal(missing.stderr.split('\n')[0], 'mini-docker: No such image: nope');
  const noInput = await md(root, ['load']);
  t.equal(noInput.code, 1);
  t.match(noInput.stderr, /-i PATH/);
  const notThere = await md(root, ['load', '-i', join(root, 'missing')]);
  t.equal(notThere.code, 1);
  t.match(notThere.stderr, /no such file or directory/);
  const notLayout = await md(root, ['load', '-i', root]);
  t.equal(notLayout.code, 125);
  t.match(notLayout.stderr, /is not an OCI image layout/);
  const format = await md(root, ['images', '--format', '{{.ID}}']);
  t.equal(format.code, 125);
  for (const r of [bad, missing, noInput, notThere, notLayout, format]) t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
