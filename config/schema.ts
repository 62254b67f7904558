import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * The one declarative description of Lifeboat's configuration: types, defaults, ranges. Secrets
 * are written as `{ env: NAME }`, `{ file: /path }` or (discouraged) a literal string, and are
 * resolved by the loader into `Secret` values that never print.
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected lowercase letters, digits, dot, dash or underscore');

export const secretInput = z.union(
  [
    z.string().min(1),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }),
    z.strictObject({ file: z.string().refine(isAbsolute, 'expected an absolute path') }),
  ],
  { error: 'expected a secret: { env: NAME }, { file: /path } or a string' },
);

const cron = z
  .string()
  .refine((s) => /^\s*\S+(\s+\S+){4,5}\s*$/.test(s), 'expected a cron expression with 5 or 6 fields, e.g. "0 */6 * * *"');

const absolutePath = z.string().refine(isAbsolute, 'expected an absolute path');

const node = z.strictObject({
  name,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(3306),
  /** unix socket of the local server; preferred over TCP when this is the local node */
  socket: absolutePath.optional(),
  /** datadir of the local server (mariadb-backup reads it directly) */
  datadir: absolutePath.optional(),
});

const area = z.strictObject({
  /** as written in snapshot ids and CLI flags, e.g. `pub/media` */
  name: z.string().regex(/^[a-z0-9][a-z0-9/._-]*$/, 'expected a relative path such as pub/media'),
  /** directory relative to files.root (defaults to the name) */
  path: z.string().optional(),
  include: z.array(z.string()).default(['**']),
  exclude: z.array(z.string()).default([]),
});

export const DEFAULT_AREAS = [
  {
    name: 'var',
    include: ['**'],
    exclude: ['cache/**', 'page_cache/**', 'session/**', 'tmp/**', 'view_preprocessed/**', 'di/**', 'generation/**'],
  },
  { name: 'pub/media', include: ['**'], exclude: ['catalog/product/cache/**', 'tmp/**'] },
  { name: 'pub/static', include: ['**'], exclude: [] },
  { name: 'app/etc', include: ['**'], exclude: [] },
];

export const configSchema = z.strictObject({
  /** local state that must survive a crash (e.g. the desync marker) */
  stateDir: absolutePath.default('/var/lib/lifeboat'),
  cluster: z.strictObject({
    /** names the repository folder: <storage>/<cluster>/… */
    name,
    /** this daemon's node; defaults to env LIFEBOAT_NODE, then the host name */
    node: name.optional(),
    nodes: z.array(node).min(1, 'expected at least one node'),
  }),
  database: z
    .strictObject({
      user: z.string().min(1).default('lifeboat'),
      password: secretInput.optional(),
      /** nodes to take snapshots from, most preferred first; others follow in config order */
      preferredNodes: z.array(name).default([]),
      /** how long to wait for the donor to be Synced again after a snapshot */
      resyncTimeoutSeconds: z.number().int().min(10).max(86_400).default(600),
      // --- snapshot deadlines and readiness (issue #13 item 3) ---
      /** deadline of every SQL statement; past it the statement is killed on the server */
      statementTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
      /** the backup tool (mariadb-backup / mariadb-dump) is killed and the snapshot fails past this */
      backupTimeoutSeconds: z.number().int().min(60).max(604_800).default(43_200),
      /** a node whose receive queue holds more write sets than this is behind: no snapshot on it */
      maxRecvQueue: z.number().int().min(0).max(1_000_000).default(16),
      /** how long a node may take to commit what the other nodes had committed, before it counts as behind */
      catchUpSeconds: z.number().int().min(1).max(600).default(10),
      // --- end of block ---
      /** command names or paths of the MariaDB tools */
      tools: z
        .strictObject({
          backup: z.string().min(1).default('mariadb-backup'),
          dump: z.string().min(1).default('mariadb-dump'),
          mbstream: z.string().min(1).default('mbstream'),
          server: z.string().min(1).default('mariadbd'),
        })
        .prefault({}),
    })
    .prefault({}),
  storage: z.strictObject({
    url: z
      .string()
      .regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?|file:\/\/\/.*)$/, 'expected s3://bucket/prefix or file:///path'),
    endpoint: z.url({ error: 'expected a URL such as http://127.0.0.1:7480' }).optional(),
    region: z.string().default('us-east-1'),
    accessKeyId: secretInput.optional(),
    secretAccessKey: secretInput.optional(),
    forcePathStyle: z.boolean().optional(),
    /** object store operations in flight */
    concurrency: z.number().int().min(1).max(64).default(8),
    compressionLevel: z.number().int().min(1).max(19).default(3),
  }),
  files: z
    .strictObject({
      /** where the shared GlusterFS directories are mounted (the Magento root) */
      root: absolutePath.default('/var/www/magento'),
      /** `auto`: read a healthy local Gluster brick instead of the mount when possible */
      source: z.enum(['auto', 'mount']).default('auto'),
      areas: z.array(area).default(DEFAULT_AREAS),
    })
    .prefault({}),
  schedules: z
    .strictObject({
      timezone: z.string().default('UTC'),
      snapshot: cron.default('0 */6 * * *'),
      prune: cron.default('30 3 * * *'),
      verify: cron.default('0 4 * * *'),
    })
    .prefault({}),
  /** GFS retention, modelled on Adobe Commerce Cloud Pro */
  retention: z
    .strictObject({
      keepAllDays: z.number().int().min(0).default(3),
      dailyDays: z.number().int().min(0).default(7),
      weeklyWeeks: z.number().int().min(0).default(6),
      monthlyMonths: z.number().int().min(0).default(5),
      /** never fewer than this many verified snapshots */
      keepLast: z.number().int().min(1).default(1),
    })
    .prefault({}),
  daemon: z
    .strictObject({
      /** a lease holder that stops renewing loses the lease after this long; another node takes over */
      leaseTtlSeconds: z.number().int().min(3).max(3600).default(60),
      /** each step down the preferred-node order waits this much longer before competing for a slot */
      staggerSeconds: z.number().min(0).max(600).default(5),
      /** give up on a slot after this long; the next slot takes over */
      slotWindowMinutes: z.number().min(1).max(1440).default(120),
      /** on SIGTERM, running jobs get this long to stop cleanly */
      shutdownTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
    })
    .prefault({}),
  api: z
    .strictObject({
      listen: z
        .string()
        .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:8470')
        .default('127.0.0.1:8470'),
      token: secretInput.optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
      format: z.enum(['json', 'text']).default('json'),
    })
    .prefault({}),
  alerts: z
    .strictObject({
      /** POSTed on failed runs and RPO breaches; a secret, since chat webhook URLs embed tokens */
      webhook: secretInput.optional(),
      /** alert when the newest complete snapshot is older than this */
      rpoHours: z.number().min(1).default(12),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
