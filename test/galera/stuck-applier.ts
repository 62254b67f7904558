import { setTimeout as sleep } from 'node:timers/promises';
import { type SqlClient, wsrepStatus } from '../../src/galera/index.js';
import { nodeClient } from '../helpers/galera.js';
import { uniqueName } from '../helpers/testbed.js';

/**
 * Runs `fn` while node `n`'s applier is stuck: a session on `n` holds `LOCK TABLES … WRITE` on a
 * table of our own that node 1 then writes to. The node still says Synced while its receive queue
 * holds the write sets it cannot apply. Few writes (below flow control's limit, so the cluster
 * keeps going), and always released. Call it under withClusterLock.
 */
export async function withStuckApplier<T>(n: 2 | 3, fn: (stuck: SqlClient) => Promise<T>): Promise<T> {
  const db = uniqueName('lbstuck').replaceAll('-', '_');
  const writer = await nodeClient(1);
  const locker = await nodeClient(n);
  const stuck = await nodeClient(n);
  try {
    await writer.execute(`CREATE DATABASE ${db}`);
    await writer.execute(`CREATE TABLE ${db}.t (id INT PRIMARY KEY AUTO_INCREMENT, v INT) ENGINE=InnoDB`);
    // the database reaches node n a moment later: until then SHOW TABLES fails with errno 1049
    await waitFor(async () => (await locker.query(`SHOW TABLES IN ${db}`).catch(() => [])).length === 1);
    await locker.execute(`LOCK TABLES ${db}.t WRITE`);
    try {
      for (let i = 0; i < 5; i++) await writer.execute(`INSERT INTO ${db}.t (v) VALUES (?)`, [i]);
      await waitFor(async () => (await wsrepStatus(stuck)).recvQueue > 0);
      return await fn(stuck);
    } finally {
      await locker.execute('UNLOCK TABLES');
    }
  } finally {
    await waitFor(async () => (await wsrepStatus(stuck)).recvQueue === 0).catch(() => {});
    await writer.execute(`DROP DATABASE IF EXISTS ${db}`).catch(() => {});
    await Promise.all([writer.close(), locker.close(), stuck.close()]);
  }
}

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('stuck-applier: condition not reached');
    await sleep(50);
  }
}
