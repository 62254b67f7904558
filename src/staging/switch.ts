import { baseTables, type MagentoDatabase, quoteName, tableRef } from './database.js';

/** The schemas a sync of `live` works with: the copy being built, and where the previous tables go at the switch. */
export function asideSchemas(live: string): { readonly next: string; readonly previous: string } {
  return { next: `${live}__lifeboat_next`, previous: `${live}__lifeboat_prev` };
}

interface Definition {
  readonly type: 'TRIGGER' | 'VIEW' | 'PROCEDURE' | 'FUNCTION' | 'EVENT';
  readonly name: string;
  readonly create: string;
  readonly sqlMode: string;
}

async function definitions(db: MagentoDatabase, schema: string): Promise<Definition[]> {
  const objects = await db.query<{ type: Definition['type']; name: string }>(
    `SELECT 'TRIGGER' AS type, trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = ?
     UNION ALL SELECT 'VIEW', table_name FROM information_schema.views WHERE table_schema = ?
     UNION ALL SELECT routine_type, routine_name FROM information_schema.routines WHERE routine_schema = ?
     UNION ALL SELECT 'EVENT', event_name FROM information_schema.events WHERE event_schema = ?`,
    [schema, schema, schema, schema],
  );
  const out: Definition[] = [];
  for (const o of objects) {
    const [row] = await db.query<Record<string, string>>(`SHOW CREATE ${o.type} ${quoteName(schema)}.${quoteName(o.name)}`);
    const create =
      row?.[
        o.type === 'VIEW'
          ? 'Create View'
          : o.type === 'TRIGGER'
            ? 'SQL Original Statement'
            : `Create ${o.type[0]}${o.type.slice(1).toLowerCase()}`
      ];
    if (create) out.push({ type: o.type, name: o.name, create, sqlMode: row?.sql_mode ?? '' });
  }
  return out;
}

/** Where the copy's definitions wait during the switch (its triggers are dropped before the move). */
const STASH = '__lifeboat_definitions';

async function stash(db: MagentoDatabase, schema: string, defs: readonly Definition[]): Promise<void> {
  await db.execute(
    `CREATE TABLE ${tableRef(schema, STASH)} (seq INT PRIMARY KEY, type VARCHAR(16) NOT NULL, name VARCHAR(64) NOT NULL, sql_mode TEXT NOT NULL, create_sql LONGTEXT NOT NULL)`,
  );
  for (const [i, d] of defs.entries())
    await db.execute(`INSERT INTO ${tableRef(schema, STASH)} VALUES (?, ?, ?, ?, ?)`, [i, d.type, d.name, d.sqlMode, d.create]);
}

async function stashed(db: MagentoDatabase, schema: string): Promise<Definition[]> {
  const rows = await db.query<{ type: Definition['type']; name: string; sql_mode: string; create_sql: string }>(
    `SELECT type, name, sql_mode, create_sql FROM ${tableRef(schema, STASH)} ORDER BY seq`,
  );
  return rows.map((r) => ({ type: r.type, name: r.name, sqlMode: r.sql_mode, create: r.create_sql }));
}

async function dropAll(db: MagentoDatabase, schema: string, defs: readonly Definition[]): Promise<void> {
  for (const d of defs) await db.execute(`DROP ${d.type} IF EXISTS ${quoteName(schema)}.${quoteName(d.name)}`);
}

/** Re-creates definitions in `schema` (views last: they may read the routines). */
async function createAll(db: MagentoDatabase, schema: string, defs: readonly Definition[]): Promise<void> {
  await db.execute(`USE ${quoteName(schema)}`);
  const ordered = [...defs.filter((d) => d.type !== 'VIEW'), ...defs.filter((d) => d.type === 'VIEW')];
  for (const d of ordered) {
    await db.execute('SET SESSION sql_mode = ?', [d.sqlMode]);
    await db.execute(d.create.replace(/^CREATE /, 'CREATE OR REPLACE '));
  }
  await db.execute('SET SESSION sql_mode = DEFAULT');
}

export interface SwitchResult {
  readonly tables: number;
  /** from the moment the tables moved until every view, trigger, routine and event was back */
  readonly unavailableMs: number;
}

/**
 * Makes the copy in `next` the live schema `live` in one atomic RENAME TABLE of every base
 * table (the previous ones move to `previous`, dropped at the end), then re-creates the copy's
 * triggers, views, routines and events in `live` (triggers cannot move between schemas).
 * Before the RENAME nothing of `live` has changed: a failure leaves the previous Staging as it
 * was. The copy's definitions are stashed in `next`, dropped last, so `finishSwitch` can redo
 * the re-creation after a crash.
 */
export async function switchInto(db: MagentoDatabase, live: string, next: string, previous: string): Promise<SwitchResult> {
  const nextDefs = await definitions(db, next);
  const liveExists = (await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [live])).length > 0;
  if (!liveExists) await db.execute(`CREATE DATABASE ${quoteName(live)}`);
  const liveDefs = await definitions(db, live);
  await db.execute(`DROP DATABASE IF EXISTS ${quoteName(previous)}`);
  await db.execute(`CREATE DATABASE ${quoteName(previous)}`);
  // triggers pin a table to its schema: the copy's are stashed, dropped and re-created after the move
  await stash(db, next, nextDefs);
  await dropAll(
    db,
    next,
    nextDefs.filter((d) => d.type === 'TRIGGER'),
  );
  const moving = (await baseTables(db, next)).filter((t) => t !== STASH);
  const leaving = await baseTables(db, live);
  const started = performance.now();
  const liveTriggers = liveDefs.filter((d) => d.type === 'TRIGGER');
  await dropAll(db, live, liveTriggers);
  const renames = [
    ...leaving.map((t) => `${tableRef(live, t)} TO ${tableRef(previous, t)}`),
    ...moving.map((t) => `${tableRef(next, t)} TO ${tableRef(live, t)}`),
  ];
  try {
    await db.execute(`RENAME TABLE ${renames.join(', ')}`);
  } catch (err) {
    // nothing moved (RENAME TABLE is atomic): the previous Staging gets its triggers back
    await createAll(db, live, liveTriggers);
    throw err;
  }
  await dropAll(
    db,
    live,
    liveDefs.filter((d) => d.type !== 'TRIGGER'),
  );
  await createAll(db, live, nextDefs);
  const unavailableMs = Math.round(performance.now() - started);
  await db.execute(`DROP DATABASE ${quoteName(previous)}`);
  await db.execute(`DROP DATABASE ${quoteName(next)}`);
  return { tables: moving.length, unavailableMs };
}

/**
 * After a crash: when `next` holds nothing but its stashed definitions (the RENAME happened,
 * the re-creation may not have), re-creates them in `live` and drops the leftovers;
 * any other leftover of an unfinished sync is dropped. Returns what it did.
 */
export async function finishSwitch(
  db: MagentoDatabase,
  live: string,
  next: string,
  previous: string,
): Promise<'none' | 'finished' | 'discarded'> {
  const exists = async (s: string): Promise<boolean> =>
    (await db.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = ?', [s])).length > 0;
  if (!(await exists(next))) {
    if (await exists(previous)) await db.execute(`DROP DATABASE ${quoteName(previous)}`);
    return 'none';
  }
  const left = await baseTables(db, next);
  const moved = left.length === 1 && left[0] === STASH && (await baseTables(db, live)).length > 0;
  if (moved) await createAll(db, live, await stashed(db, next));
  await db.execute(`DROP DATABASE IF EXISTS ${quoteName(previous)}`);
  await db.execute(`DROP DATABASE ${quoteName(next)}`);
  return moved ? 'finished' : 'discarded';
}
