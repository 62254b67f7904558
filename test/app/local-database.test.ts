import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { type DatabaseStatus, LocalDatabase } from '../../src/app/local-database.js';
import type { SqlClient } from '../../src/galera/index.js';
import { RetryableError } from '../../src/lib/errors.js';

/** A server that is down until `up` is set; counts connections, closes and preparations. */
function fakeServer() {
  const server = { up: false, connects: 0, opened: 0, closed: 0, prepared: 0, prepareFails: false };
  const client: SqlClient = {
    query: async () => [],
    execute: async () => 0,
    close: async () => {
      server.closed++;
    },
  };
  const connect = async (): Promise<SqlClient> => {
    server.connects++;
    if (!server.up) throw new RetryableError("node 'n1': connect ENOENT /run/mysqld/mysqld.sock");
    server.opened++;
    return client;
  };
  const prepare = async (): Promise<void> => {
    if (server.prepareFails) throw new RetryableError("node 'n1': WSREP has not yet prepared node for application use");
    server.prepared++;
  };
  return { server, connect, prepare };
}

async function until(what: string, fn: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
}

test('down at start: says since when and why, fails work at once naming the node, and comes up with one preparation', async (t) => {
  const { server, connect, prepare } = fakeServer();
  const changes: [string, string][] = [];
  const db = new LocalDatabase({
    node: 'n1',
    connect,
    prepare,
    minBackoffMs: 20,
    maxBackoffMs: 40,
    checkEveryMs: 10_000,
    onChange: (c: DatabaseStatus, p: DatabaseStatus) => changes.push([p.state, c.state]),
  });
  t.teardown(() => db.stop());
  t.is(db.status().state, 'connecting');
  db.start();
  await until('down', () => db.status().state === 'down');
  const down = db.status();
  t.regex(down.lastError ?? '', /ENOENT/);
  t.truthy(down.nextAttemptAt);
  const error = await t.throwsAsync(
    db.use(async () => 'never'),
    { instanceOf: RetryableError },
  );
  t.is(error?.message, `node 'n1': database unreachable since ${down.since} (connect ENOENT /run/mysqld/mysqld.sock)`);
  await until('a few retries', () => server.connects >= 4);
  t.is(db.status().since, down.since, 'since stays the start of the outage');

  server.up = true;
  await until('up', () => db.status().state === 'up');
  t.is(server.prepared, 1);
  t.is(await db.use(async () => 'done'), 'done');
  t.is(server.prepared, 1, 'prepared once per outage, not per use');
  t.is(server.closed, server.opened, 'every connection is closed');
  t.deepEqual(changes, [
    ['connecting', 'down'],
    ['down', 'up'],
  ]);
});

test('a failed preparation keeps it down; a failed connection during work marks it down', async (t) => {
  const { server, connect, prepare } = fakeServer();
  server.up = true;
  server.prepareFails = true;
  const db = new LocalDatabase({ node: 'n1', connect, prepare, minBackoffMs: 10, maxBackoffMs: 10, checkEveryMs: 10_000 });
  t.teardown(() => db.stop());
  db.start();
  await until('down', () => db.status().state === 'down');
  t.regex(db.status().lastError ?? '', /WSREP/);
  server.prepareFails = false;
  await until('up', () => db.status().state === 'up');

  server.up = false;
  await t.throwsAsync(
    db.use(async () => 'x'),
    { message: /^node 'n1': database unreachable since / },
  );
  t.is(db.status().state, 'down');
});

test('backoff doubles up to its limit', async (t) => {
  const { connect, prepare } = fakeServer();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const db = new LocalDatabase({
    node: 'n1',
    connect,
    prepare,
    minBackoffMs: 1000,
    maxBackoffMs: 4000,
    now: () => new Date(now),
  });
  t.teardown(() => db.stop());
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    await db.available();
    waits.push(Date.parse(db.status().nextAttemptAt ?? '') - now);
    now += 1;
  }
  t.deepEqual(waits, [1000, 2000, 4000, 4000]);
});
