import test from 'ava';
import { PermanentError } from '../../src/lib/errors.js';
import { DEFAULT_STRIP, expandStrip, TABLE_GROUPS, tablesToStrip } from '../../src/staging/index.js';

const TABLES = [
  'admin_user',
  'catalog_product_entity',
  'catalog_product_index_price_idx',
  'catalogsearch_fulltext_scope1',
  'cron_schedule',
  'customer_entity',
  'customer_grid_flat',
  'quote',
  'quote_item',
  'report_event',
  'report_viewed_product_index',
  'sales_order',
  'sales_order_grid',
  'sales_order_aggregated_created',
  'sequence_order_1',
  'session',
  'catalog_product_price_cl',
];

test('groups expand recursively in n98-magerun2 vocabulary; plain names and wildcards pass through', (t) => {
  t.deepEqual(tablesToStrip(['@stripped'], TABLES), [
    'catalog_product_price_cl',
    'report_event',
    'report_viewed_product_index',
    'session',
  ]);
  t.deepEqual(tablesToStrip(DEFAULT_STRIP, TABLES), [
    'catalog_product_price_cl',
    'cron_schedule',
    'report_event',
    'report_viewed_product_index',
    'session',
  ]);
  t.deepEqual(tablesToStrip(['@quotes', 'catalog_product_*_idx'], TABLES), [
    'catalog_product_index_price_idx',
    'quote',
    'quote_item',
  ]);
  t.deepEqual(tablesToStrip(['@trade'], TABLES), [
    'customer_entity',
    'customer_grid_flat',
    'quote',
    'quote_item',
    'sales_order',
    'sales_order_aggregated_created',
    'sales_order_grid',
    'sequence_order_1',
  ]);
  t.true(tablesToStrip(['@development'], TABLES).includes('admin_user'));
  t.deepEqual(tablesToStrip(['@search', '@idx'], TABLES), ['catalog_product_index_price_idx', 'catalogsearch_fulltext_scope1']);
});

test('every group the issue names exists, and each member group is known', (t) => {
  for (const g of [
    'log',
    'sessions',
    'stripped',
    'sales',
    'quotes',
    'customers',
    'trade',
    'search',
    'idx',
    'admin',
    'oauth',
    '2fa',
    'development',
  ])
    t.truthy(TABLE_GROUPS[g], g);
  for (const members of Object.values(TABLE_GROUPS))
    for (const m of members.split(/\s+/).filter((x) => x.startsWith('@'))) t.truthy(TABLE_GROUPS[m.slice(1)], m);
});

test('an unknown group is an error naming it', (t) => {
  t.throws(() => expandStrip(['@nope']), {
    instanceOf: PermanentError,
    message: /^strip: unknown table group '@nope' \(known: @admin, /,
  });
});
