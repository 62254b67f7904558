import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { loadConfig } from '../../config/load.js';
import { type StagingSource, snapshotSource, syncStaging } from '../../jobs/staging-sync.js';
import { openRepository } from '../../src/app/runtime.js';
import type { SqlClient } from '../../src/galera/index.js';
import { PermanentError } from '../../src/lib/errors.js';
import { nullLogger } from '../../src/lib/logger.js';
import {
  ADMIN_ANONYMIZE,
  baseTables,
  DEFAULT_ANONYMIZE,
  DEFAULT_OVERRIDES,
  DEFAULT_PRESERVE,
  DEFAULT_STRIP,
  DEFAULT_TABLE_OVERRIDES,
} from '../../src/staging/index.js';
import { cleanup, describeTree, put, sampleTree, tempDir, treeDiff } from '../files/fixtures.js';
import { counts, createShop, HOST_MAP, holding, PROD_HOSTS, piiOf } from '../fixtures/shop.js';
import { waitUntil } from '../helpers/drill.js';
import { nodeClient, withClusterLock } from '../helpers/galera.js';
import { lifeboat, lifeboatEnv, removeRepo, startLifeboat, testRepo } from '../helpers/lifeboat.js';
import { STAGING_ACCOUNT, stagingClient } from '../helpers/staging.js';
import { need, uniqueName } from '../helpers/testbed.js';

// Production → Staging from a physical snapshot on the real testbed: the shop on the Galera
// cluster, the snapshot in Ceph RGW, Staging on its own MariaDB.

const CUSTOMERS = 30;
const PRODUCTION = [1, 2, 3].map((n) => ({
  name: `n${n}`,
  host: need(`GALERA_NODE${n}_HOST`),
  port: Number(need(`GALERA_NODE${n}_PORT`)),
  socket: need(`GALERA_NODE${n}_SOCKET`),
}));
const target = (database: string) => ({
  endpoint: { name: 'staging', socket: need('STAGING_SOCKET'), user: need('STAGING_USER'), password: need('STAGING_PASSWORD') },
  database,
});
const transforms = {
  strip: DEFAULT_STRIP,
  hosts: HOST_MAP,
  overrides: DEFAULT_OVERRIDES,
  tableOverrides: DEFAULT_TABLE_OVERRIDES,
  anonymize: { spec: { ...DEFAULT_ANONYMIZE, ...ADMIN_ANONYMIZE }, salt: 'e2e-salt-0123' },
  definer: STAGING_ACCOUNT,
  preserve: DEFAULT_PRESERVE,
};

