import t from 'tap';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mergeEnv, parseEnvFile, parseEnvVar, resolveCommand, validateHostname } from '../../lib/engine/container/config.js';
import { resolveUser } from '../../lib/engine/container/user.js';
import { encodePlan } from '../../lib/engine/runtime/ops.js';
import { generateName, VALID_NAME, newContainerId, shortId } from '../../lib/engine/container/ids.js';
import { humanDuration, humanSize, formatTable } from '../../lib/cli/table.js';

t.test('ENTRYPOINT + CMD follow docker\'s rules', async (t) => {
  const img = { Entrypoint: ['/entry'], Cmd: ['default'] };
  t.same(resolveCommand(img, undefined, []).argv, ['/entry', 'default'], 'image defaults');
  t.same(resolveCommand(img, undefined, ['x', 'y']).argv, ['/entry', 'x', 'y'], 'args replace CMD');
  t.same(resolveCommand(img, 'sh', []).argv, ['sh'], '--entrypoint drops the image CMD');
  t.same(resolveCommand(img, 'sh', ['-c', 'true']).argv, ['sh', '-c', 'true']);
  t.same(resolveCommand({ Cmd: ['sh'] }, undefined, []).argv, ['sh']);
  t.throws(() => resolveCommand({}, undefined, []), { code: 'no_command' });
  t.throws(() => resolveCommand(img, '', []), { code: 'no_command' }, 'empty entrypoint and no args');
});

t.test('environment: -e, host copies, env files, precedence', async (t) => {
  t.equal(parseEnvVar('A=1'), 'A=1');
  t.equal(parseEnvVar('A=b=c'), 'A=b=c');
  t.equal(parseEnvVar('FROMHOST', { FROMHOST: 'v' }), 'FROMHOST=v');
  t.equal(parseEnvVar('UNSET_X', {}), undefined);
  t.throws(() => parseEnvVar('=x'), { code: 'bad_env' });
  t.throws(() => parseEnvVar('A B=x'), /whitespace/);
  t.same(mergeEnv(['PATH=/bin', 'A=1'], ['A=2', 'B=3']), ['PATH=/bin', 'A=2', 'B=3']);
  const dir = mkdtempSync(join(tmpdir(), 'mdtest-env-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'env');
  writeFileSync(f, '# comment\n\nA=1\n  B=two words\nHOSTVAR\nMISSING_VAR\r\n');
  t.same(parseEnvFile(f, { HOSTVAR: 'h' }), ['A=1', 'B=two words', 'HOSTVAR=h']);
  t.throws(() => parseEnvFile(join(dir, 'nope')), /no such file/);
  writeFileSync(f, 'OK=1\n=bad\n');
  t.throws(() => parseEnvFile(f), /env:2/);
});

t.test('users resolve against the image\'s passwd and group', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n';
  const group = 'root:x:0:\nwww:x:33:\nadm:x:4:www\n';
  t.same(resolveUser('', passwd, group), { uid: 0, gid: 0, groups: [], home: '/root' });
  t.same(resolveUser('www', passwd, group), { uid: 33, gid: 33, groups: [4], home: '/var/www' });
  t.same(resolveUser('1000', passwd, group), { uid: 1000, gid: 0, groups: [], home: '/' });
  t.same(resolveUser('1000:1000', passwd, group), { uid: 1000, gid: 1000, groups: [], home: '/' });
  t.same(resolveUser('www:root', passwd, group).gid, 0);
  t.throws(() => resolveUser('nobody', passwd, group), /unable to find user nobody/);
  t.throws(() => resolveUser('0:nogroup', passwd, group), /unable to find group/);
  t.throws(() => resolveUser(':1', passwd, group), { code: 'bad_user' });
});

t.test('hostnames and names', async (t) => {
  t.doesNotThrow(() => validateHostname('web-1.local'));
  for (const bad of ['', '-x', 'a b', 'x'.repeat(64), 'a_b']) t.throws(() => validateHostname(bad), { code: 'bad_hostname' }, bad);
  for (let i = 0; i < 50; i++) t.match(generateName(), /^[a-z]+_[a-z]+$/);
  t.ok(VALID_NAME.test('my-box.1'));
  t.notOk(VALID_NAME.test('-bad'));
  const id = newContainerId();
  t.match(id, /^[0-9a-f]{64}$/);
  t.equal(shortId(id), id.slice(0, 12));
});

t.test('the shim\'s plan encoding escapes tabs, newlines and backslashes', async (t) => {
  const text = encodePlan({
    cloneFlags: 0x20000000, tty: false, stdin: true, debug: false,
    host: [{ op: 'unshare', flags: 0x20000 }],
    child: [{ op: 'env', kv: 'A=x\ty\nz\\' }, { op: 'exec', argv: ['sh', '-c', 'echo hi'] }],
  });
  t.same(text.trim().split('\n'), [
    'option\tdebug\t0', 'option\tstdin\t1', 'option\ttty\t0', `option\tclone\t${0x20000000}`,
    `host\tunshare\t${0x20000}`, 'child\tenv\tA=x\\ty\\nz\\\\', 'child\texec\tsh\t-c\techo hi', 'end',
  ]);
});

t.test('docker-style output helpers', async (t) => {
  t.equal(humanSize(4_261_000), '4.26MB');
  t.equal(humanSize(999), '999B');
  t.equal(humanDuration(3), '3 seconds');
  t.equal(humanDuration(90), 'About a minute');
  t.equal(humanDuration(3 * 3600), '3 hours');
  t.same(formatTable(['A', 'BB'], [['x', 'y']]), ['A   BB', 'x   y']);
});
