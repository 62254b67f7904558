/**
 * High-churn operational rows: customer_visitor, customer_log, report_event,
 * session (DB session storage, base64 PHP-serialized payloads) and
 * cron_schedule (including failed jobs with stack traces). These are the
 * tables backups often skip or truncate, so they get a realistic share.
 */
import type { CustomerInfo } from './db-customers.js';
import { BASE_DOMAIN, STORES } from './db-reference.js';
import { sentence, sqlTime } from './fake.js';
import { Rng } from './prng.js';
import { BatchGroup, type SqlSink } from './sql.js';

export interface ActivityPlan {
  visitors: number;
  events: number;
  sessions: number;
  cronJobs: number;
}

/** The generated shop's "now"; all activity happens before it. */
const NOW = Date.UTC(2025, 5, 30, 12, 0, 0) / 1000;
const DAY = 86400;

const CRON_JOBS = [
  'indexer_reindex_all_invalid',
  'indexer_update_all_views',
  'indexer_clean_all_changelogs',
  'sales_grid_order_async_insert',
  'sales_clean_quotes',
  'sales_send_order_emails',
  'newsletter_send_all',
  'catalog_product_outdated_price_values_cleanup',
  'catalog_index_refresh_price',
  'captcha_delete_old_attempts',
  'consumers_runner',
  'currency_rates_update',
  'backend_clean_cache',
  'persistent_clear_expired',
  'analytics_collect_data',
  'magento_newrelicreporting_cron',
  'bulk_cleanup',
  'security_deactivate_expired_users',
  'visitor_clean',
  'aggregate_sales_report_order_data',
  'catalogrule_apply_all',
  'sitemap_generate',
] as const;

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36',
] as const;

/** Writes activity rows; `productCount` bounds report_event object ids. */
export async function writeActivity(
  sink: SqlSink,
  seed: number,
  plan: ActivityPlan,
  customers: readonly CustomerInfo[],
  productCount: number,
  maxBytes: number,
): Promise<Record<string, number>> {
  const rng = Rng.derive(seed, 'activity');
  const counts: Record<string, number> = {};
  const run = async (fn: (g: BatchGroup) => Promise<void>): Promise<void> => {
    const g = new BatchGroup(sink, maxBytes);
    await fn(g);
    await g.flush();
    Object.assign(counts, g.counts());
  };
  await run((g) => writeVisitors(g, rng, plan.visitors, customers));
  await run((g) => writeCustomerLog(g, rng, customers));
  await run((g) => writeEvents(g, rng, plan.events, plan.visitors, customers.length, productCount));
  await run((g) => writeSessions(g, rng, plan.sessions, customers.length));
  await run((g) => writeCron(g, rng, plan.cronJobs));
  return counts;
}

async function writeVisitors(g: BatchGroup, rng: Rng, count: number, customers: readonly CustomerInfo[]): Promise<void> {
  const t = g.table('customer_visitor', ['visitor_id', 'customer_id', 'session_id', 'created_at', 'last_visit_at']);
  for (let id = 1; id <= count; id++) {
    const created = NOW - 90 * DAY + (90 * DAY * id) / (count + 1);
    const customer = customers.length > 0 && rng.chance(0.3) ? rng.pick(customers).id : null;
    g.add(t, [id, customer, null, sqlTime(created), sqlTime(created + rng.int(5, 3600))]);
    await g.flushIfFull();
  }
}

async function writeCustomerLog(g: BatchGroup, rng: Rng, customers: readonly CustomerInfo[]): Promise<void> {
  const t = g.table('customer_log', ['log_id', 'customer_id', 'last_login_at', 'last_logout_at']);
  let id = 0;
  for (const c of customers) {
    if (!rng.chance(0.7)) continue;
    const login = NOW - rng.int(0, 700) * DAY - rng.int(0, DAY);
    g.add(t, [++id, c.id, sqlTime(login), rng.chance(0.4) ? sqlTime(login + rng.int(60, 7200)) : null]);
    await g.flushIfFull();
  }
}

async function writeEvents(
  g: BatchGroup,
  rng: Rng,
  count: number,
  visitors: number,
  customers: number,
  products: number,
): Promise<void> {
  const t = g.table('report_event', ['event_id', 'logged_at', 'event_type_id', 'object_id', 'subject_id', 'subtype', 'store_id']);
  for (let id = 1; id <= count; id++) {
    const when = NOW - 90 * DAY + (90 * DAY * id) / (count + 1);
    const type = rng.weighted([
      [1, 0.85],
      [4, 0.1],
      [3, 0.02],
      [5, 0.025],
      [2, 0.003],
      [6, 0.002],
    ] as const);
    const asCustomer = customers > 0 && rng.chance(0.25);
    const subject = asCustomer ? rng.int(1, customers) : rng.int(1, Math.max(visitors, 1));
    const store = rng.weighted(STORES.map((s) => [s.id, s.weight] as const));
    g.add(t, [id, sqlTime(when), type, rng.int(1, Math.max(products, 1)), subject, asCustomer ? 0 : 1, store]);
    await g.flushIfFull();
  }
}

