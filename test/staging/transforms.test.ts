import test from 'ava';
import { PermanentError } from '../../src/lib/errors.js';
import {
  ADMIN_ANONYMIZE,
  applyStagingTransforms,
  DEFAULT_ANONYMIZE,
  DEFAULT_OVERRIDES,
  DEFAULT_PRESERVE,
  DEFAULT_STRIP,
  DEFAULT_TABLE_OVERRIDES,
  rewriteBaseUrls,
  type StagingTransforms,
  stripTables,
} from '../../src/staging/index.js';
import { counts, createShop, HOST_MAP, holding, PROD_HOSTS, piiOf } from '../fixtures/shop.js';
import { STAGING_ACCOUNT, stagingClient } from '../helpers/staging.js';
import { uniqueName } from '../helpers/testbed.js';

// The Staging transforms on the testbed's Staging MariaDB, on a Magento-shaped shop.

const CUSTOMERS = 40;

function transforms(previous?: string): StagingTransforms {
  return {
    strip: DEFAULT_STRIP,
    hosts: HOST_MAP,
    overrides: [...DEFAULT_OVERRIDES, { path: 'catalog/search/opensearch_server_hostname', value: 'search.staging.internal' }],
    tableOverrides: DEFAULT_TABLE_OVERRIDES,
    anonymize: { spec: { ...DEFAULT_ANONYMIZE, ...ADMIN_ANONYMIZE }, salt: 'test-salt-0123' },
    definer: STAGING_ACCOUNT,
    ...(previous ? { preserve: { spec: DEFAULT_PRESERVE, previous } } : {}),
  };
}

/** A schema name of its own for each test (hyphens are not welcome in unquoted SQL). */
function schemaName(what: string): string {
  return uniqueName(`shop_${what}`).replace(/-/g, '_');
}

