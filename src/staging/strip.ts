import { PermanentError } from '../lib/errors.js';
import { baseTables, type MagentoDatabase, quoteName, tableRef, wildcard } from './database.js';

/**
 * n98-magerun2's table groups (its config.yaml, `db:dump --strip`), so a team's `--strip` list
 * means the same here. A group lists table patterns and other groups.
 */
export const TABLE_GROUPS: Readonly<Record<string, string>> = {
  admin: 'admin* magento_logging_event magento_logging_event_changes ui_bookmark authorization_role authorization_rule',
  oauth: 'oauth_*',
  log: 'log_url log_url_info log_visitor log_visitor_info log_visitor_online report_event report_compared_product_index report_viewed_*',
  sessions: 'session persistent_session',
  stripped: '@log @sessions @dotmailer @newrelic_reporting @temp @ee_changelog @indexer_batches system_config_snapshot',
  sales:
    'sales_order sales_order_address sales_order_aggregated_created sales_order_aggregated_updated sales_order_grid sales_order_item ' +
    'sales_order_payment sales_order_status_history sales_order_tax sales_order_tax_item sequence_order_* sales_invoice sales_invoice_* ' +
    'sales_invoiced_* sequence_invoice_* sales_shipment sales_shipment_* sales_shipping_* sequence_shipment_* sales_creditmemo ' +
    'sales_creditmemo_* sequence_creditmemo_* sales_recurring_* sales_refunded_* sales_payment_* enterprise_sales_* ' +
    'enterprise_customer_sales_* sales_bestsellers_* magento_customercustomattributes_sales_flat_* inventory_reservation ' +
    'paypal_billing_agreement* paypal_payment_transaction paypal_settlement_report* magento_rma magento_rma_grid ' +
    'magento_rma_status_history magento_rma_shipping_label magento_rma_item_entity sequence_rma_item_* ' +
    'magento_sales_order_grid_archive magento_sales_creditmemo_grid_archive magento_sales_invoice_grid_archive magento_sales_shipment_grid_archive',
  quotes: 'negotiable_quote negotiable_quote_* quote quote_*',
  customers:
    'customer_address* customer_entity customer_entity_* customer_grid_flat customer_log customer_visitor newsletter_subscriber ' +
    'product_alert* vault_payment_token vault_payment_token_* wishlist wishlist_* company company_* magento_giftcardaccount ' +
    'magento_customerbalance magento_customerbalance_history magento_customersegment_customer magento_reward magento_reward_history',
  trade: '@customers @sales @quotes @klarna @mailchimp',
  development: '@admin @oauth @trade @stripped @search @2fa @aggregated',
  ee_changelog: '*_cl',
  indexer_batches: '*_index_batches',
  search: 'catalogsearch_* search_query search_synonyms',
  idx: '*_idx',
  dotmailer:
    'email_abandoned_cart email_automation email_campaign email_catalog email_contact email_contact_consent email_coupon_attribute ' +
    'email_failed_auth email_importer email_order email_review email_rules email_wishlist',
  '2fa': 'msp_tfa_user_config msp_tfa_trusted',
  newrelic_reporting: 'reporting_*',
  aggregated:
    '*_aggregated *_aggregated_updated *_aggregated_created *_aggregated_daily *_aggregated_monthly *_aggregated_yearly *_aggregated_order',
  replica: '*_replica',
  klarna: 'klarna_*',
  temp: '*__temp*',
  mailchimp: 'mailchimp_*',
};

/** Stripped unless the request says otherwise: logs, sessions, and the cron queue (Staging must not run Production's jobs). */
export const DEFAULT_STRIP: readonly string[] = ['@stripped', 'cron_schedule'];

/** Table patterns of a strip list: `@group`s expanded (an unknown group is an error naming it), names and wildcards as they are. */
export function expandStrip(spec: readonly string[], groups: Readonly<Record<string, string>> = TABLE_GROUPS): string[] {
  const patterns = new Set<string>();
  const visit = (item: string, path: readonly string[]): void => {
    if (!item.startsWith('@')) {
      patterns.add(item);
      return;
    }
    const name = item.slice(1);
    const members = groups[name];
    if (members === undefined)
      throw new PermanentError(
        `strip: unknown table group '${item}' (known: ${Object.keys(groups)
          .map((g) => `@${g}`)
          .join(', ')})`,
      );
    if (path.includes(name)) return;
    for (const member of members.split(/\s+/).filter(Boolean)) visit(member, [...path, name]);
  };
  for (const item of spec) visit(item.trim(), []);
  return [...patterns];
}

/** The tables of `tables` a strip list matches, sorted. */
export function tablesToStrip(
  spec: readonly string[],
  tables: readonly string[],
  groups?: Readonly<Record<string, string>>,
): string[] {
  const patterns = expandStrip(spec, groups).map(wildcard);
  return tables.filter((t) => patterns.some((p) => p.test(t))).sort();
}

