import test from 'ava';
import { connect, type SqlClient } from '../../src/galera/index.js';
import { AbortedError, RetryableError } from '../../src/lib/errors.js';
import { nodeClient } from '../helpers/galera.js';
import { need } from '../helpers/testbed.js';

// Statement deadlines against a real server: the statement must be gone from the server after.

/**
 * Statements still running with `marker` in their text. The server answers a killed statement
 * before its processlist row is cleared, so this looks for up to a second before counting it.
 */
async function running(observer: SqlClient, marker: string): Promise<number> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const rows = await observer.query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE ? AND id <> CONNECTION_ID()',
      [`%${marker}%`],
    );
    const n = Number(rows[0]?.n ?? 0);
    if (n === 0 || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a statement past its deadline is killed on the server and the connection stays usable', async (t) => {
  const marker = `deadline_${Date.now()}`;
  const client = await connect({
    name: 'n2',
    socket: need('GALERA_NODE2_SOCKET'),
    user: need('GALERA_USER'),
    password: need('GALERA_PASSWORD'),
    statementTimeoutMs: 500,
  });
  const observer = await nodeClient(2);
  try {
    const started = Date.now();
    const err = await t.throwsAsync(client.query(`SELECT SLEEP(30) AS ${marker}`));
    t.true(err instanceof RetryableError);
    t.regex(
      err?.message ?? '',
      /^node 'n2': statement 'SELECT SLEEP\(30\) AS deadline_\d+' exceeded its deadline of 0\.5 s \(killed on the server\)$/,
    );
    t.true(Date.now() - started < 3000, `${Date.now() - started} ms`);
    t.is(await running(observer, marker), 0, 'the statement is gone from the server');
    t.deepEqual(await client.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await Promise.all([client.close(), observer.close()]);
  }
});

test('an aborted statement is killed on the server', async (t) => {
  const marker = `abort_${Date.now()}`;
  const client = await nodeClient(2);
  const observer = await nodeClient(2);
  try {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('test')), 300);
    const err = await t.throwsAsync(client.query(`SELECT SLEEP(30) AS ${marker}`, [], { signal: controller.signal }));
    t.true(err instanceof AbortedError, String(err));
    t.is(await running(observer, marker), 0, 'the statement is gone from the server');
  } finally {
    await Promise.all([client.close(), observer.close()]);
  }
});
