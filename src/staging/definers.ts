import { PermanentError } from '../lib/errors.js';
import { type MagentoDatabase, quoteName } from './database.js';

export interface DefinerChange {
  readonly type: 'VIEW' | 'TRIGGER' | 'PROCEDURE' | 'FUNCTION' | 'EVENT';
  readonly name: string;
  readonly from: string;
}

/** `user@host` as MariaDB writes it in a DEFINER clause: `` `user`@`host` ``. */
export function definerClause(account: { readonly user: string; readonly host: string }): string {
  return `${quoteName(account.user)}@${quoteName(account.host)}`;
}

/** A DEFINER clause as SHOW CREATE prints it: backticks, or double quotes under ANSI_QUOTES. */
const PART = '(?:`(?:[^`]|``)*`|"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\')';
const DEFINER = new RegExp(`DEFINER=${PART}@${PART}`);

/**
 * Re-creates every view, trigger, routine and event of `schema` whose definer is not `account`
 * with `account` as definer (Production's application user does not exist on Staging: the
 * objects would fail with ERROR 1449). Each object is re-created under its own sql_mode and
 * character set, as SHOW CREATE reports them, in place (CREATE OR REPLACE).
 */
export async function rewriteDefiners(
  db: MagentoDatabase,
  schema: string,
  account: { readonly user: string; readonly host: string },
): Promise<DefinerChange[]> {
  const wanted = `${account.user}@${account.host}`;
  const objects = await db.query<{ type: DefinerChange['type']; name: string; definer: string }>(
    `SELECT 'VIEW' AS type, table_name AS name, definer FROM information_schema.views WHERE table_schema = ?
     UNION ALL SELECT 'TRIGGER', trigger_name, definer FROM information_schema.triggers WHERE trigger_schema = ?
     UNION ALL SELECT routine_type, routine_name, definer FROM information_schema.routines WHERE routine_schema = ?
     UNION ALL SELECT 'EVENT', event_name, definer FROM information_schema.events WHERE event_schema = ?`,
    [schema, schema, schema, schema],
  );
  const clause = `DEFINER=${definerClause(account)}`;
  const changes: DefinerChange[] = [];
  for (const o of objects.filter((x) => x.definer !== wanted)) {
    const name = `${quoteName(schema)}.${quoteName(o.name)}`;
    const [shown] = await db.query<Record<string, string>>(`SHOW CREATE ${o.type} ${name}`);
    const create = shown?.[createColumn(o.type)];
    if (!shown || !create) continue;
    if (!DEFINER.test(create)) throw new PermanentError(`${o.type.toLowerCase()} ${name}: no DEFINER clause in SHOW CREATE`);
    const statement = create.replace(/^CREATE /, 'CREATE OR REPLACE ').replace(DEFINER, clause);
    await withSession(db, shown, async () => {
      await db.execute(`USE ${quoteName(schema)}`);
      await db.execute(statement);
    });
    changes.push({ type: o.type, name: o.name, from: o.definer });
  }
  return changes;
}

function createColumn(type: DefinerChange['type']): string {
  return type === 'VIEW'
    ? 'Create View'
    : type === 'TRIGGER'
      ? 'SQL Original Statement'
      : `Create ${type[0]}${type.slice(1).toLowerCase()}`;
}

/** Runs `work` with the object's sql_mode and client character set, then restores the session's. */
async function withSession(db: MagentoDatabase, shown: Record<string, string>, work: () => Promise<void>): Promise<void> {
  const [before] = await db.query<{ mode: string; cs: string; coll: string }>(
    'SELECT @@SESSION.sql_mode AS mode, @@SESSION.character_set_client AS cs, @@SESSION.collation_connection AS coll',
  );
  const mode = shown.sql_mode ?? before?.mode ?? '';
  await db.execute('SET SESSION sql_mode = ?', [mode]);
  if (shown.character_set_client) await db.execute(`SET SESSION character_set_client = ${quoteName(shown.character_set_client)}`);
  if (shown.collation_connection) await db.execute(`SET SESSION collation_connection = ${quoteName(shown.collation_connection)}`);
  try {
    await work();
  } finally {
    await db.execute('SET SESSION sql_mode = ?', [before?.mode ?? '']);
    if (before) {
      await db.execute(`SET SESSION character_set_client = ${quoteName(before.cs)}`);
      await db.execute(`SET SESSION collation_connection = ${quoteName(before.coll)}`);
    }
  }
}
