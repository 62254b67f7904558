import { likePattern } from './config.js';
import { type MagentoDatabase, quoteName, tableRef } from './database.js';

/** What Staging keeps of its own across a refresh: whole tables, and `core_config_data` paths (`*` = below). */
export interface PreserveSpec {
  readonly tables: readonly string[];
  readonly paths: readonly string[];
}

/** Staging's admin accounts and API credentials: a refresh must not log its team out or give it Production's keys. */
export const DEFAULT_PRESERVE: PreserveSpec = {
  tables: [
    'admin_user',
    'admin_passwords',
    'authorization_role',
    'authorization_rule',
    'integration',
    'oauth_consumer',
    'oauth_token',
  ],
  paths: [],
};

export interface PreserveResult {
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number }>;
  readonly paths: ReadonlyArray<{ readonly path: string; readonly rows: number }>;
  /** tables or paths the previous Staging did not have (nothing to keep) */
  readonly skipped: readonly string[];
}

/**
 * Replaces, in the new copy `schema`, the preserved tables' rows and paths' rows with those of
 * the previous Staging (`previous`, a schema on the same server), copying the columns both have.
 * Runs with foreign key checks off: the preserved rows reference each other (a role and its
 * rules), not the Production rows they replace.
 */
export async function preserveFrom(
  db: MagentoDatabase,
  schema: string,
  previous: string,
  spec: PreserveSpec,
): Promise<PreserveResult> {
  const tables: { table: string; rows: number }[] = [];
  const paths: { path: string; rows: number }[] = [];
  const skipped: string[] = [];
  const shared = async (table: string): Promise<string[]> => {
    const rows = await db.query<{ c: string }>(
      `SELECT a.column_name AS c FROM information_schema.columns a JOIN information_schema.columns b
         ON b.table_schema = ? AND b.table_name = a.table_name AND b.column_name = a.column_name
        WHERE a.table_schema = ? AND a.table_name = ? ORDER BY a.ordinal_position`,
      [previous, schema, table],
    );
    return rows.map((r) => quoteName(r.c));
  };
  await db.execute('SET SESSION foreign_key_checks = 0');
  try {
    for (const table of spec.tables) {
      const columns = await shared(table);
      if (columns.length === 0) {
        skipped.push(table);
        continue;
      }
      await db.execute(`DELETE FROM ${tableRef(schema, table)}`);
      const rows = await db.execute(
        `INSERT INTO ${tableRef(schema, table)} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${tableRef(previous, table)}`,
      );
      tables.push({ table, rows });
    }
    const columns = spec.paths.length > 0 ? (await shared('core_config_data')).filter((c) => c !== '`config_id`') : [];
    for (const path of spec.paths) {
      if (columns.length === 0) {
        skipped.push(path);
        continue;
      }
      const [where, key] = path.endsWith('*') ? ['path LIKE ?', `${likePattern(path.slice(0, -1))}%`] : ['path = ?', path];
      await db.execute(`DELETE FROM ${tableRef(schema, 'core_config_data')} WHERE ${where}`, [key]);
      const rows = await db.execute(
        `INSERT INTO ${tableRef(schema, 'core_config_data')} (${columns.join(', ')}) SELECT ${columns.join(', ')} FROM ${tableRef(previous, 'core_config_data')} WHERE ${where}`,
        [key],
      );
      paths.push({ path, rows });
    }
  } finally {
    await db.execute('SET SESSION foreign_key_checks = 1');
  }
  return { tables, paths, skipped };
}
