/**
 * Deterministic Magento-like database generator for backup tests and
 * benchmarks. Row counts are derived from the requested size only, and all
 * values from the seed, so the same (sizeMb, seed) yields identical rows.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type ActivityPlan, writeActivity } from './db-activity.js';
import { writeCatalog } from './db-catalog.js';
import { writeCustomers } from './db-customers.js';
import { writeReferenceData } from './db-reference.js';
import { type SalesPlan, writeSales } from './db-sales.js';
import { type MariadbTarget, openSqlStream, runSql, type SqlStream } from './mariadb-client.js';

export interface GenerateDatabaseOptions {
  socket: string;
  user: string;
  password: string;
  /** Dropped and re-created. Letters, digits and underscores only. */
  database: string;
  /** Target InnoDB footprint (data_length + index_length), in MiB. */
  sizeMb: number;
  seed?: number;
  log?: (msg: string) => void;
}

export interface GenerateDatabaseResult {
  /** Rows inserted per table. */
  rows: Record<string, number>;
  seconds: number;
  /** Measured data_length + index_length after ANALYZE TABLE. */
  bytes: number;
}

export interface DataPlan {
  products: number;
  customers: number;
  sales: SalesPlan;
  activity: ActivityPlan;
}

const MiB = 1024 * 1024;
/** Upper bound of one INSERT statement (and thus of one autocommit transaction). */
const STATEMENT_BYTES = 1024 * 1024;
/** Footprint of the empty schema (about one 16 KiB page per index). */
const EMPTY_SCHEMA_MB = 1.75;

/**
 * Measured InnoDB bytes per generated unit, children included (e.g. a
 * product brings its EAV values and URL rewrites, an order its quote, items,
 * addresses and payment). Calibrated against MariaDB 10.11.
 */
const BYTES_PER = {
  product: 5875,
  customer: 987,
  order: 5325,
  visitor: 102,
  event: 170,
  session: 2054,
  cronJob: 307,
} as const;

/** Share of the data budget per domain; roughly a mid-size B2C shop. */
const SHARE = {
  catalog: 0.28,
  customers: 0.14,
  sales: 0.42,
  visitors: 0.03,
  events: 0.06,
  sessions: 0.05,
  cron: 0.02,
} as const;

/**
 * Measured (actual InnoDB size / requested size) when planning with BYTES_PER
 * alone. Mid-size tables carry proportionally more allocation slack (extent
 * reservation) than tiny or very large ones; planFor() divides it out.
 */
const SIZE_RATIO: readonly (readonly [number, number])[] = [
  [5, 0.95],
  [10, 1.06],
  [20, 1.195],
  [50, 1.17],
  [100, 1.165],
  [200, 1.106],
  [400, 1.076],
  [1024, 1],
];

/** SIZE_RATIO interpolated on log(size); flat outside the measured range. */
function sizeRatio(sizeMb: number): number {
  const first = SIZE_RATIO[0];
  const last = SIZE_RATIO[SIZE_RATIO.length - 1];
  if (first === undefined || last === undefined) return 1;
  if (sizeMb <= first[0]) return first[1];
  for (let i = 1; i < SIZE_RATIO.length; i++) {
    const lo = SIZE_RATIO[i - 1];
    const hi = SIZE_RATIO[i];
    if (lo === undefined || hi === undefined || sizeMb > hi[0]) continue;
    const f = Math.log(sizeMb / lo[0]) / Math.log(hi[0] / lo[0]);
    return lo[1] + f * (hi[1] - lo[1]);
  }
  return last[1];
}

/** Row counts for a target size; pure function of sizeMb. */
export function planFor(sizeMb: number): DataPlan {
  const budget = Math.max(0, sizeMb / sizeRatio(sizeMb) - EMPTY_SCHEMA_MB) * MiB;
  const n = (share: number, bytes: number, min: number): number => Math.max(min, Math.round((budget * share) / bytes));
  const orders = n(SHARE.sales, BYTES_PER.order, 20);
  return {
    products: n(SHARE.catalog, BYTES_PER.product, 20),
    customers: n(SHARE.customers, BYTES_PER.customer, 10),
    sales: { orders, abandonedQuotes: Math.round(orders * 0.4) },
    activity: {
      visitors: n(SHARE.visitors, BYTES_PER.visitor, 20),
      events: n(SHARE.events, BYTES_PER.event, 50),
      sessions: n(SHARE.sessions, BYTES_PER.session, 5),
      cronJobs: n(SHARE.cron, BYTES_PER.cronJob, 30),
    },
  };
}

