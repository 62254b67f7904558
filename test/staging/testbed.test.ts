import test from 'ava';
import { nodeClient } from '../helpers/galera.js';
import { stagingClient } from '../helpers/staging.js';

// The testbed's Staging: a standalone MariaDB beside the Production cluster, never a member of it.
test('the Staging server answers with its own account and is not a member of the Production cluster', async (t) => {
  const staging = await stagingClient();
  const production = await nodeClient(1);
  try {
    const [s] = await staging.query<{ wsrep: number | string; id: number | string }>(
      'SELECT @@wsrep_on AS wsrep, @@server_id AS id',
    );
    t.is(Number(s?.wsrep), 0);
    const [p] = await production.query<{ id: number | string }>('SELECT @@server_id AS id');
    t.not(Number(s?.id), Number(p?.id));
  } finally {
    await Promise.all([staging.close(), production.close()]);
  }
});