test.serial(
  'a snapshot becomes Staging: same rows, stripped, rewritten, anonymised, preserved, switched in; Production untouched',
  (t) =>
    withClusterLock(async () => {
      const prod = await nodeClient(1);
      const staging = await stagingClient();
      const shop = uniqueName('shop_prod').replaceAll('-', '_');
      const live = uniqueName('shop_live').replaceAll('-', '_');
      const repo = testRepo('n2');
      t.teardown(async () => {
        await prod.execute(`DROP DATABASE IF EXISTS \`${shop}\``);
        await staging.execute(`DROP DATABASE IF EXISTS \`${live}\``);
        await Promise.all([prod.close(), staging.close(), removeRepo(repo)]);
      });
      await createShop(prod, shop, CUSTOMERS);
      const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only']);
      t.is(snap.code, 0, snap.stderr);
      // the previous Staging, with its own admin
      await createShop(staging, live, 2);
      await staging.execute(
        `UPDATE \`${live}\`.admin_user SET username = 'stagingadmin', email = 'team@staging.test', password = 'staging-hash'`,
      );
      const checksums = async (): Promise<unknown> =>
        prod.query(`CHECKSUM TABLE ${(await baseTables(prod, shop)).map((x) => `\`${shop}\`.\`${x}\``).join(', ')}`);
      const before = await checksums();
      const prodRows = await counts(prod, shop);

      const workDir = mkdtempSync(join(tmpdir(), 'lifeboat-sync-'));
      const snapshots = await openRepository(loadConfig(repo.config, { env: lifeboatEnv() }), nullLogger);
      const report = await syncStaging({
        source: await snapshotSource(snapshots, 'latest', workDir),
        database: shop,
        target: target(live),
        production: PRODUCTION,
        transforms,
      });
      t.log(
        `phases ms ${JSON.stringify(report.phasesMs)}; switch: ${report.switch.tables} tables, Staging without its views for ${report.switch.unavailableMs} ms`,
      );

      const after = await counts(staging, live);
      for (const [table, n] of Object.entries(prodRows)) {
        if (report.transforms.strip.tables.some((s) => s.table === table)) t.is(after[table], 0, `${table} stripped`);
        else if (!['core_config_data', ...DEFAULT_PRESERVE.tables].includes(table)) t.is(after[table], n, table);
      }
      t.deepEqual(report.rows.sales_order, prodRows.sales_order);
      t.deepEqual(await holding(staging, live, [...piiOf(CUSTOMERS), ...PROD_HOSTS, 'prod-hash']), []);
      t.deepEqual(await staging.query(`SELECT username FROM \`${live}\`.admin_user`), [{ username: 'stagingadmin' }]);
      // views, triggers and routines are Staging's and work in the live schema
      const [view] = await staging.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM \`${live}\`.customer_emails`);
      t.is(Number(view?.n), CUSTOMERS + 2);
      await staging.execute(`INSERT INTO \`${live}\`.catalog_product_entity (sku) VALUES ('new-sku')`);
      t.is((await staging.query(`SELECT sku FROM \`${live}\`.catalog_product_entity WHERE sku = 'NEW-SKU'`)).length, 1);
      const definers = await staging.query<{ d: string }>(
        'SELECT definer AS d FROM information_schema.views WHERE table_schema = ? UNION ALL SELECT definer FROM information_schema.triggers WHERE trigger_schema = ? UNION ALL SELECT definer FROM information_schema.routines WHERE routine_schema = ?',
        [live, live, live],
      );
      t.deepEqual([...new Set(definers.map((d) => d.d))], ['lifeboat_staging@localhost']);
      // nothing left aside, nothing left on disk, Production byte-identical
      t.deepEqual(
        await staging.query('SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?', [
          `${live}\\_\\_lifeboat%`,
        ]),
        [],
      );
      t.false(existsSync(workDir));
      t.deepEqual(await checksums(), before);
    }),
);

test.serial('a Staging target that is a Production node is refused before anything moves', async (t) => {
  const untouched: StagingSource = {
    name: 'snapshot (never read)',
    snapshot: null,
    cluster: 'none',
    serve: () => Promise.reject(new Error('the source was read: the target was not refused first')),
  };
  const err = await t.throwsAsync(
    syncStaging({
      source: untouched,
      database: 'shop',
      target: { endpoint: { name: 'staging', socket: need('GALERA_NODE1_SOCKET'), user: 'x' }, database: 'shop' },
      production: PRODUCTION,
      transforms,
    }),
    { instanceOf: PermanentError },
  );
  t.regex(err?.message ?? '', /^staging target 'staging': it is Production node 'n1' \(socket .*\); refusing to sync$/);
});

/** A test repository whose config has a staging section for `shop` → `live` on the testbed's Staging. */
function stagingRepo(shop: string, live: string, more: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const target = {
    socket: need('STAGING_SOCKET'),
    user: need('STAGING_USER'),
    password: need('STAGING_PASSWORD'),
    database: live,
  };
  return testRepo('n2', { extra: { staging: { sourceDatabase: shop, target, hosts: HOST_MAP, ...more }, ...extra } });
}

