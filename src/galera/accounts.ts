import type { Logger } from '../lib/logger.js';
import type { SqlClient } from './sql.js';

/** Which accounts a logical dump carries: those its views, triggers, routines and events name as definer, every account, or none. */
export type DumpAccounts = 'definers' | 'all' | 'none';

interface Account {
  readonly user: string;
  /** null for a role */
  readonly host: string | null;
}

const label = (a: Account): string => (a.host === null ? a.user : `${a.user}@${a.host}`);

/**
 * SQL that recreates the accounts (and roles they hold) with their grants, for the end of a
 * logical dump: there every table and routine a grant names exists, and no view, trigger or
 * routine has run yet. `CREATE … IF NOT EXISTS` and grants without `IDENTIFIED` leave an account
 * that already exists on the target with its own authentication. A definer that does not exist
 * on the source is skipped with a warning (its objects fail there too).
 */
export async function accountStatements(
  sql: SqlClient,
  databases: readonly string[],
  mode: DumpAccounts,
  logger: Logger,
): Promise<{ readonly sql: string; readonly accounts: readonly string[] }> {
  if (mode === 'none') return { sql: '', accounts: [] };
  // filtered here, not in SQL: the system tables' collations differ from the connection's
  const known = await sql.query<{ user: string; host: string; role: string }>(
    'SELECT User AS user, Host AS host, is_role AS role FROM mysql.user ORDER BY User, Host',
  );
  const existing = known.map((r) => ({ user: r.user, host: r.role === 'Y' ? null : r.host }));
  const wanted =
    mode === 'all'
      ? existing.filter((a) => !(a.user === 'mariadb.sys' && a.host === 'localhost') && a.user !== 'PUBLIC')
      : await definers(sql, databases);
  const mapping = await sql.query<{ user: string; host: string; role: string }>(
    'SELECT User AS user, Host AS host, Role AS role FROM mysql.roles_mapping',
  );
  const accounts = withRoles(wanted, mapping);
  const creates: string[] = [];
  const grants: string[] = [];
  const included: string[] = [];
  for (const account of accounts) {
    if (!existing.some((e) => label(e) === label(account) && (e.host === null) === (account.host === null))) {
      logger.warn('logical dump: definer account does not exist on the source, skipped', { account: label(account) });
      continue;
    }
    if (account.host === null) {
      creates.push(`CREATE ROLE IF NOT EXISTS ${quoteName(account.user)};`);
    } else {
      const [row] = await sql.query(`SHOW CREATE USER ?@?`, [account.user, account.host]);
      creates.push(`${String(Object.values(row ?? {})[0]).replace(/^CREATE USER /, 'CREATE USER IF NOT EXISTS ')};`);
    }
    const rows = await sql.query(
      account.host === null ? 'SHOW GRANTS FOR ?' : 'SHOW GRANTS FOR ?@?',
      account.host === null ? [account.user] : [account.user, account.host],
    );
    for (const r of rows) grants.push(`${withoutAuthentication(String(Object.values(r)[0]))};`);
    included.push(label(account));
  }
  if (included.length === 0) return { sql: '', accounts: [] };
  const text = [
    '',
    `-- Lifeboat: accounts (database.logical.accounts: ${mode}) with their grants, after every object a grant names`,
    '',
    ...creates,
    ...grants,
    '',
  ].join('\n');
  return { sql: text, accounts: included };
}

/** `GRANT … TO u@h IDENTIFIED … [WITH …]` without the IDENTIFIED clause (quoted strings skipped whole). */
export function withoutAuthentication(grant: string): string {
  return grant.replace(/ IDENTIFIED (?:[^']|'(?:[^'\\]|\\.|'')*')*?(?= WITH |$)/, '');
}

function quoteName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

/** `user@host` (the last `@` splits, as user names may hold one) or a role name. */
function parseDefiner(definer: string): Account {
  const at = definer.lastIndexOf('@');
  return at < 0 ? { user: definer, host: null } : { user: definer.slice(0, at), host: definer.slice(at + 1) };
}

async function definers(sql: SqlClient, databases: readonly string[]): Promise<Account[]> {
  const rows = await sql.query<{ db: string; definer: string }>(
    `SELECT TABLE_SCHEMA AS db, DEFINER AS definer FROM information_schema.VIEWS
     UNION SELECT TRIGGER_SCHEMA, DEFINER FROM information_schema.TRIGGERS
     UNION SELECT ROUTINE_SCHEMA, DEFINER FROM information_schema.ROUTINES
     UNION SELECT EVENT_SCHEMA, DEFINER FROM information_schema.EVENTS`,
  );
  const names = new Set(rows.filter((r) => databases.includes(r.db)).map((r) => r.definer));
  return [...names].sort().map(parseDefiner);
}

/** The accounts plus every role they hold (directly or through other roles), roles first. */
function withRoles(accounts: readonly Account[], mapping: readonly { user: string; host: string; role: string }[]): Account[] {
  const roles = new Set<string>();
  let frontier = [...accounts];
  while (frontier.length > 0) {
    const next: Account[] = [];
    for (const a of frontier) {
      for (const { role } of mapping.filter((m) => m.user === a.user && m.host === (a.host ?? ''))) {
        if (roles.has(role) || accounts.some((x) => x.host === null && x.user === role)) continue;
        roles.add(role);
        next.push({ user: role, host: null });
      }
    }
    frontier = next;
  }
  const all = [...[...roles].map((user) => ({ user, host: null })), ...accounts];
  return all.sort((a, b) => Number(a.host !== null) - Number(b.host !== null));
}
