import { PermanentError } from '../lib/errors.js';
import { type MagentoDatabase, quoteName, tableRef } from './database.js';

/** `core_config_data` paths holding a store's own URLs (Magento 2.4), in every scope. */
export const BASE_URL_PATHS: readonly string[] = [
  'web/unsecure/base_url',
  'web/unsecure/base_link_url',
  'web/unsecure/base_static_url',
  'web/unsecure/base_media_url',
  'web/secure/base_url',
  'web/secure/base_link_url',
  'web/secure/base_static_url',
  'web/secure/base_media_url',
];

export const COOKIE_DOMAIN_PATHS: readonly string[] = ['web/cookie/cookie_domain'];

export interface ScopedChange {
  readonly scope: string;
  readonly scopeId: number;
  readonly path: string;
  readonly from: string | null;
  readonly to: string | null;
}

type ConfigRow = {
  readonly config_id: number;
  readonly scope: string;
  readonly scope_id: number;
  readonly path: string;
  readonly value: string | null;
};

/**
 * Points every store URL and cookie domain at Staging, in every scope: each value's host goes
 * through `hosts` (Production host → Staging host, lowercase; a cookie domain's leading dot is
 * kept). Values made of placeholders (`{{unsecure_base_url}}`) or empty stay. A host the mapping
 * does not name is an error naming the scope and path: a Staging link must never lead to
 * Production. Returns the changes, all written in one statement.
 */
export async function rewriteBaseUrls(
  db: MagentoDatabase,
  schema: string,
  hosts: Readonly<Record<string, string>>,
  paths: { readonly urls?: readonly string[]; readonly cookieDomains?: readonly string[] } = {},
): Promise<ScopedChange[]> {
  const urlPaths = paths.urls ?? BASE_URL_PATHS;
  const cookiePaths = paths.cookieDomains ?? COOKIE_DOMAIN_PATHS;
  const all = [...urlPaths, ...cookiePaths];
  if (all.length === 0) return [];
  const rows = await db.query<ConfigRow>(
    `SELECT config_id, scope, scope_id, path, value FROM ${tableRef(schema, 'core_config_data')} WHERE path IN (${all.map(() => '?').join(', ')}) ORDER BY config_id`,
    all,
  );
  const mapHost = (row: ConfigRow, host: string): string => {
    const to = hosts[host.toLowerCase()];
    if (to === undefined)
      throw new PermanentError(
        `core_config_data ${row.scope}/${row.scope_id} ${row.path}: host '${host}' has no Staging host in the mapping (staging.hosts)`,
      );
    return to;
  };
  const changes: (ScopedChange & { id: number })[] = [];
  for (const row of rows) {
    const value = row.value?.trim() ?? '';
    if (value === '' || value.startsWith('{{')) continue;
    let to: string;
    if (cookiePaths.includes(row.path)) {
      const dot = value.startsWith('.') ? '.' : '';
      to = dot + mapHost(row, value.slice(dot.length));
    } else {
      const url = parseUrl(row, value);
      url.host = url.port ? `${mapHost(row, url.hostname)}:${url.port}` : mapHost(row, url.hostname);
      to = url.toString();
    }
    if (to !== row.value)
      changes.push({ id: row.config_id, scope: row.scope, scopeId: Number(row.scope_id), path: row.path, from: row.value, to });
  }
  if (changes.length > 0) {
    await db.execute(
      `UPDATE ${tableRef(schema, 'core_config_data')} SET value = CASE config_id ${changes.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE config_id IN (${changes.map(() => '?').join(', ')})`,
      [...changes.flatMap((c) => [c.id, c.to]), ...changes.map((c) => c.id)],
    );
  }
  return changes.map(({ id: _, ...change }) => change);
}

function parseUrl(row: ConfigRow, value: string): URL {
  try {
    return new URL(value);
  } catch {
    throw new PermanentError(`core_config_data ${row.scope}/${row.scope_id} ${row.path}: not a URL (${JSON.stringify(value)})`);
  }
}