test.serial(
  'lifeboat staging sync from the CLI: the plan with --dry-run, then the database and the media, as the config says',
  (t) =>
    withClusterLock(async () => {
      const prod = await nodeClient(1);
      const staging = await stagingClient();
      const shop = uniqueName('shop_cli').replaceAll('-', '_');
      const live = uniqueName('shop_stg').replaceAll('-', '_');
      // the shop's files: a local tree stands in for the Gluster mount; Staging's media directory beside it
      const root = tempDir('shop-root');
      const stagingMedia = tempDir('staging-media');
      sampleTree(root);
      put(stagingMedia, 'only-on-staging.jpg', 'x');
      const repo = stagingRepo(
        shop,
        live,
        {
          anonymize: { salt: 'cli-salt-0123', admins: true },
          overrides: [{ path: 'catalog/search/opensearch_server_hostname', value: 'search.staging.internal' }],
          media: { target: stagingMedia },
        },
        {
          files: {
            root,
            areas: [
              { name: 'pub/media', path: 'pub/media' },
              { name: 'app/etc', path: 'app/etc' },
            ],
          },
        },
      );
      t.teardown(async () => {
        cleanup(root, stagingMedia);
        await prod.execute(`DROP DATABASE IF EXISTS \`${shop}\``);
        await staging.execute(`DROP DATABASE IF EXISTS \`${live}\``);
        await Promise.all([prod.close(), staging.close(), removeRepo(repo)]);
      });
      await createShop(prod, shop, 5);
      const snap = await lifeboat(repo, ['snapshot']);
      t.is(snap.code, 0, snap.stderr);
      t.is((await lifeboat(repo, ['verify', 'latest'])).code, 0, 'a sync takes the newest verified snapshot');

      const plan = await lifeboat(repo, ['staging', 'sync', '--dry-run']);
      t.is(plan.code, 0, plan.stderr);
      t.regex(plan.stdout, /^staging sync plan \(dry run, nothing moved\)/);
      t.regex(plan.stdout, /strip \(rows dropped, schema kept\): .*cron_schedule/);
      t.deepEqual(
        await staging.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [live]),
        [],
        'a dry run moves nothing',
      );

      const run = await lifeboat(repo, ['--json', 'staging', 'sync', '--media']);
      t.is(run.code, 0, run.stderr);
      const report = JSON.parse(run.stdout) as {
        snapshot: string;
        switch: { unavailableMs: number };
        rows: Record<string, number>;
        media: { copied: number; deleted: number };
      };
      t.is(report.rows.sales_order, 10);
      t.is(report.media.deleted, 1, 'what only Staging had is gone');
      t.deepEqual(
        treeDiff(describeTree(join(root, 'pub/media')), describeTree(stagingMedia)).filter((d) => !d.startsWith('.:')),
        [],
      );
      t.false(existsSync(join(stagingMedia, 'env.php')), 'app/etc never reaches Staging');
      t.deepEqual(
        await staging.query(
          `SELECT value FROM \`${live}\`.core_config_data WHERE path = 'catalog/search/opensearch_server_hostname'`,
        ),
        [{ value: 'search.staging.internal' }],
      );
      t.deepEqual(await holding(staging, live, [...piiOf(5), ...PROD_HOSTS]), []);
    }),
);

test.serial(
  'a sync SIGKILLed in each phase leaves the previous Staging as it was (or finished), no scratch server behind, and the next sync succeeds',
  (t) =>
    withClusterLock(async () => {
      const prod = await nodeClient(1);
      const staging = await stagingClient();
      const shop = uniqueName('shop_kill').replaceAll('-', '_');
      const live = uniqueName('shop_prev').replaceAll('-', '_');
      const repo = stagingRepo(shop, live, { anonymize: { enabled: false } });
      t.teardown(async () => {
        await prod.execute(`DROP DATABASE IF EXISTS \`${shop}\``);
        for (const s of [live, `${live}__lifeboat_next`, `${live}__lifeboat_prev`])
          await staging.execute(`DROP DATABASE IF EXISTS \`${s}\``);
        await Promise.all([prod.close(), staging.close(), removeRepo(repo)]);
      });
      await createShop(prod, shop, 20);
      t.is((await lifeboat(repo, ['snapshot', '--db-only'])).code, 0);
      t.is((await lifeboat(repo, ['verify', 'latest'])).code, 0);
      await createShop(staging, live, 2);
      const previous = await counts(staging, live);
      const scratchServers = (): string[] =>
        execFileSync('pgrep', ['-af', 'staging-sync/datadir'], { encoding: 'utf8' }).split('\n').filter(Boolean);

      for (const phase of ['restore', 'start', 'copy', 'transform', 'switch']) {
        const run = startLifeboat(repo, ['--json', '--log-level', 'info', 'staging', 'sync']);
        for (let i = 0; i < 2400 && !run.stderr().includes(`"phase":"${phase}"`); i++) await sleep(25);
        t.true(run.stderr().includes(`"phase":"${phase}"`), `reached ${phase}: ${run.stderr().slice(-400)}`);
        run.child.kill('SIGKILL');
        await run.done;
        // the scratch server dies with its parent (its death signal), within seconds on a loaded machine
        for (let i = 0; i < 100 && scratchServersSafe(scratchServers).length > 0; i++) await sleep(100);
        t.deepEqual(scratchServersSafe(scratchServers), [], `no scratch mariadbd after a kill in ${phase}`);
        // the server finishes a statement the killed client sent (the switch's multi-table RENAME,
        // which information_schema can observe half-way): read Staging once none is left
        await statementsEnded(staging, live);
        const now = await counts(staging, live);
        if (phase !== 'switch') t.deepEqual(now, previous, `previous Staging intact after a kill in ${phase}`);
        else
          t.true(
            now.sales_order === previous.sales_order || now.sales_order === 40,
            `old or new tables after a kill in ${phase}`,
          );
      }
      const finished = await lifeboat(repo, ['--json', 'staging', 'sync']);
      t.is(finished.code, 0, finished.stderr);
      t.is((await counts(staging, live)).sales_order, 40);
      const [view] = await staging.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM \`${live}\`.customer_emails`);
      t.is(Number(view?.n), 22);
    }),
);

