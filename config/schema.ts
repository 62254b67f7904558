import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { cronProblem, timezoneProblem } from '../src/scheduler/schedule-check.js';

/**
 * The one declarative description of Lifeboat's configuration: types, defaults, ranges. Secrets
 * are written as `{ env: NAME }`, `{ file: /path }` or (discouraged) a literal string, and are
 * resolved by the loader into `Secret` values that never print. Every command and the daemon load
 * the config through this schema: what `config check` accepts, they accept.
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected lowercase letters, digits, dot, dash or underscore');

/** An integer in [min, max]; a wrong type says "expected an integer" (the loader adds what it got). */
const integer = (min: number, max: number) =>
  z
    .int({ error: (iss) => (iss.code === 'invalid_type' ? 'expected an integer' : undefined) })
    .min(min)
    .max(max);

export const secretInput = z.union(
  [
    z.string().min(1).max(4096),
    z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name') }),
    z.strictObject({ file: z.string().refine(isAbsolute, 'expected an absolute path') }),
  ],
  { error: 'expected a secret: { env: NAME }, { file: /path } or a string' },
);

/** Exactly what the scheduler accepts (the same node-cron parser). */
const cron = z.string().superRefine((s, ctx) => {
  const problem = cronProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const timezone = z.string().superRefine((s, ctx) => {
  const problem = timezoneProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const absolutePath = z.string().max(4096).refine(isAbsolute, 'expected an absolute path');

/** A path below files.root: relative, no empty, `.` or `..` segment. */
const relativePath = z
  .string()
  .max(4096)
  .refine(
    (p) => !isAbsolute(p) && p.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    "expected a relative path below files.root without '.' or '..', e.g. pub/media",
  );

/** `host:port` as the HTTP server listens: an IPv4 address or a host name, a port 0-65535 (0: any free port). */
const listen = z.string().superRefine((s, ctx) => {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(s);
  const host = m?.[1] ?? '';
  const numeric = /^[\d.]+$/.test(host);
  const hostOk = numeric
    ? /^\d{1,3}(\.\d{1,3}){3}$/.test(host) && host.split('.').every((o) => Number(o) <= 255)
    : /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host);
  if (!m || !hostOk) ctx.addIssue({ code: 'custom', message: `expected host:port, e.g. 127.0.0.1:8470, got '${s}'` });
  else if (Number(m[2]) > 65535) ctx.addIssue({ code: 'custom', message: `port ${m[2]} is out of range (0-65535)` });
});

const node = z.strictObject({
  name,
  host: z.string().min(1).max(253),
  port: integer(1, 65535).default(3306),
  /** this node's socket when it differs from database.socket */
  socket: absolutePath.optional(),
  /** this node's datadir when it differs from database.datadir */
  datadir: absolutePath.optional(),
  /** the TCP port of this node's GlusterFS brick (`gluster volume status`), probed by its peers; no brick probe without it */
  brickPort: integer(1, 65535).optional(),
  /** `host:port` where this node's daemon API answers its peers (`GET /v1/health`); no daemon probe without it */
  api: listen.optional(),
});

const area = z.strictObject({
  /** as written in snapshot ids and CLI flags, e.g. `pub/media` */
  name: z
    .string()
    .max(255)
    .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/, 'expected a relative path such as pub/media'),
  /** directory relative to files.root (defaults to the name) */
  path: relativePath.optional(),
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
      user: z.string().min(1).max(80).default('lifeboat'),
      password: secretInput.optional(),
      /** the local server's unix socket, the same path on every node (a node may override it) */
      socket: absolutePath.default('/run/mysqld/mysqld.sock'),
      /** the local server's datadir for mariadb-backup; default: what the server reports */
      datadir: absolutePath.optional(),
      /** nodes to take snapshots from, most preferred first; others follow in config order */
      preferredNodes: z.array(name).default([]),
      /** how long to wait for the donor to be Synced again after a snapshot */
      resyncTimeoutSeconds: integer(10, 86_400).default(600),
      // --- snapshot deadlines and readiness (issue #13 item 3) ---
      /** deadline of every SQL statement; past it the statement is killed on the server */
      statementTimeoutSeconds: integer(1, 3600).default(60),
      /** the backup tool (mariadb-backup / mariadb-dump) is killed and the snapshot fails past this */
      backupTimeoutSeconds: integer(60, 604_800).default(43_200),
      /** a node whose receive queue holds more write sets than this is behind: no snapshot on it */
      maxRecvQueue: integer(0, 1_000_000).default(16),
      /** how long a node may take to commit what the other nodes had committed, before it counts as behind */
      catchUpSeconds: integer(1, 600).default(10),
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
      /** logical snapshots (mariadb-dump) */
      logical: z
        .strictObject({
          /** accounts appended to the dump with their grants: the objects' definers, every account, or none */
          accounts: z.enum(['definers', 'all', 'none']).default('definers'),
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
    concurrency: integer(1, 64).default(8),
    compressionLevel: integer(1, 19).default(3),
    /**
     * how a manifest commit refuses to replace an existing one: `on` one conditional request
     * (If-None-Match), `off` check then write, `auto` probes the store once per process
     */
    conditionalWrites: z.enum(['auto', 'on', 'off']).default('auto'),
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
      timezone: timezone.default('UTC'),
      snapshot: cron.default('0 */6 * * *'),
      prune: cron.default('30 3 * * *'),
      verify: cron.default('0 4 * * *'),
    })
    .prefault({}),
  /** GFS retention, modelled on Adobe Commerce Cloud Pro */
  retention: z
    .strictObject({
      keepAllDays: integer(0, 3650).default(3),
      dailyDays: integer(0, 3650).default(7),
      weeklyWeeks: integer(0, 520).default(6),
      monthlyMonths: integer(0, 1200).default(5),
      /** never fewer than this many verified snapshots */
      keepLast: integer(1, 1000).default(1),
    })
    .prefault({}),
  daemon: z
    .strictObject({
      /** a lease holder that stops renewing loses the lease after this long; another node takes over */
      leaseTtlSeconds: integer(3, 3600).default(60),
      /** each step down the preferred-node order waits this much longer before competing for a slot */
      staggerSeconds: z.number().min(0).max(600).default(5),
      /** give up on a slot after this long; the next slot takes over */
      slotWindowMinutes: z.number().min(1).max(1440).default(120),
      /** on SIGTERM, running jobs get this long to stop cleanly */
      shutdownTimeoutSeconds: integer(1, 3600).default(60),
      /** while this node's database is unreachable, its snapshots take the file areas only (no lease) */
      filesWhenDatabaseDown: z.boolean().default(false),
    })
    .prefault({}),
  /** Production → Staging refresh (issue #15); the sync is refused while this is absent */
  staging: z
    .strictObject({
      /** the shop's schema on Production, as the snapshots hold it */
      sourceDatabase: z.string().min(1).max(64),
      /** Staging's own server and account (never Production's), and the schema Staging's shop uses */
      target: z.strictObject({
        host: z.string().min(1).max(253).optional(),
        port: integer(1, 65535).default(3306),
        socket: absolutePath.optional(),
        user: z.string().min(1).max(80),
        password: secretInput.optional(),
        database: z.string().min(1).max(48),
      }),
      /** Production host → Staging host, for every store's base URLs and cookie domain */
      hosts: z
        .record(z.string().min(1), z.string().min(1))
        .refine((h) => Object.keys(h).length > 0, 'expected at least one host mapping'),
      /** tables whose rows are dropped (n98-magerun2 groups, names, wildcards); default @stripped and cron_schedule */
      strip: z.array(z.string().min(1)).optional(),
      /** core_config_data values Staging must have, after the stock side-effect overrides */
      overrides: z.array(z.strictObject({ path: z.string().min(1), value: z.string().nullable() })).default([]),
      anonymize: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** admin users' names and e-mails too (usernames stay) */
          admins: z.boolean().default(false),
          /** keeps the fakes stable from one sync to the next; at least 8 characters */
          salt: secretInput.optional(),
          /** more columns: table → column → kind (email, firstname, lastname, name, phone, street, city, postcode, company, ip, text) */
          columns: z
            .record(
              z.string(),
              z.record(
                z.string(),
                z.enum([
                  'email',
                  'firstname',
                  'lastname',
                  'name',
                  'phone',
                  'street',
                  'city',
                  'postcode',
                  'company',
                  'ip',
                  'text',
                ]),
              ),
            )
            .default({}),
        })
        .prefault({}),
      /** Staging's own rows kept across a refresh: whole tables (default: admins and API credentials) and config paths */
      preserve: z
        .strictObject({ tables: z.array(z.string().min(1)).optional(), paths: z.array(z.string().min(1)).default([]) })
        .prefault({}),
      /** Staging's media directory, synced from the snapshot's area when a sync includes "media" (never app/etc: it holds Production's credentials) */
      media: z
        .strictObject({
          area: z
            .string()
            .default('pub/media')
            .refine(
              (a) => a !== 'app/etc',
              "app/etc is never copied to Staging (Production's env.php holds Production credentials)",
            ),
          target: absolutePath,
        })
        .optional(),
      /** the deadline of each statement on Staging (a transform rewrites a whole table in one) */
      statementTimeoutSeconds: integer(10, 24 * 3600).default(3600),
      /** caps the copy's flow into Staging (bytes of dump per second; default: no cap, only low CPU and I/O priority) */
      maxBytesPerSecond: integer(1024, 10 * 1024 ** 3).optional(),
      /** the Staging account that owns views, triggers and routines (default: target.user@localhost) */
      definer: z
        .strictObject({ user: z.string().min(1).max(80), host: z.string().min(1).max(255).default('localhost') })
        .optional(),
    })
    .optional(),
  api: z
    .strictObject({
      /** a non-loopback address needs a token */
      listen: listen.default('127.0.0.1:8470'),
      token: secretInput.optional(),
    })
    .prefault({}),
  /** loss detection (issue #16): probes of every peer, the witness heartbeats, the detector's thresholds */
  health: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** every peer is probed this often (a round never starts while the previous one runs) */
      intervalSeconds: z.number().min(0.1).max(60).default(1),
      /** deadline of each probe; at most intervalSeconds */
      probeTimeoutMs: integer(50, 60_000).default(800),
      /** how long every probe of a peer must fail before it is suspect (0: the first failed round) */
      suspectAfterSeconds: z.number().min(0).max(3600).default(0),
      /** how long every probe must fail before a verdict (lost or partitioned) */
      lostAfterSeconds: z.number().min(1).max(3600).default(5),
      /** how long every probe must answer again before a lost or partitioned peer is healthy */
      recoverAfterSeconds: z.number().min(0).max(3600).default(10),
      /** this node's witness heartbeat is written (and the others' read) this often */
      witnessIntervalSeconds: z.number().min(0.5).max(300).default(2),
      /** a witness heartbeat unchanged for this long is stale; at least twice witnessIntervalSeconds */
      witnessStaleSeconds: z.number().min(1).max(3600).default(8),
    })
    .prefault({}),
  /** automatic recovery (issue #17): what this node's daemon may do by itself when the cluster loses nodes */
  recovery: z
    .strictObject({
      /** run the plan for this node's part without asking (default: alert only; `lifeboat recover --execute` acts) */
      auto: z.boolean().default(false),
      /** at most one automatic recovery per this window, cluster-wide (a second loss inside it: alert only) */
      windowMinutes: z
        .number()
        .min(1)
        .max(7 * 24 * 60)
        .default(30),
      /** a plan must be the same on evaluations this far apart before the daemon acts on it */
      confirmSeconds: z.number().min(0).max(600).default(3),
      /** runs before an automatic recovery acts (argv; the plan as JSON in LIFEBOAT_RECOVERY_PLAN); a non-zero exit vetoes it */
      preHook: z.array(z.string().min(1)).min(1).optional(),
      /** runs after it (LIFEBOAT_RECOVERY_OUTCOME: succeeded or failed) */
      postHook: z.array(z.string().min(1)).min(1).optional(),
      /** the deadline of each hook */
      hookTimeoutSeconds: integer(1, 3600).default(60),
      /** how a step starts this node's mariadbd: the stock systemd unit, or command templates (`{node}`: this node's name) */
      control: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('systemd'), unit: z.string().min(1).max(255).default('mariadb') }),
          z.strictObject({
            type: z.literal('commands'),
            start: z.array(z.string().min(1)).min(1),
            bootstrap: z.array(z.string().min(1)).min(1),
            stop: z.array(z.string().min(1)).min(1),
            status: z.array(z.string().min(1)).min(1),
            recover: z.array(z.string().min(1)).min(1),
          }),
        ])
        .optional(),
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
      rpoHours: z.number().min(1).max(8760).default(12),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
