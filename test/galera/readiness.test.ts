import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { assertSnapshotReady, connect, peerPositions, recoverDesync, withDesync, wsrepStatus } from '../../src/galera/index.js';
import { nodeClient, withClusterLock } from '../helpers/galera.js';
import { need } from '../helpers/testbed.js';
import { withStuckApplier } from './stuck-applier.js';

// A node whose applier is stuck still says Synced; readiness must see that it is behind, and a
// desync on it must end at its deadline. Each case keeps node 3 stuck for a few seconds.

const peers = () =>
  peerPositions(
    [1, 2].map((n) => ({
      name: `n${n}`,
      host: need(`GALERA_NODE${n}_HOST`),
      port: Number(need(`GALERA_NODE${n}_PORT`)),
      user: need('GALERA_USER'),
      password: need('GALERA_PASSWORD'),
      connectTimeoutMs: 3000,
      statementTimeoutMs: 3000,
    })),
  );

test.serial('readiness refuses a node whose receive queue does not drain, naming the reason', (t) =>
  withClusterLock(() =>
    withStuckApplier(3, async (stuck) => {
      const status = await wsrepStatus(stuck);
      t.is(status.localState, 'Synced', 'the stuck node still says Synced');
      await t.throwsAsync(assertSnapshotReady('n3', stuck, { maxRecvQueue: 0, catchUpMs: 1000, peers }), {
        message:
          /^node 'n3': receive queue holds \d+ write sets \(limit 0\): the node is behind the cluster; refusing to take a snapshot$/,
      });
      const started = Date.now();
      await t.throwsAsync(assertSnapshotReady('n3', stuck, { maxRecvQueue: 100, catchUpMs: 1000, peers }), {
        message: /^node 'n3': behind the cluster: last committed \d+, node 'n[12]' at \d+, not caught up within 1 s/,
      });
      t.true(Date.now() - started < 4000, `${Date.now() - started} ms`);
      await t.throwsAsync(assertSnapshotReady('n3', stuck, { maxRecvQueue: 100, catchUpMs: 1000 }), {
        message: /behind the cluster: .*receive queue \d+ not draining/,
      });
    }),
  ),
);

test.serial('readiness accepts a healthy node', async (t) => {
  const client = await nodeClient(3);
  try {
    await t.notThrowsAsync(assertSnapshotReady('n3', client, { maxRecvQueue: 16, catchUpMs: 5000, peers }));
  } finally {
    await client.close();
  }
});

test.serial('a desync on a stuck node ends at its deadline, and the marker undoes it once the node moves', (t) =>
  withClusterLock(async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'lifeboat-desync-'));
    const client = await connect({
      name: 'n3',
      socket: need('GALERA_NODE3_SOCKET'),
      user: need('GALERA_USER'),
      password: need('GALERA_PASSWORD'),
      statementTimeoutMs: 1000,
    });
    const options = { node: 'n3', stateDir, resyncTimeoutMs: 1000 };
    try {
      await withStuckApplier(3, async () => {
        const started = Date.now();
        let worked = false;
        await t.throwsAsync(
          withDesync(client, options, async () => {
            worked = true;
          }),
          { message: /^node 'n3': statement 'SET GLOBAL wsrep_desync = ON' exceeded its deadline of 1 s/ },
        );
        t.false(worked, 'no backup ran');
        t.true(Date.now() - started < 10_000, `${Date.now() - started} ms`);
      });
      // The killed statement completes once the applier moves: the marker makes the next run undo it.
      t.true(await recoverDesync(client, { ...options, resyncTimeoutMs: 30_000 }));
      t.false((await wsrepStatus(client)).desync, 'node 3 is not desynced');
      t.is((await wsrepStatus(client)).localState, 'Synced');
    } finally {
      // never leave the shared node desynced
      await client.execute('SET GLOBAL wsrep_desync = OFF').catch(() => {});
      await client.close();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }),
);