/** Waits until no other session of `staging` runs a statement naming `schema`. */
function statementsEnded(staging: SqlClient, schema: string): Promise<void> {
  return waitUntil(
    `statements on ${schema} to end after the kill`,
    async () =>
      (
        await staging.query('SELECT id FROM information_schema.processlist WHERE id <> CONNECTION_ID() AND INSTR(info, ?) > 0', [
          schema,
        ])
      ).length === 0,
    10_000,
  );
}

/** pgrep exits 1 when nothing matches. */
function scratchServersSafe(list: () => string[]): string[] {
  try {
    return list();
  } catch {
    return [];
  }
}

test.serial('source live: a consistent copy from this desynced node, read-only, the desync undone; media refused', (t) =>
  withClusterLock(async () => {
    const prod = await nodeClient(1);
    const node2 = await nodeClient(2);
    const staging = await stagingClient();
    const shop = uniqueName('shop_live').replaceAll('-', '_');
    const live = uniqueName('shop_lstg').replaceAll('-', '_');
    // a cap of 25 KiB/s: the ~50 KB dump takes about two seconds
    const repo = stagingRepo(shop, live, { anonymize: { salt: 'live-salt-0123' }, maxBytesPerSecond: 25_600 });
    t.teardown(async () => {
      await prod.execute(`DROP DATABASE IF EXISTS \`${shop}\``);
      await staging.execute(`DROP DATABASE IF EXISTS \`${live}\``);
      await Promise.all([prod.close(), node2.close(), staging.close(), removeRepo(repo)]);
    });
    await createShop(prod, shop, 12);
    const checksums = async (): Promise<unknown> =>
      prod.query(`CHECKSUM TABLE ${(await baseTables(prod, shop)).map((x) => `\`${shop}\`.\`${x}\``).join(', ')}`);
    const before = await checksums();
    const prodRows = await counts(prod, shop);

    const media = await lifeboat(repo, ['staging', 'sync', '--source', 'live', '--media']);
    t.is(media.code, 2, 'media comes from a snapshot only');
    t.regex(media.stderr, /'include' names media/);

    // no snapshot exists in this repository: a live sync needs none
    const run = await lifeboat(repo, ['--json', '--log-level', 'info', 'staging', 'sync', '--source', 'live']);
    t.is(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as {
      source: string;
      snapshot: string | null;
      rows: Record<string, number>;
      phasesMs: Record<string, number>;
    };
    t.true((report.phasesMs.copy ?? 0) >= 1500, `the copy kept to its rate limit: ${report.phasesMs.copy} ms`);
    t.is(report.source, 'live node n2');
    t.is(report.snapshot, null);
    t.is(report.rows.sales_order, prodRows.sales_order);
    t.regex(run.stderr, /desync/i, 'the node was desynced while it was read');
    t.deepEqual(await node2.query("SHOW GLOBAL VARIABLES LIKE 'wsrep_desync'"), [
      { Variable_name: 'wsrep_desync', Value: 'OFF' },
    ]);
    t.deepEqual(await holding(staging, live, piiOf(12)), []);
    t.deepEqual(await checksums(), before, 'Production byte-identical');
  }),
);