/**
 * A `core_config_data` value Staging must have whatever Production has. `path` may end with
 * `*` (every path below). The value is set in every scope that has the path; an exact path
 * missing from the default scope gets a default row, so the override holds there too.
 * `null` stores NULL (Magento then uses its code default).
 */
export interface ConfigOverride {
  readonly path: string;
  readonly value: string | null;
}

/**
 * Side effects off in a stock Magento 2.4 Staging: no e-mail, payment gateways in sandbox mode,
 * no admin notification feed; the search engine host comes from Staging's own config and is
 * added by the caller. Queue, cache and session hosts live in `app/etc/env.php`, which a sync
 * never copies: Staging keeps its own.
 */
export const DEFAULT_OVERRIDES: readonly ConfigOverride[] = [
  { path: 'system/smtp/disable', value: '1' },
  { path: 'paypal/wpp/sandbox_flag', value: '1' },
  { path: 'payment/braintree/environment', value: 'sandbox' },
  { path: 'payment/authorizenet_acceptjs/environment', value: 'sandbox' },
  { path: 'adminnotification/general/enabled', value: '0' },
  { path: 'google/analytics/active', value: '0' },
  { path: 'dev/js/session_storage_logging', value: '0' },
];

/** Applies overrides in order; returns every scoped row changed or added. */
export async function applyOverrides(
  db: MagentoDatabase,
  schema: string,
  overrides: readonly ConfigOverride[],
): Promise<ScopedChange[]> {
  const table = tableRef(schema, 'core_config_data');
  const changes: ScopedChange[] = [];
  for (const o of overrides) {
    const prefix = o.path.endsWith('*');
    const where = prefix ? 'path LIKE ?' : 'path = ?';
    const key = prefix ? `${likePattern(o.path.slice(0, -1))}%` : o.path;
    const rows = await db.query<ConfigRow>(`SELECT config_id, scope, scope_id, path, value FROM ${table} WHERE ${where}`, [key]);
    await db.execute(`UPDATE ${table} SET value = ? WHERE ${where}`, [o.value, key]);
    for (const r of rows)
      if (r.value !== o.value)
        changes.push({ scope: r.scope, scopeId: Number(r.scope_id), path: r.path, from: r.value, to: o.value });
    if (!prefix && !rows.some((r) => r.scope === 'default')) {
      await db.execute(`INSERT INTO ${table} (scope, scope_id, path, value) VALUES ('default', 0, ?, ?)`, [o.path, o.value]);
      changes.push({ scope: 'default', scopeId: 0, path: o.path, from: null, to: o.value });
    }
  }
  return changes;
}

/** `text` matched literally by LIKE (its `%`, `_` and `\` escaped). */
export function likePattern(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** Column values a Staging table must have, e.g. every integration disabled. */
export interface TableOverride {
  readonly table: string;
  readonly set: Readonly<Record<string, string | number | null>>;
}

export const DEFAULT_TABLE_OVERRIDES: readonly TableOverride[] = [{ table: 'integration', set: { status: 0 } }];

/** Applies table overrides to the tables that exist; returns rows changed per table. */
export async function applyTableOverrides(
  db: MagentoDatabase,
  schema: string,
  overrides: readonly TableOverride[],
  existing: ReadonlySet<string>,
): Promise<Array<{ readonly table: string; readonly rows: number }>> {
  const done: { table: string; rows: number }[] = [];
  for (const o of overrides.filter((x) => existing.has(x.table))) {
    const columns = Object.keys(o.set);
    if (columns.length === 0) continue;
    const rows = await db.execute(
      `UPDATE ${tableRef(schema, o.table)} SET ${columns.map((c) => `${quoteName(c)} = ?`).join(', ')}`,
      columns.map((c) => o.set[c]),
    );
    done.push({ table: o.table, rows });
  }
  return done;
}
