import { PermanentError } from '../lib/errors.js';
import { type MagentoDatabase, quoteName, tableRef } from './database.js';

/** What a column holds; it decides the shape of the fake value (valid for Magento's validators). */
export type PiiKind =
  | 'email'
  | 'firstname'
  | 'lastname'
  | 'name'
  | 'phone'
  | 'street'
  | 'city'
  | 'postcode'
  | 'company'
  | 'ip'
  | 'text';

/** Columns to anonymise per table; tables or columns a shop does not have are skipped (and reported). */
export type AnonymizeSpec = Readonly<Record<string, Readonly<Record<string, PiiKind>>>>;

const ADDRESS: Readonly<Record<string, PiiKind>> = {
  firstname: 'firstname',
  middlename: 'firstname',
  lastname: 'lastname',
  company: 'company',
  street: 'street',
  city: 'city',
  postcode: 'postcode',
  telephone: 'phone',
  fax: 'phone',
  email: 'email',
  vat_id: 'text',
};
const GRID: Readonly<Record<string, PiiKind>> = {
  customer_email: 'email',
  customer_name: 'name',
  billing_name: 'name',
  shipping_name: 'name',
  billing_address: 'text',
  shipping_address: 'text',
};

/**
 * Customer PII of a stock Magento 2.4: customers, addresses, orders and their addresses,
 * quotes, newsletter, reviews' nicknames, and the grid / flat tables that copy them.
 */
export const DEFAULT_ANONYMIZE: AnonymizeSpec = {
  customer_entity: { email: 'email', firstname: 'firstname', middlename: 'firstname', lastname: 'lastname', taxvat: 'text' },
  customer_address_entity: ADDRESS,
  customer_grid_flat: {
    name: 'name',
    email: 'email',
    billing_full: 'text',
    shipping_full: 'text',
    billing_firstname: 'firstname',
    billing_lastname: 'lastname',
    billing_telephone: 'phone',
    billing_postcode: 'postcode',
    billing_street: 'street',
    billing_city: 'city',
    billing_company: 'company',
    billing_fax: 'phone',
    billing_vat_id: 'text',
    taxvat: 'text',
  },
  sales_order: {
    customer_email: 'email',
    customer_firstname: 'firstname',
    customer_middlename: 'firstname',
    customer_lastname: 'lastname',
    customer_taxvat: 'text',
    remote_ip: 'ip',
    x_forwarded_for: 'ip',
  },
  sales_order_address: ADDRESS,
  sales_order_grid: { ...GRID, billing_address: 'text', shipping_address: 'text' },
  sales_invoice_grid: GRID,
  sales_shipment_grid: GRID,
  sales_creditmemo_grid: GRID,
  quote: {
    customer_email: 'email',
    customer_firstname: 'firstname',
    customer_middlename: 'firstname',
    customer_lastname: 'lastname',
    remote_ip: 'ip',
  },
  quote_address: ADDRESS,
  newsletter_subscriber: { subscriber_email: 'email' },
  review_detail: { nickname: 'firstname' },
};

/** Admin users too, when asked (`anonymize.admins`); usernames stay so Staging's own admins can log in. */
export const ADMIN_ANONYMIZE: AnonymizeSpec = { admin_user: { email: 'email', firstname: 'firstname', lastname: 'lastname' } };

/**
 * The fake value of a kind, in SQL: a function of the salt and the original value only, so the
 * same e-mail becomes the same fake e-mail in every table (orders still match their customer) and
 * distinct values stay distinct (64 bits of SHA-256: unique keys hold). `v` is the column.
 */
function fake(kind: PiiKind, v: string): string {
  const h = (chars: number): string => `LEFT(SHA2(CONCAT(?, ${v}), 256), ${chars})`;
  switch (kind) {
    case 'email':
      return `CONCAT('c', ${h(16)}, '@example.invalid')`;
    case 'firstname':
      return `CONCAT('First', ${h(8)})`;
    case 'lastname':
      return `CONCAT('Last', ${h(8)})`;
    case 'name':
      return `CONCAT('Name ', ${h(12)})`;
    case 'company':
      return `CONCAT('Company ', ${h(8)})`;
    case 'street':
      return `CONCAT(CONV(LEFT(SHA2(CONCAT(?, ${v}), 256), 3), 16, 10), ' Sample Street')`;
    case 'city':
      return `CONCAT('City ', ${h(6)})`;
    case 'postcode':
      return `LPAD(CONV(${h(5)}, 16, 10) MOD 100000, 5, '0')`;
    case 'phone':
      return `CONCAT('+1555', LPAD(CONV(${h(7)}, 16, 10) MOD 10000000, 7, '0'))`;
    case 'ip':
      return `CONCAT('192.0.2.', CONV(${h(2)}, 16, 10))`;
    case 'text':
      return `CONCAT('redacted ', ${h(16)})`;
  }
}

export interface AnonymizeResult {
  readonly columns: ReadonlyArray<{
    readonly table: string;
    readonly column: string;
    readonly kind: PiiKind;
    readonly rows: number;
  }>;
  /** `table` or `table.column` of the spec that the schema does not have */
  readonly skipped: readonly string[];
}

/**
 * Replaces PII with deterministic fakes, one set-based UPDATE per table (no row round trips),
 * each value cut to its column's length. NULL and empty values stay as they are. `salt` must be
 * the same on every sync for stable fakes, and secret: with it, a fake can be checked against a
 * guessed original.
 */
export async function anonymize(
  db: MagentoDatabase,
  schema: string,
  spec: AnonymizeSpec,
  salt: string,
  columns: ReadonlyMap<string, ReadonlyMap<string, number | null>>,
): Promise<AnonymizeResult> {
  if (salt.length < 8) throw new PermanentError('staging.anonymize.salt: must be at least 8 characters');
  const done: { table: string; column: string; kind: PiiKind; rows: number }[] = [];
  const skipped: string[] = [];
  for (const [table, wanted] of Object.entries(spec)) {
    const present = columns.get(table);
    if (!present) {
      skipped.push(table);
      continue;
    }
    const sets: string[] = [];
    const params: string[] = [];
    const used: [string, PiiKind][] = [];
    for (const [column, kind] of Object.entries(wanted)) {
      if (!present.has(column)) {
        skipped.push(`${table}.${column}`);
        continue;
      }
      const c = quoteName(column);
      const max = present.get(column);
      const value = fake(kind, c);
      sets.push(`${c} = IF(${c} IS NULL OR ${c} = '', ${c}, ${max ? `LEFT(${value}, ${max})` : value})`);
      params.push(salt);
      used.push([column, kind]);
    }
    if (sets.length === 0) continue;
    const rows = await db.execute(`UPDATE ${tableRef(schema, table)} SET ${sets.join(', ')}`, params);
    for (const [column, kind] of used) done.push({ table, column, kind, rows });
  }
  return { columns: done, skipped };
}
