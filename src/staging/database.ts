import { PermanentError } from '../lib/errors.js';

/**
 * What the Staging transforms need of a MariaDB connection (the galera module's SqlClient has
 * it). Every transform works on an explicitly named schema: the copy being built aside.
 */
export interface MagentoDatabase {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** A quoted identifier; names with a backtick or NUL are refused (none of Magento's have one). */
export function quoteName(name: string): string {
  if (name === '' || /[`\0]/.test(name)) throw new PermanentError(`name ${JSON.stringify(name)}: not a usable SQL identifier`);
  return `\`${name}\``;
}

export function tableRef(schema: string, table: string): string {
  return `${quoteName(schema)}.${quoteName(table)}`;
}

/** The schema's base tables (not views), sorted. */
export async function baseTables(db: MagentoDatabase, schema: string): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
    [schema],
  );
  return rows.map((r) => r.name);
}

/** Columns per table with their maximum character length (null for non-text columns). */
export async function columnsOf(db: MagentoDatabase, schema: string): Promise<Map<string, Map<string, number | null>>> {
  const rows = await db.query<{ t: string; c: string; len: number | string | null }>(
    'SELECT table_name AS t, column_name AS c, character_maximum_length AS len FROM information_schema.columns WHERE table_schema = ?',
    [schema],
  );
  const tables = new Map<string, Map<string, number | null>>();
  for (const r of rows) {
    const columns = tables.get(r.t) ?? new Map<string, number | null>();
    columns.set(r.c, r.len === null ? null : Number(r.len));
    tables.set(r.t, columns);
  }
  return tables;
}

/** `*` as a wildcard, everything else literal (n98-magerun2's table patterns). */
export function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
