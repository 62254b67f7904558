import test from 'ava';
import { counts, createShop, HOST_MAP } from '../fixtures/shop.js';
import { apiBase, waitFor } from '../helpers/daemon.js';
import { nodeClient, withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeRepo, startLifeboat, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { stagingClient } from '../helpers/staging.js';
import { need, uniqueName } from '../helpers/testbed.js';

// A deploy pipeline refreshing Staging through two daemons' APIs, with Production unreachable from
// both: their cluster nodes point at ports and sockets nothing listens on, so a sync that opened
// any connection to Production would fail. One sync at a time across nodes (Staging's lock: 409).

const AUTH = { authorization: 'Bearer test-token-1', 'content-type': 'application/json' };
const UNREACHABLE = [1, 2, 3].map((n) => ({
  name: `n${n}`,
  host: '127.0.0.1',
  port: n, // nothing listens on ports 1–3 of the loopback: refused at once
  socket: `/nonexistent/lifeboat-n${n}.sock`,
  datadir: `/nonexistent/n${n}`,
}));

interface Job {
  state: string;
  progress: { phase: string; done: number; total: number | null; etaSeconds: number | null } | null;
  result: { snapshot: string; rows: Record<string, number>; record: string | null } | null;
  error: { message: string } | null;
}

function daemonRepo(node: 'n1' | 'n3', prefix: string, shop: string, live: string): TestRepo {
  return testRepo(node, {
    prefix,
    extra: {
      cluster: { name: 'testbed', node, nodes: UNREACHABLE },
      schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
      api: { listen: '127.0.0.1:0', token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
      daemon: { shutdownTimeoutSeconds: 5 },
      staging: {
        sourceDatabase: shop,
        target: {
          socket: need('STAGING_SOCKET'),
          user: need('STAGING_USER'),
          password: need('STAGING_PASSWORD'),
          database: live,
        },
        hosts: HOST_MAP,
        anonymize: { salt: 'api-salt-0123' },
      },
    },
  });
}

test('POST /v1/staging/sync: auth, 400 naming the field, 202 with progress, 409 on another node, status after; Production never reached', (t) =>
  withClusterLock(async () => {
    const prod = await nodeClient(1);
    const staging = await stagingClient();
    const shop = uniqueName('shop_api').replaceAll('-', '_');
    const live = uniqueName('shop_apistg').replaceAll('-', '_');
    const source = testRepo('n2');
    const a = daemonRepo('n1', source.prefix, shop, live);
    const b = daemonRepo('n3', source.prefix, shop, live);
    const daemons: ReturnType<typeof startLifeboat>[] = [];
    t.teardown(async () => {
      for (const d of daemons) d.child.kill('SIGTERM');
      await Promise.all(daemons.map((d) => d.done));
      await prod.execute(`DROP DATABASE IF EXISTS \`${shop}\``);
      await staging.execute(`DROP DATABASE IF EXISTS \`${live}\``);
      await Promise.all([prod.close(), staging.close(), removeRepo(source)]);
    });
    await createShop(prod, shop, 8);
    t.is((await lifeboat(source, ['snapshot', '--db-only'])).code, 0);
    const unverified = await lifeboat(a, ['staging', 'sync', '--dry-run']);
    t.is(unverified.code, 1, 'latest means the newest verified snapshot: there is none yet');
    t.regex(unverified.stderr, /no verified snapshot .*lifeboat verify latest/);
    t.is((await lifeboat(source, ['verify', 'latest'])).code, 0);

    daemons.push(startLifeboat(a, ['daemon']), startLifeboat(b, ['daemon']));
    const [baseA, baseB] = await Promise.all(daemons.map((d) => apiBase(d.stderr)));
    const post = (base: string | undefined, body: unknown, headers: Record<string, string> = AUTH) =>
      fetch(`${base}/v1/staging/sync`, { method: 'POST', headers, body: JSON.stringify(body) });

    t.is((await post(baseA, {}, { 'content-type': 'application/json' })).status, 401);
    const bad = await post(baseA, { snapshot: 5 });
    t.is(bad.status, 400);
    t.regex(await bad.text(), /'snapshot'/);
    t.regex(await (await post(baseA, { include: ['media'] })).text(), /'include'/);

    const started = await post(baseA, { source: 'snapshot', snapshot: 'latest', include: ['db'], anonymize: true });
    t.is(started.status, 202, await started.clone().text());
    const location = started.headers.get('location');
    t.regex(location ?? '', /^\/v1\/jobs\/[\w-]+$/);
    const elsewhere = await post(baseB, {});
    t.is(elsewhere.status, 409, 'a second sync on another node');
    t.regex(await elsewhere.text(), /staging-sync/);
    t.is((await post(baseA, {})).status, 409, 'and on the same node');

    const phases = new Set<string>();
    const job = await waitFor(
      'the sync to finish',
      async () => {
        const j = (await (await fetch(`${baseA}${location}`, { headers: AUTH })).json()) as Job;
        if (j.progress) phases.add(j.progress.phase);
        return j.state === 'running' ? undefined : j;
      },
      120_000,
    );
    t.is(job.state, 'succeeded', job.error?.message);
    t.log(`phases seen while polling: ${[...phases].join(', ')}`);
    t.true(phases.size >= 2, 'GET /v1/jobs/{id} shows the phase as it goes');
    t.is(job.result?.rows.sales_order, 16);
    t.is((await counts(staging, live)).sales_order, 16);
    t.truthy(job.result?.record);

    const status = await lifeboat(b, ['--json', 'staging', 'status']);
    t.is(status.code, 0, status.stderr);
    const history = JSON.parse(status.stdout) as { last: { ok: boolean; node: string; snapshot: string } };
    t.like(history.last, { ok: true, node: 'n1', snapshot: job.result?.snapshot });
    // the lock is free again once the sync ended
    const again = await post(baseB, { dryRun: true });
    t.is(again.status, 202, await again.clone().text());
  }));