test.serial(
  'a copy of the shop becomes a safe Staging: stripped, rewritten in every scope, anonymised, preserved, definers fixed',
  async (t) => {
    const sql = await stagingClient();
    const source = schemaName('src');
    const copy = schemaName('copy');
    const previous = schemaName('prev');
    t.teardown(async () => {
      for (const s of [source, copy, previous]) await sql.execute(`DROP DATABASE IF EXISTS \`${s}\``);
      await sql.close();
    });
    await createShop(sql, source, CUSTOMERS);
    await createShop(sql, copy, CUSTOMERS);
    // the previous Staging: its own admin and integration
    await createShop(sql, previous, 2);
    await sql.execute(
      `UPDATE \`${previous}\`.admin_user SET username = 'stagingadmin', email = 'team@staging.test', password = 'staging-hash'`,
    );
    await sql.execute(`UPDATE \`${previous}\`.integration SET endpoint = 'https://erp.staging.internal/hook', status = 0`);

    const report = await applyStagingTransforms(sql, copy, transforms(previous));

    // stripped tables empty, schema kept; every other table keeps Production's row count
    const before = await counts(sql, source);
    const after = await counts(sql, copy);
    const stripped = report.strip.tables.map((s) => s.table);
    t.deepEqual(stripped, ['cron_schedule', 'report_event', 'session']);
    for (const table of Object.keys(before)) {
      if (stripped.includes(table)) t.is(after[table], 0, table);
      else if (!['core_config_data', ...DEFAULT_PRESERVE.tables].includes(table)) t.is(after[table], before[table], table);
    }

    // URLs and cookie domains point at Staging in every scope; placeholders stay
    const urls = await sql.query<{ scope: string; scope_id: number; path: string; value: string }>(
      `SELECT scope, scope_id, path, value FROM \`${copy}\`.core_config_data WHERE path LIKE 'web/%'`,
    );
    t.is(urls.length, 5 * 7);
    for (const u of urls) {
      if (u.value.startsWith('{{')) continue;
      t.true(
        Object.values(HOST_MAP).some((h) => u.value.includes(h)),
        `${u.scope}/${u.scope_id} ${u.path} = ${u.value}`,
      );
    }
    t.true(urls.some((u) => u.value === 'https://staging-de.shop.test:8443/media/' && u.scope === 'stores'));
    t.true(urls.some((u) => u.value === '.staging-b2b.shop.test' && u.scope === 'websites'));
    t.is(report.baseUrls.length, 5 * 5);

    // side effects off, in every scope that had the path
    const config = async (path: string): Promise<(string | null)[]> =>
      (
        await sql.query<{ value: string | null }>(
          `SELECT value FROM \`${copy}\`.core_config_data WHERE path = ? ORDER BY scope, scope_id`,
          [path],
        )
      ).map((r) => r.value);
    t.deepEqual(await config('system/smtp/disable'), ['1', '1']);
    t.deepEqual(await config('payment/braintree/environment'), ['sandbox']);
    t.deepEqual(await config('paypal/wpp/sandbox_flag'), ['1'], 'a default row is added for a path Production did not set');
    t.deepEqual(await config('catalog/search/opensearch_server_hostname'), ['search.staging.internal']);

    // no Production PII and no Production host anywhere (every text column of every table)
    t.deepEqual(await holding(sql, copy, [...piiOf(CUSTOMERS), ...PROD_HOSTS, 'prod-hash']), []);
    // anonymised consistently: an order still carries its customer's (fake) e-mail, unique per website holds
    const [mismatch] = await sql.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.sales_order o JOIN \`${copy}\`.customer_entity c ON c.entity_id = o.customer_id WHERE o.customer_email <> c.email`,
    );
    t.is(Number(mismatch?.n), 0);
    const [dup] = await sql.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM \`${copy}\`.customer_entity a JOIN \`${copy}\`.customer_entity b ON a.email = b.email AND a.entity_id < b.entity_id`,
    );
    t.is(Number(dup?.n), 2, 'the two customers registered with one e-mail on two websites still share one (fake) e-mail');
    t.true(report.anonymize?.columns.some((c) => c.table === 'sales_order_grid' && c.column === 'billing_name' && c.rows > 0));

    // Staging's own admin and integration carried over; integrations disabled
    t.deepEqual(await sql.query(`SELECT username, password FROM \`${copy}\`.admin_user`), [
      { username: 'stagingadmin', password: 'staging-hash' },
    ]);
    t.deepEqual(await sql.query(`SELECT endpoint, status FROM \`${copy}\`.integration`), [
      { endpoint: 'https://erp.staging.internal/hook', status: 0 },
    ]);

    // definers: every object is Staging's account's and works
    const definers = await sql.query<{ d: string }>(
      `SELECT definer AS d FROM information_schema.views WHERE table_schema = ? UNION ALL SELECT definer FROM information_schema.triggers WHERE trigger_schema = ?
     UNION ALL SELECT definer FROM information_schema.routines WHERE routine_schema = ? UNION ALL SELECT definer FROM information_schema.events WHERE event_schema = ?`,
      [copy, copy, copy, copy],
    );
    t.deepEqual(
      definers.map((d) => d.d),
      Array(4).fill('lifeboat_staging@localhost'),
    );
    t.is(report.definers.length, 4);
    const [viewRows] = await sql.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM \`${copy}\`.customer_emails`);
    t.is(Number(viewRows?.n), CUSTOMERS + 2);
    await sql.execute(`INSERT INTO \`${copy}\`.catalog_product_entity (sku) VALUES ('lower-sku')`);
    t.deepEqual(await sql.query(`SELECT sku FROM \`${copy}\`.catalog_product_entity WHERE sku = 'LOWER-SKU'`), [
      { sku: 'LOWER-SKU' },
    ]);
    const [routine] = await sql.query<{ m: string }>(
      'SELECT sql_mode AS m FROM information_schema.routines WHERE routine_schema = ?',
      [copy],
    );
    t.regex(routine?.m ?? '', /ANSI_QUOTES/, 'the procedure keeps the sql_mode it was created under');
    await sql.execute(`CALL \`${copy}\`.count_orders(@orders)`);
    t.deepEqual(await sql.query('SELECT CAST(@orders AS CHAR) AS n'), [{ n: String(CUSTOMERS * 2) }]);
    t.log(`durations ms: ${JSON.stringify(report.durationsMs)}`);
  },
);