export interface StripResult {
  /** tables emptied, with the rows they had */
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number }>;
  /** rows of kept tables that referenced stripped rows, handled by their foreign key's own rule */
  readonly dependents: ReadonlyArray<{
    readonly table: string;
    readonly constraint: string;
    readonly rule: string;
    readonly rows: number;
  }>;
}

interface ForeignKey {
  readonly table: string;
  readonly constraint: string;
  readonly referenced: string;
  readonly rule: string;
  readonly columns: readonly string[];
  readonly referencedColumns: readonly string[];
}

/**
 * Empties the tables a strip list matches (schema kept). Rows of kept tables that pointed at
 * stripped rows get their foreign key's ON DELETE rule (CASCADE deletes them, SET NULL clears
 * the reference, repeated through chains); a RESTRICT / NO ACTION reference is an error naming
 * the constraint and the table to strip with it, so no foreign key is ever left dangling.
 */
export async function stripTables(db: MagentoDatabase, schema: string, spec: readonly string[]): Promise<StripResult> {
  const stripped = tablesToStrip(spec, await baseTables(db, schema));
  const foreignKeys = await foreignKeysOf(db, schema);
  const strippedSet = new Set(stripped);
  for (const fk of foreignKeys) {
    if (strippedSet.has(fk.referenced) && !strippedSet.has(fk.table) && !['CASCADE', 'SET NULL'].includes(fk.rule))
      throw new PermanentError(
        `strip: table '${fk.referenced}' is referenced by '${fk.table}' (constraint ${fk.constraint}, ON DELETE ${fk.rule}); strip '${fk.table}' too`,
      );
  }
  const tables: { table: string; rows: number }[] = [];
  await db.execute('SET SESSION foreign_key_checks = 0');
  try {
    for (const table of stripped) {
      const [count] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${tableRef(schema, table)}`);
      await db.execute(`TRUNCATE TABLE ${tableRef(schema, table)}`);
      tables.push({ table, rows: Number(count?.n ?? 0) });
    }
  } finally {
    await db.execute('SET SESSION foreign_key_checks = 1');
  }
  const dependents = await applyDeleteRules(db, schema, foreignKeys, strippedSet);
  return { tables, dependents };
}

/** Repeats until no kept row references a missing one: a cascade can orphan the next table in a chain. */
async function applyDeleteRules(
  db: MagentoDatabase,
  schema: string,
  foreignKeys: readonly ForeignKey[],
  stripped: ReadonlySet<string>,
): Promise<StripResult['dependents']> {
  const done = new Map<string, { table: string; constraint: string; rule: string; rows: number }>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const fk of foreignKeys.filter((k) => !stripped.has(k.table))) {
      // full names, no aliases: the connection may have no default database (MariaDB resolves a DELETE alias in it)
      const child = tableRef(schema, fk.table);
      const orphan =
        fk.columns.map((c) => `${child}.${quoteName(c)} IS NOT NULL`).join(' AND ') +
        ` AND NOT EXISTS (SELECT 1 FROM ${tableRef(schema, fk.referenced)} p WHERE ${fk.columns
          .map((c, i) => `p.${quoteName(fk.referencedColumns[i] as string)} = ${child}.${quoteName(c)}`)
          .join(' AND ')})`;
      const rows =
        fk.rule === 'SET NULL'
          ? await db.execute(
              `UPDATE ${child} SET ${fk.columns.map((col) => `${quoteName(col)} = NULL`).join(', ')} WHERE ${orphan}`,
            )
          : fk.rule === 'CASCADE'
            ? await db.execute(`DELETE FROM ${child} WHERE ${orphan}`)
            : 0;
      if (rows === 0) continue;
      changed = true;
      const previous = done.get(fk.constraint);
      done.set(fk.constraint, { table: fk.table, constraint: fk.constraint, rule: fk.rule, rows: (previous?.rows ?? 0) + rows });
    }
  }
  return [...done.values()];
}

async function foreignKeysOf(db: MagentoDatabase, schema: string): Promise<ForeignKey[]> {
  const rows = await db.query<{ t: string; name: string; ref: string; rule: string; col: string; refcol: string }>(
    `SELECT k.table_name AS t, k.constraint_name AS name, k.referenced_table_name AS ref, r.delete_rule AS rule,
            k.column_name AS col, k.referenced_column_name AS refcol
       FROM information_schema.key_column_usage k
       JOIN information_schema.referential_constraints r
         ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name AND r.table_name = k.table_name
      WHERE k.table_schema = ? AND k.referenced_table_name IS NOT NULL
      ORDER BY k.table_name, k.constraint_name, k.ordinal_position`,
    [schema],
  );
  const keys = new Map<string, ForeignKey & { columns: string[]; referencedColumns: string[] }>();
  for (const r of rows) {
    const id = `${r.t}/${r.name}`;
    const key = keys.get(id) ?? {
      table: r.t,
      constraint: r.name,
      referenced: r.ref,
      rule: r.rule,
      columns: [],
      referencedColumns: [],
    };
    key.columns.push(r.col);
    key.referencedColumns.push(r.refcol);
    keys.set(id, key);
  }
  return [...keys.values()];
}
