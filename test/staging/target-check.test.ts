import test from 'ava';
import { PermanentError } from '../../src/lib/errors.js';
import { identify, refuseProductionEndpoint, refuseProductionServer } from '../../src/staging/index.js';
import { nodeClient } from '../helpers/galera.js';
import { stagingClient } from '../helpers/staging.js';
import { need } from '../helpers/testbed.js';

const PRODUCTION = [1, 2, 3].map((n) => ({
  name: `n${n}`,
  host: need(`GALERA_NODE${n}_HOST`),
  port: Number(need(`GALERA_NODE${n}_PORT`)),
}));

test('a Staging target configured as a Production node is refused before any connection', (t) => {
  t.throws(() => refuseProductionEndpoint({ name: 'staging', host: PRODUCTION[1]?.host, port: 3306 }, PRODUCTION), {
    instanceOf: PermanentError,
    message: /^staging target 'staging': it is Production node 'n2' \(10\.77\.0\.12:3306\); refusing to sync$/,
  });
  t.throws(
    () => refuseProductionEndpoint({ name: 'staging', socket: '/run/n1.sock' }, [{ name: 'n1', socket: '/run/n1.sock' }]),
    {
      message: /it is Production node 'n1' \(socket \/run\/n1\.sock\)/,
    },
  );
  t.throws(() => refuseProductionEndpoint({ name: 's', host: 'localhost', port: 3306 }, [{ name: 'n1', host: '127.0.0.1' }]));
  t.notThrows(() => refuseProductionEndpoint({ name: 's', host: '127.0.0.1', port: 13320 }, PRODUCTION));
});

test('on the testbed: the Staging server passes; a Production node as target is refused by its cluster uuid and as the same server', async (t) => {
  const staging = await stagingClient();
  const n1 = await nodeClient(1);
  const n2 = await nodeClient(2);
  try {
    const [s, p1, p2] = [await identify(staging), await identify(n1), await identify(n2)];
    t.is(s.clusterUuid, null);
    t.truthy(p1.clusterUuid);
    const production = { clusters: [p1.clusterUuid as string], servers: [p1] };
    t.notThrows(() => refuseProductionServer('staging', s, production));
    t.throws(() => refuseProductionServer('staging', p2, production), {
      message: new RegExp(
        `^staging target 'staging': it is a member of the Production Galera cluster ${p1.clusterUuid}; refusing to sync$`,
      ),
    });
    t.throws(() => refuseProductionServer('staging', p1, { clusters: [], servers: [p1] }), {
      message: /it is the Production server .*datadir/,
    });
  } finally {
    await Promise.all([staging.close(), n1.close(), n2.close()]);
  }
});