test.serial('anonymisation is deterministic: the same salt gives the same Staging twice', async (t) => {
  const sql = await stagingClient();
  const a = schemaName('a');
  const b = schemaName('b');
  t.teardown(async () => {
    for (const s of [a, b]) await sql.execute(`DROP DATABASE IF EXISTS \`${s}\``);
    await sql.close();
  });
  for (const s of [a, b]) {
    await createShop(sql, s, 10);
    await applyStagingTransforms(sql, s, transforms());
  }
  const rows = (s: string) =>
    sql.query(`SELECT entity_id, email, firstname, lastname FROM \`${s}\`.customer_entity ORDER BY entity_id`);
  t.deepEqual(await rows(a), await rows(b));
  const addresses = (s: string) =>
    sql.query(`SELECT street, telephone, postcode FROM \`${s}\`.customer_address_entity ORDER BY entity_id`);
  t.deepEqual(await addresses(a), await addresses(b));
});

test.serial('a host without a Staging mapping is refused naming the scope and path; nothing is written', async (t) => {
  const sql = await stagingClient();
  const s = schemaName('host');
  t.teardown(async () => {
    await sql.execute(`DROP DATABASE IF EXISTS \`${s}\``);
    await sql.close();
  });
  await createShop(sql, s, 2);
  const { 'b2b.example.com': _, ...partial } = HOST_MAP;
  const err = await t.throwsAsync(rewriteBaseUrls(sql, s, partial), { instanceOf: PermanentError });
  t.regex(
    err?.message ?? '',
    /^core_config_data websites\/3 web\/unsecure\/base_url: host 'b2b\.example\.com' has no Staging host/,
  );
  const [left] = await sql.query<{ n: number | string }>(
    `SELECT COUNT(*) AS n FROM \`${s}\`.core_config_data WHERE value LIKE '%staging%'`,
  );
  t.is(Number(left?.n), 0);
});

test.serial(
  'stripping keeps foreign keys valid: SET NULL and CASCADE follow their rule, a RESTRICT reference is refused naming it',
  async (t) => {
    const sql = await stagingClient();
    const s = schemaName('fk');
    t.teardown(async () => {
      await sql.execute(`DROP DATABASE IF EXISTS \`${s}\``);
      await sql.close();
    });
    await createShop(sql, s, 6);
    // customers without sales: orders lose their customer (SET NULL); addresses go with them (stripped too, by the group)
    const result = await stripTables(sql, s, ['@customers']);
    t.true(result.tables.some((x) => x.table === 'customer_entity' && x.rows === 8));
    t.deepEqual(
      result.dependents.map((d) => [d.table, d.rule, d.rows]),
      [['sales_order', 'SET NULL', 12]],
    );
    const [orphans] = await sql.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM \`${s}\`.sales_order WHERE customer_id IS NOT NULL`,
    );
    t.is(Number(orphans?.n), 0);
    // a RESTRICT reference into a stripped table
    await sql.execute(
      `CREATE TABLE \`${s}\`.sku_note (id INT PRIMARY KEY, product_id INT UNSIGNED, FOREIGN KEY fk_note (product_id) REFERENCES \`${s}\`.catalog_product_entity (entity_id))`,
    );
    await sql.execute(`INSERT INTO \`${s}\`.sku_note SELECT 1, MIN(entity_id) FROM \`${s}\`.catalog_product_entity`);
    await t.throwsAsync(stripTables(sql, s, ['catalog_product_*']), {
      instanceOf: PermanentError,
      message:
        /^strip: table 'catalog_product_entity' is referenced by 'sku_note' \(constraint \w+, ON DELETE RESTRICT\); strip 'sku_note' too$/,
    });
    const [kept] = await sql.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM \`${s}\`.catalog_product_entity`);
    t.is(Number(kept?.n), 50, 'refused before anything was emptied');
  },
);
