import t from 'tap';
import { isImageIdPrefix, parseReference } from '../../lib/engine/image/reference.js';
import { isEngineError } from '../../lib/engine/errors.js';

const HEX64 = 'a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4';

t.test('docker normalises short names onto docker.io/library', async (t) => {
  for (const s of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/busybox', 'docker.io/library/busybox:latest', 'index.docker.io/library/busybox']) {
    const r = parseReference(s);
    t.equal(r.domain, 'docker.io', s);
    t.equal(r.path, 'library/busybox', s);
    t.equal(r.tag, 'latest', s);
    t.equal(r.familiar, 'busybox:latest', s);
    t.equal(r.name, 'busybox', s);
    t.equal(r.repository, 'docker.io/library/busybox', s);
    t.equal(r.canonical, 'docker.io/library/busybox:latest', s);
    t.equal(r.digest, undefined, s);
  }
});

t.test('tags, namespaces and registries', async (t) => {
  t.match(parseReference('busybox:1.36'), { tag: '1.36', familiar: 'busybox:1.36', name: 'busybox' });
  t.match(parseReference('user/repo'), { domain: 'docker.io', path: 'user/repo', familiar: 'user/repo:latest', name: 'user/repo' });
  // Only a single component under library/ is an official image; deeper paths keep the prefix.
  t.match(parseReference('docker.io/library/a/b'), { path: 'library/a/b', name: 'library/a/b' });
  t.match(parseReference('localhost:5000/a/b:tag'), {
    domain: 'localhost:5000', path: 'a/b', tag: 'tag', familiar: 'localhost:5000/a/b:tag', name: 'localhost:5000/a/b',
    canonical: 'localhost:5000/a/b:tag',
  });
  t.match(parseReference('localhost/foo'), { domain: 'localhost', path: 'foo', familiar: 'localhost/foo:latest' });
  t.match(parseReference('localhost'), { domain: 'docker.io', path: 'library/localhost' }, 'a bare name is never a registry');
  t.match(parseReference('example.com/x'), { domain: 'example.com', path: 'x' });
  t.match(parseReference('registry:5000/x'), { domain: 'registry:5000', path: 'x' });
  t.match(parseReference('[::1]:5000/foo:v1'), { domain: '[::1]:5000', path: 'foo', tag: 'v1' });
  t.match(parseReference('Foo/bar'), { domain: 'Foo', path: 'bar' }, 'a capitalised first component can only be a host');
  t.match(parseReference('busybox:Latest_1.x-y'), { tag: 'Latest_1.x-y' }, 'tags may have capitals');
  for (const ok of ['a__b', 'a.b', 'a-b', 'a---b', 'a_b', 'a0/b1/c2', 'x'.repeat(200)]) t.equal(parseReference(ok).path.endsWith(ok), true, ok);
  t.equal(parseReference(`a:${'t'.repeat(128)}`).tag!.length, 128);
});

t.test('digests', async (t) => {
  const r = parseReference(`busybox@sha256:${HEX64}`);
  t.equal(r.tag, undefined, 'no default tag when a digest is given');
  t.equal(r.digest, `sha256:${HEX64}`);
  t.equal(r.familiar, `busybox@sha256:${HEX64}`);
  t.equal(r.canonical, `docker.io/library/busybox@sha256:${HEX64}`);
  const both = parseReference(`localhost:5000/app:v2@sha256:${HEX64}`);
  t.equal(both.tag, 'v2');
  t.equal(both.familiar, `localhost:5000/app:v2@sha256:${HEX64}`);
});

t.test('invalid references fail with docker\'s words', async (t) => {
  const cases: [string, string][] = [
    ['Busybox', 'invalid reference format: repository name (library/Busybox) must be lowercase'],
    ['user/Repo:1', 'invalid reference format: repository name (user/Repo) must be lowercase'],
    ['busybox:', 'invalid reference format'],
    ['', 'invalid reference format'],
    [':latest', 'invalid reference format'],
    ['a..b', 'invalid reference format'],
    ['a___b', 'invalid reference format'],
    ['-a', 'invalid reference format'],
    ['a-', 'invalid reference format'],
    ['a/b:tag:tag', 'invalid reference format'],
    ['a b', 'invalid reference format'],
    [`a:${'t'.repeat(129)}`, 'invalid reference format'],
    ['busybox@sha256:abc', 'invalid reference format'],
    [`busybox@sha256:${HEX64.slice(0, 40)}`, 'invalid checksum digest length'],
    [`busybox@sha256:${HEX64.toUpperCase()}`, 'invalid checksum digest format'],
    [`busybox@md5:${HEX64.slice(0, 32)}`, 'unsupported digest algorithm'],
    [HEX64, `invalid repository name (${HEX64}), cannot specify 64-byte hexadecimal strings`],
    [`example.com/${'a'.repeat(250)}`, 'invalid reference format: repository name must not be more than 255 characters'],
  ];
  for (const [input, message] of cases) {
    t.throws(() => parseReference(input), { code: 'invalid_reference', message, exitCode: 125 }, JSON.stringify(input));
  }
  try {
    parseReference('Busybox');
  } catch (e) {
    t.ok(isEngineError(e) && e.hint, 'carries a hint');
  }
});

t.test('isImageIdPrefix', async (t) => {
  for (const yes of ['a', 'abc123', HEX64, `sha256:${HEX64}`, 'sha256:a3ed']) t.equal(isImageIdPrefix(yes), true, yes);
  for (const no of ['', 'xyz', 'ABC', `${HEX64}0`, 'sha256:', 'busybox', 'sha512:abc']) t.equal(isImageIdPrefix(no), false, no);
});