/** Creates `database`, loads magento-schema.sql and fills it to about sizeMb. */
export async function generateDatabase(opts: GenerateDatabaseOptions): Promise<GenerateDatabaseResult> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 1;
  const target: MariadbTarget = { socket: opts.socket, user: opts.user, password: opts.password };
  assertIdentifier(opts.database);
  const plan = planFor(opts.sizeMb);
  log(`plan for ${opts.sizeMb} MiB: ${JSON.stringify(plan)}`);

  await runSql(
    target,
    `DROP DATABASE IF EXISTS \`${opts.database}\`;\nCREATE DATABASE \`${opts.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n`,
  );
  const stream = openSqlStream(target, opts.database);
  let rows: Record<string, number>;
  try {
    await stream.write(await readFile(schemaPath(), 'utf8'));
    await stream.write(SESSION_SETUP);
    rows = await loadData(stream, seed, plan, log, started);
  } catch (err) {
    // write() already reports client failures with their stderr; just reap the client.
    await stream.end().catch(() => {});
    throw err;
  }
  await stream.end();
  log(`loaded in ${elapsed(started)} s; analyzing`);
  const bytes = await measureBytes(target, opts.database);
  const seconds = elapsed(started);
  log(`done: ${(bytes / MiB).toFixed(1)} MiB InnoDB (target ${opts.sizeMb} MiB) in ${seconds} s`);
  return { rows, seconds, bytes };
}

/**
 * Session settings for the bulk load: UTC, strict mode, FK and unique checks
 * left on so constraint violations in generated data fail the load (about
 * 25% slower than with checks off; rows are sent parents first).
 */
const SESSION_SETUP = [
  'SET NAMES utf8mb4;',
  "SET time_zone = '+00:00';",
  "SET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';",
  'SET foreign_key_checks = 1;',
  'SET autocommit = 1;',
  '',
].join('\n');

async function loadData(
  stream: SqlStream,
  seed: number,
  plan: DataPlan,
  log: (msg: string) => void,
  started: number,
): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  const step = (name: string, counts: Record<string, number>): void => {
    Object.assign(rows, counts);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    log(`${name}: ${total} rows sent (${elapsed(started)} s)`);
  };
  step('reference data', await writeReferenceData(stream, seed, STATEMENT_BYTES));
  const catalog = await writeCatalog(stream, seed, plan.products, STATEMENT_BYTES);
  step('catalog', catalog.counts);
  const customers = await writeCustomers(stream, seed, plan.customers, STATEMENT_BYTES);
  step('customers', customers.counts);
  step('sales', await writeSales(stream, seed, plan.sales, catalog.products, customers.customers, STATEMENT_BYTES));
  step('activity', await writeActivity(stream, seed, plan.activity, customers.customers, plan.products, STATEMENT_BYTES));
  return rows;
}

/** Refreshes InnoDB statistics and returns data_length + index_length of all base tables. */
async function measureBytes(target: MariadbTarget, database: string): Promise<number> {
  const schema = `table_schema = '${database}' AND table_type = 'BASE TABLE'`;
  const tables = (await runSql(target, `SELECT table_name FROM information_schema.tables WHERE ${schema};`))
    .split('\n')
    .filter((t) => t !== '');
  if (tables.length > 0) {
    await runSql(target, `ANALYZE NO_WRITE_TO_BINLOG TABLE ${tables.map((t) => `\`${t}\``).join(', ')};`, database);
  }
  const out = await runSql(
    target,
    `SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE ${schema};`,
  );
  return Number(out.trim());
}

/** magento-schema.sql next to the source file (also when running from dist/). */
function schemaPath(): string {
  const candidates = [
    new URL('./magento-schema.sql', import.meta.url),
    new URL('../../../../test/testbed/datagen/magento-schema.sql', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (found === undefined) throw new Error(`magento-schema.sql not found (looked in ${candidates.join(', ')})`);
  return found;
}

function assertIdentifier(name: string): void {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name)) throw new Error(`invalid database name: ${JSON.stringify(name)}`);
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) / 100) / 10;
}
