import t from 'tap';
import { parseIdMapping, validateIdMappings, formatIdMap, hostId } from '../../lib/engine/namespaces/idmap.js';

t.test('parses podman-style C:H:N', async (t) => {
  t.same(parseIdMapping('0:100000:65536'), { inside: 0, host: 100000, size: 65536 });
  t.equal(formatIdMap([parseIdMapping('0:100000:65536')]), '0 100000 65536\n');
});

t.test('rejects malformed and out-of-range maps with a hint', async (t) => {
  for (const bad of ['0:100000', 'a:b:c', '0:1:0', '-1:0:1', '4294967295:0:2', '']) {
    t.throws(() => parseIdMapping(bad), { code: 'bad_idmap' }, bad);
  }
});

t.test('rejects overlapping ranges', async (t) => {
  t.throws(() => validateIdMappings([parseIdMapping('0:1000:10'), parseIdMapping('5:5000:10')]), /overlap/);
  t.throws(() => validateIdMappings([parseIdMapping('0:1000:10'), parseIdMapping('20:1005:10')]), /overlap/);
  t.doesNotThrow(() => validateIdMappings([parseIdMapping('0:1000:10'), parseIdMapping('10:1010:10')]));
});

t.test('maps ids', async (t) => {
  const m = [parseIdMapping('0:100000:65536')];
  t.equal(hostId(m, 0), 100000);
  t.equal(hostId(m, 1000), 101000);
  t.equal(hostId(m, 70000), undefined);
});
