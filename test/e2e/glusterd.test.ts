import test from 'ava';
import { cliGlusterd, defaultGlusterd, type Glusterd, rpcGlusterd } from '../../src/gluster/index.js';
import { need } from '../helpers/testbed.js';

// One conformance suite for every way of asking glusterd, against the testbed's replica-3 volume.

const VOLUME = need('GLUSTER_VOLUME');
const BRICKS = [1, 2, 3].map((i) => `${need('GLUSTER_HOST')}:${need(`GLUSTER_BRICK${i}`)}`);

const fallbacks: string[] = [];
const implementations: [string, Glusterd][] = [
  ['socket', rpcGlusterd()],
  ['cli', cliGlusterd()],
  [
    'socket missing, cli',
    defaultGlusterd({ socket: '/nonexistent/glusterd.socket', onFallback: (what) => fallbacks.push(what) }),
  ],
];

for (const [name, glusterd] of implementations) {
  test(`${name}: volume info, host UUID, heal counts and an option of the testbed volume`, async (t) => {
    const [info, uuid, heal, ctime] = await Promise.all([
      glusterd.volumeInfo(VOLUME),
      glusterd.hostUuid(),
      glusterd.healCounts(VOLUME),
      glusterd.volumeOption(VOLUME, 'features.ctime'),
    ]);
    t.is(info.type, 'Replicate');
    t.regex(info.id, /^[0-9a-f-]{36}$/);
    t.deepEqual(
      info.bricks.map((b) => b.name),
      BRICKS,
    );
    t.true(
      info.bricks.every((b) => b.hostUuid === uuid && !b.arbiter),
      'every brick is served by this host',
    );
    t.is(info.options.get('nfs.disable'), 'on');
    t.deepEqual([...heal.keys()], BRICKS, 'every brick reports its count');
    t.true([...heal.values()].every((n) => Number.isInteger(n) && n >= 0));
    t.regex(ctime, /^(on|off)$/);
  });

  test(`${name}: a volume that does not exist is an error`, async (t) => {
    await t.throwsAsync(glusterd.volumeInfo('no-such-volume'), { message: /does not exist/ });
    await t.throwsAsync(glusterd.healCounts('no-such-volume'), { message: /does not exist/ });
  });
}

test('every way gives the same answers', async (t) => {
  const answers = await Promise.all(
    implementations.map(async ([, g]) => {
      const info = await g.volumeInfo(VOLUME);
      return {
        ...info,
        options: Object.fromEntries(info.options),
        uuid: await g.hostUuid(),
        ctime: await g.volumeOption(VOLUME, 'features.ctime'),
      };
    }),
  );
  for (const a of answers.slice(1)) t.deepEqual(a, answers[0]);
  t.true(fallbacks.includes('volume info'), 'the missing socket was reported');
});