async function writeSessions(g: BatchGroup, rng: Rng, count: number, customers: number): Promise<void> {
  const t = g.table('session', ['session_id', 'session_expires', 'session_data']);
  for (let i = 1; i <= count; i++) {
    const id = `${rng.chars(20, 'abcdefghijklmnopqrstuvwxyz0123456789')}${i.toString(36).padStart(6, '0')}`;
    const expires = NOW - 3600 + Math.floor((i * 7 * DAY) / count);
    const customerId = customers > 0 && rng.chance(0.35) ? rng.int(1, customers) : null;
    g.add(t, [id, expires, Buffer.from(sessionPayload(rng, customerId)).toString('base64')]);
    await g.flushIfFull();
  }
}

async function writeCron(g: BatchGroup, rng: Rng, count: number): Promise<void> {
  const t = g.table('cron_schedule', [
    'schedule_id',
    'job_code',
    'status',
    'messages',
    'created_at',
    'scheduled_at',
    'executed_at',
    'finished_at',
  ]);
  const perMinute = 6;
  for (let id = 1; id <= count; id++) {
    const scheduled = NOW - Math.floor((count - id) / perMinute) * 60 + 15 * 60;
    const job = rng.pick(CRON_JOBS);
    const created = scheduled - rng.int(60, 900);
    if (scheduled > NOW) {
      g.add(t, [id, job, 'pending', null, sqlTime(created), sqlTime(scheduled), null, null]);
    } else {
      const status = rng.weighted([
        ['success', 0.9],
        ['missed', 0.06],
        ['error', 0.04],
      ] as const);
      const executed = status === 'missed' ? null : scheduled + rng.int(0, 50);
      const finished = executed === null ? null : executed + rng.int(0, status === 'error' ? 30 : 240);
      const message = status === 'error' ? cronError(rng, job) : status === 'missed' ? 'Too late for the schedule' : null;
      g.add(t, [
        id,
        job,
        status,
        message,
        sqlTime(created),
        sqlTime(scheduled),
        executed === null ? null : sqlTime(executed),
        finished === null ? null : sqlTime(finished),
      ]);
    }
    await g.flushIfFull();
  }
}

function cronError(rng: Rng, job: string): string {
  const frames = Array.from(
    { length: rng.int(8, 30) },
    (_, i) =>
      `#${i} /var/www/html/vendor/magento/module-${rng.pick(['indexer', 'sales', 'catalog', 'cron', 'framework'])}/Model/${rng.pick(['Processor', 'Indexer', 'Queue', 'Observer'])}.php(${rng.int(20, 900)}): Magento\\Framework\\${rng.pick(['DB\\Adapter\\Pdo\\Mysql', 'Indexer\\Action', 'MessageQueue\\Consumer'])}->${rng.pick(['query', 'execute', 'process', 'reindexList'])}()`,
  );
  return `SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting transaction in job ${job}\n${frames.join('\n')}\n#${frames.length} {main}`;
}

/** PHP session_encode()-style payload, as Magento writes it (before base64). */
function sessionPayload(rng: Rng, customerId: number | null): string {
  const ipAddr = `203.0.113.${rng.int(1, 254)}`;
  const parts: [string, unknown][] = [
    [
      '_session_validator_data',
      { remote_addr: ipAddr, http_via: '', http_x_forwarded_for: '', http_user_agent: rng.pick(USER_AGENTS) },
    ],
    ['_session_hosts', { [`www.${BASE_DOMAIN}`]: true }],
    [
      'default',
      {
        _form_key: rng.chars(16, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
        visitor_data: { last_visit_at: sqlTime(NOW), session_id: rng.hex(26), visitor_id: String(rng.int(1, 1_000_000)) },
      },
    ],
    [
      'customer_base',
      customerId === null ? { customer_group_id: 0 } : { customer_id: customerId, customer_group_id: 1, website_id: 1 },
    ],
    ['catalog', { last_viewed_product_ids: Array.from({ length: rng.int(0, 20) }, () => rng.int(1, 50000)) }],
    ['checkout', rng.chance(0.4) ? { quote_id_1: rng.int(1, 1_000_000), last_added_product_id: rng.int(1, 50000) } : {}],
    ['message', { default: rng.chance(0.2) ? [sentence(rng, rng.int(5, 15))] : [] }],
  ];
  return parts.map(([key, value]) => `${key}|${phpSerialize(value)}`).join('');
}

/** Minimal PHP serialize() for strings, numbers, booleans, arrays and plain objects. */
function phpSerialize(value: unknown): string {
  if (value === null || value === undefined) return 'N;';
  if (typeof value === 'boolean') return `b:${value ? 1 : 0};`;
  if (typeof value === 'number') return Number.isInteger(value) ? `i:${value};` : `d:${value};`;
  if (typeof value === 'string') return `s:${Buffer.byteLength(value)}:"${value}";`;
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : Object.entries(value as object);
  const body = entries.map(([k, v]) => `${typeof k === 'number' ? `i:${k};` : phpSerialize(k)}${phpSerialize(v)}`).join('');
  return `a:${entries.length}:{${body}}`;
}
