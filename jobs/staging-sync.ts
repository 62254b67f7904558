import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/load.js';
import { restoreDatabase } from '../restore/database.js';
import { type SyncFilesResult, syncFiles } from '../restore/media-sync.js';
import { NamedLock } from '../src/coord/index.js';
import { filesPartOf } from '../src/files/index.js';
import {
  connect,
  type Endpoint,
  type ScratchServer,
  type SqlClient,
  startScratchServer,
  stopLeftoverScratchServer,
  wsrepStatus,
} from '../src/galera/index.js';
import { spawnSource, spawnTransform } from '../src/lib/child-process.js';
import { errorMessage, NotFoundError, PermanentError, UsageError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import type { Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { isSnapshotId } from '../src/repo/snapshot-id.js';
import { newestVerified, VERIFIED_LOOKBACK } from '../src/repo/verification.js';
import {
  ADMIN_ANONYMIZE,
  applyStagingTransforms,
  asideSchemas,
  baseTables,
  DEFAULT_ANONYMIZE,
  DEFAULT_OVERRIDES,
  DEFAULT_PRESERVE,
  DEFAULT_STRIP,
  DEFAULT_TABLE_OVERRIDES,
  expandStrip,
  finishSwitch,
  identify,
  type PreserveSpec,
  quoteName,
  type Reach,
  refuseProductionEndpoint,
  refuseProductionServer,
  type StagingTransforms,
  type SwitchResult,
  switchInto,
  type TransformReport,
  tableRef,
  unqualifyViews,
} from '../src/staging/index.js';
import { booleanParam, type JobDefinition, paramsObject, type RunContext } from './job.js';
import { localEndpoint } from './settings.js';
import { databaseOptions, whileDesynced } from './snapshot.js';
import { recordStagingSync } from './staging-history.js';

/** Where a sync reads Production's shop schema from: a snapshot (restored aside) or a live node. */
export interface StagingSource {
  /** what the report names: `snapshot <id>` or `live node <name>` */
  readonly name: string;
  /** the snapshot it copies; null for a live copy */
  readonly snapshot: string | null;
  /** the Galera cluster the data comes from: a target that is a member of it is refused */
  readonly cluster: string;
  /** serves the shop schema for the duration of `copy` (a scratch server, or a desynced node) */
  serve<T>(copy: (from: Endpoint) => Promise<T>, timed: Timed): Promise<T>;
}

type Timed = <T>(phase: string, work: () => Promise<T>) => Promise<T>;

export interface StagingSyncOptions {
  readonly source: StagingSource;
  /** the Magento schema in Production (and in its snapshots) */
  readonly database: string;
  /** Staging's server (its own account, never Production's) and the schema Staging's shop uses */
  readonly target: { readonly endpoint: Endpoint; readonly database: string };
  /** Production's nodes as configured: a target that is one of them is refused before connecting */
  readonly production: readonly Reach[];
  readonly transforms: Omit<StagingTransforms, 'preserve'> & { readonly preserve?: PreserveSpec };
  /** awaited right before the switch (the lock's fencing check); a throw leaves Staging as it was */
  readonly beforeSwitch?: () => Promise<void>;
  /** caps the copy's flow (bytes of dump per second) */
  readonly maxBytesPerSecond?: number;
  readonly logger?: Logger;
  /** phases `download` and `prepare` (a snapshot's restore), `start`, `copy` (bytes, total estimated), `transform`, `switch` */
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface StagingSyncReport {
  readonly source: string;
  /** the snapshot copied; null for a live copy */
  readonly snapshot: string | null;
  readonly database: string;
  readonly target: string;
  /** rows per table of the new Staging, before the switch */
  readonly rows: Readonly<Record<string, number>>;
  readonly transforms: TransformReport;
  readonly switch: SwitchResult;
  readonly phasesMs: Readonly<Record<string, number>>;
  /** when the sync included media: what the media directory sync transferred */
  readonly media?: SyncFilesResult;
  /** the key of the sync's record in the object store (`lifeboat staging status`); null when it could not be written */
  readonly record?: string | null;
}

/**
 * Refreshes Staging's database: the source serves the shop schema, which is copied into a schema
 * beside Staging's, transformed there (strip, base URLs, overrides, anonymisation, Staging's
 * preserved rows, definers) and switched in by one atomic RENAME TABLE. Until the switch Staging
 * is untouched; a failed or killed sync leaves it as it was (the next sync finishes or discards
 * what a killed one left).
 */
export async function syncStaging(options: StagingSyncOptions): Promise<StagingSyncReport> {
  const logger = (options.logger ?? nullLogger).child({ job: 'staging-sync' });
  const phasesMs: Record<string, number> = {};
  const progress = options.progress ?? nullProgress;
  const timed: Timed = async (phase, work) => {
    const started = performance.now();
    logger.info('staging sync phase', { phase });
    if (phase !== 'restore' && phase !== 'copy') progress.phase(phase); // those report their own
    try {
      return await work();
    } finally {
      phasesMs[phase] = Math.round(performance.now() - started);
      progress.done();
    }
  };
  const { endpoint, database: live } = options.target;
  const { source } = options;
  refuseProductionEndpoint(endpoint, options.production);
  const staging = await connect(endpoint);
  const { next, previous } = asideSchemas(live);
  try {
    refuseProductionServer(endpoint.name, await identify(staging), { clusters: [source.cluster] });
    const leftover = await finishSwitch(staging, live, next, previous);
    if (leftover !== 'none') logger.warn('a previous staging sync did not finish', { leftover });
    await source.serve(
      (from) =>
        timed('copy', () =>
          copySchema(from, options.database, endpoint, next, staging, progress, options.maxBytesPerSecond, options.signal),
        ),
      timed,
    );
    const liveExists = (await baseTables(staging, live)).length > 0;
    const { preserve, ...rest } = options.transforms;
    const transforms = await timed('transform', () =>
      applyStagingTransforms(staging, next, {
        ...rest,
        ...(preserve && liveExists ? { preserve: { spec: preserve, previous: live } } : {}),
      }),
    );
    const rows = await countRows(staging, next);
    await options.beforeSwitch?.();
    const switched = await timed('switch', () => switchInto(staging, live, next, previous));
    logger.info('staging synced', { source: source.name, unavailableMs: switched.unavailableMs, phasesMs });
    return {
      source: source.name,
      snapshot: source.snapshot,
      database: options.database,
      target: live,
      rows,
      transforms,
      switch: switched,
      phasesMs,
    };
  } catch (err) {
    // before the switch the copy is all there is to undo; finishSwitch handles a failure after it
    await finishSwitch(staging, live, next, previous).catch((cleanup: unknown) =>
      logger.warn('could not remove the unfinished copy', { error: String(cleanup) }),
    );
    throw err;
  } finally {
    await staging.close();
  }
}

/**
 * A snapshot as the source, with no connection to Production: restored into `workDir` and served
 * by a scratch mariadbd (no network, no Galera), removed again after the copy.
 */
export async function snapshotSource(
  repo: Repository,
  snapshot: string,
  workDir: string,
  logger: Logger = nullLogger,
  progress: Progress = nullProgress,
  signal?: AbortSignal,
): Promise<StagingSource> {
  const manifest = await repo.resolve(snapshot);
  const part = manifest.parts.database;
  if (part?.method !== 'physical' || !part.galera)
    throw new PermanentError(`snapshot '${manifest.id}': has no physical database part to sync Staging from`);
  return {
    name: `snapshot ${manifest.id}`,
    snapshot: manifest.id,
    cluster: part.galera.uuid,
    async serve(copy, timed) {
      const datadir = join(workDir, 'datadir');
      const serverDir = join(workDir, 'server');
      if (await stopLeftoverScratchServer(serverDir)) logger.warn('stopped the scratch server a killed sync left');
      // the scratch server's user must reach the restored datadir (its own dirs stay private)
      await mkdir(workDir, { recursive: true });
      await chmod(workDir, 0o711);
      let scratch: ScratchServer | undefined;
      try {
        await timed('restore', () =>
          restoreDatabase({
            repo,
            snapshot: manifest.id,
            target: datadir,
            force: true,
            logger,
            progress,
            ...(process.getuid?.() === 0 ? { owner: 'mysql' } : {}),
            ...(signal ? { signal } : {}),
          }),
        );
        scratch = await timed('start', () => startScratchServer({ datadir, dir: serverDir, lowPriority: true }));
        return await copy({ name: 'scratch', socket: scratch.socket, user: 'root' });
      } finally {
        await scratch?.stop();
        await rm(workDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * This Production node as the source: read-only (one `--single-transaction` dump, no locks),
 * with a snapshot's guarantees — refused unless Synced, Primary and caught up, desynced while
 * the dump reads so the cluster never waits for it, the desync always undone.
 */
export async function liveSource(ctx: RunContext, sql: SqlClient, signal?: AbortSignal): Promise<StagingSource> {
  const { config } = ctx;
  const status = await wsrepStatus(sql);
  const node = config.cluster.node;
  const db = databaseOptions(config, sql, 'logical');
  return {
    name: `live node ${node}`,
    snapshot: null,
    cluster: status.stateUuid,
    serve: (copy) => whileDesynced(node, db, ctx.logger, signal, () => copy(localEndpoint(config))),
  };
}

/** `mariadb-dump` of one schema from `from` into `into` on Staging, niced and ionice'd (Staging shares the hardware). */
async function copySchema(
  from: Endpoint,
  schema: string,
  target: Endpoint,
  into: string,
  staging: SqlClient,
  progress: Progress,
  maxBytesPerSecond: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  progress.phase('copy', await dumpEstimate(from, schema), 'bytes');
  await staging.execute(`CREATE DATABASE ${quoteName(into)}`);
  const dump = spawnSource(
    'mariadb-dump',
    [
      ...clientArgs(from),
      '--single-transaction',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--skip-lock-tables',
      '--no-tablespaces',
      schema,
    ],
    {
      name: 'mariadb-dump',
      lowPriority: true,
      env: clientEnv(from),
      failOn: /^mariadb-dump: (Got error|Couldn't)/m,
      ...(signal ? { signal } : {}),
    },
  );
  const load = spawnTransform('mariadb', [...clientArgs(target), '--binary-mode', into], {
    name: 'mariadb (load into Staging)',
    lowPriority: true,
    env: clientEnv(target),
    ...(signal ? { signal } : {}),
  });
  const limit = maxBytesPerSecond ? [throttled(maxBytesPerSecond)] : [];
  await pipeline(dump, counted(progress), ...limit, unqualifyViews(schema), load, discard(), ...(signal ? [{ signal }] : []));
}

/** The client tools' connection flags for `e` (its password goes in the environment, not argv). */
function clientArgs(e: Endpoint): string[] {
  const where = e.socket ? [`--socket=${e.socket}`] : [`--host=${e.host}`, `--port=${e.port ?? 3306}`];
  return [...where, `--user=${e.user}`];
}

function clientEnv(e: Endpoint): NodeJS.ProcessEnv {
  return { ...process.env, ...(e.password ? { MYSQL_PWD: e.password } : {}) };
}

/** The schema's data bytes at the source: about what its dump will be (an ETA, not a promise). */
async function dumpEstimate(from: Endpoint, schema: string): Promise<number | undefined> {
  const sql = await connect(from);
  try {
    const [row] = await sql.query<{ bytes: string | null }>(
      'SELECT SUM(data_length) AS bytes FROM information_schema.tables WHERE table_schema = ?',
      [schema],
    );
    return row?.bytes ? Number(row.bytes) : undefined;
  } finally {
    await sql.close();
  }
}

/** Passes bytes on at no more than `bytesPerSecond` on average (each chunk waits until the budget allows it). */
function throttled(bytesPerSecond: number): Transform {
  const started = performance.now();
  let passed = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      passed += chunk.length;
      const aheadMs = (passed / bytesPerSecond) * 1000 - (performance.now() - started);
      if (aheadMs <= 0) return cb(null, chunk);
      setTimeout(() => cb(null, chunk), aheadMs);
    },
  });
}

function counted(progress: Progress): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      progress.advance(chunk.length);
      cb(null, chunk);
    },
  });
}

async function countRows(db: SqlClient, schema: string): Promise<Record<string, number>> {
  const rows: Record<string, number> = {};
  for (const table of await baseTables(db, schema)) {
    const [r] = await db.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${tableRef(schema, table)}`);
    rows[table] = Number(r?.n ?? 0);
  }
  return rows;
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

export interface StagingSyncParams {
  /** `snapshot` (default: no connection to Production) or `live` (this node, desynced while it is read) */
  readonly source: 'snapshot' | 'live';
  readonly snapshot: string;
  /** the media area too (the database always) */
  readonly media: boolean;
  readonly anonymize: boolean;
  readonly strip: readonly string[];
  readonly dryRun: boolean;
}

/** What a dry run prints: what a sync would do, from the config and the chosen snapshot; nothing moves. */
export interface StagingSyncPlan {
  readonly dryRun: true;
  /** where the data would come from: `snapshot <id>` or the live node */
  readonly from: string;
  readonly snapshot: string | null;
  readonly database: string;
  readonly target: string;
  readonly strip: readonly string[];
  readonly hosts: Readonly<Record<string, string>>;
  readonly overrides: readonly string[];
  readonly anonymize: readonly string[];
  readonly preserve: readonly string[];
  /** `area → directory` when the sync includes media */
  readonly media: string | null;
}

/**
 * Staging's server as the config names it (its own account, never Production's), with the
 * deadline of `staging.statementTimeoutSeconds` on every statement (a transform rewrites whole
 * tables in one statement).
 */
function stagingEndpoint(config: Config): Endpoint {
  const s = config.staging as NonNullable<Config['staging']>;
  const t = s.target;
  return {
    name: 'staging',
    ...(t.socket ? { socket: t.socket } : { host: t.host, port: t.port }),
    user: t.user,
    ...(t.password ? { password: t.password.reveal() } : {}),
    statementTimeoutMs: s.statementTimeoutSeconds * 1000,
  };
}

/** How far back `latest` looks for a verified snapshot that has what a sync needs. */
/**
 * The snapshot a sync copies: a given id as it is (it must have what the sync needs), or for
 * `latest` the newest complete snapshot that `lifeboat verify` found whole (a sync into Staging
 * is a restore, and the newest one may be the damaged one).
 */
async function chooseSnapshot(repo: Repository, requested: string, mediaArea: string | undefined): Promise<Manifest> {
  const lacks = (m: Manifest): string | null => {
    const part = m.parts.database;
    if (part?.method !== 'physical' || !part.galera) return 'has no physical database part';
    if (mediaArea && !filesPartOf(m)?.areas.some((a) => a.name === mediaArea)) return `has no file area '${mediaArea}'`;
    return null;
  };
  if (requested !== 'latest') {
    const manifest = await repo.resolve(requested);
    const why = lacks(manifest);
    if (why) throw new UsageError(`snapshot '${manifest.id}': ${why} to sync Staging from`);
    return manifest;
  }
  const manifest = await newestVerified(repo, (m) => !lacks(m));
  if (manifest) return manifest;
  throw new NotFoundError(
    `no verified snapshot with ${mediaArea ? `a physical database part and the area '${mediaArea}'` : 'a physical database part'} among the newest ${VERIFIED_LOOKBACK}: run 'lifeboat verify latest' or name one with --snapshot`,
  );
}

function transformsOf(config: Config, params: StagingSyncParams): StagingSyncOptions['transforms'] {
  const s = config.staging as NonNullable<Config['staging']>;
  return {
    strip: params.strip,
    hosts: s.hosts,
    overrides: [...DEFAULT_OVERRIDES, ...s.overrides],
    tableOverrides: DEFAULT_TABLE_OVERRIDES,
    ...(params.anonymize
      ? {
          anonymize: {
            spec: { ...DEFAULT_ANONYMIZE, ...(s.anonymize.admins ? ADMIN_ANONYMIZE : {}), ...s.anonymize.columns },
            salt: s.anonymize.salt?.reveal() ?? '',
          },
        }
      : {}),
    preserve: { tables: s.preserve.tables ?? DEFAULT_PRESERVE.tables, paths: s.preserve.paths },
    definer: s.definer ?? { user: s.target.user, host: 'localhost' },
  };
}

/** The database (and with `media` the media area) of the chosen snapshot into Staging. */
async function runSync(
  ctx: RunContext,
  params: StagingSyncParams,
  transforms: StagingSyncOptions['transforms'],
  manifest: Manifest | null,
  signal: AbortSignal,
): Promise<StagingSyncReport> {
  const s = ctx.config.staging as NonNullable<Config['staging']>;
  const options = {
    beforeSwitch: () => ctx.beforeCommit(),
    ...(s.maxBytesPerSecond ? { maxBytesPerSecond: s.maxBytesPerSecond } : {}),
    database: s.sourceDatabase,
    target: { endpoint: stagingEndpoint(ctx.config), database: s.target.database },
    production: ctx.config.cluster.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, socket: n.socket })),
    transforms,
    logger: ctx.logger,
    progress: ctx.progress,
    signal,
  };
  if (!manifest) return ctx.useDatabase(async (sql) => syncStaging({ ...options, source: await liveSource(ctx, sql, signal) }));
  const workDir = join(ctx.config.stateDir, 'staging-sync');
  const report = await syncStaging({
    ...options,
    source: await snapshotSource(ctx.repo, manifest.id, workDir, ctx.logger, ctx.progress, signal),
  });
  const media = params.media ? s.media : undefined;
  if (!media) return report;
  const started = performance.now();
  ctx.progress.phase('media');
  const files = await syncFiles({
    repo: ctx.repo,
    manifest,
    area: media.area,
    target: media.target,
    logger: ctx.logger,
    signal,
  });
  ctx.progress.done();
  return { ...report, media: files, phasesMs: { ...report.phasesMs, media: Math.round(performance.now() - started) } };
}

export const stagingSyncJob: JobDefinition<StagingSyncParams, StagingSyncReport | StagingSyncPlan> = {
  kind: 'staging-sync',
  // one sync cluster-wide at a time: a second one on any node is a conflict
  clusterWide: true,
  scheduleKey: undefined,
  // Staging's server is what a sync guards: its named lock excludes a second sync from any node
  // or the CLI, with no connection to Production
  async openLease(config) {
    const s = config.staging as NonNullable<Config['staging']>;
    const ttl = config.daemon.leaseTtlSeconds;
    // the lock's statements are instant: a renewal that hangs longer than the lease fails
    const sql = await connect({ ...stagingEndpoint(config), connectTimeoutMs: ttl * 1000, statementTimeoutMs: ttl * 1000 });
    return new NamedLock(sql, `lifeboat.staging-sync.${s.target.database}`.slice(0, 64), ttl);
  },
  params(input, config) {
    const p = paramsObject(input, ['source', 'snapshot', 'include', 'anonymize', 'strip', 'dryRun']);
    if (!config.staging) throw new UsageError('staging: not configured (add a staging section to the config)');
    if (p.source !== undefined && p.source !== 'snapshot' && p.source !== 'live')
      throw new UsageError(`request body: 'source' must be "snapshot" or "live", got ${JSON.stringify(p.source)}`);
    const source = (p.source as 'snapshot' | 'live' | undefined) ?? 'snapshot';
    if (source === 'live' && p.snapshot !== undefined)
      throw new UsageError("request body: 'snapshot' names a snapshot, but 'source' is \"live\"");
    if (p.snapshot !== undefined && (typeof p.snapshot !== 'string' || (p.snapshot !== 'latest' && !isSnapshotId(p.snapshot))))
      throw new UsageError("request body: 'snapshot' must be a snapshot id or 'latest'");
    if (
      p.include !== undefined &&
      (!Array.isArray(p.include) || !p.include.includes('db') || p.include.some((x) => x !== 'db' && x !== 'media'))
    )
      throw new UsageError(`request body: 'include' must be ["db"] or ["db", "media"]`);
    const media = Array.isArray(p.include) && p.include.includes('media');
    if (media && !config.staging.media)
      throw new UsageError("request body: 'include' names media, but staging.media is not configured");
    if (media && source === 'live')
      throw new UsageError("request body: 'include' names media, which comes from a snapshot only (use 'source': \"snapshot\")");
    if (p.strip !== undefined && (!Array.isArray(p.strip) || p.strip.some((x) => typeof x !== 'string' || x === '')))
      throw new UsageError("request body: 'strip' must be a list of table groups, names or wildcards");
    const strip = (p.strip as string[] | undefined) ?? config.staging.strip ?? DEFAULT_STRIP;
    expandStrip(strip); // an unknown group is refused now, not after the restore
    const anonymize = p.anonymize === undefined ? config.staging.anonymize.enabled : booleanParam(p, 'anonymize');
    if (anonymize && !config.staging.anonymize.salt) throw new UsageError('staging.anonymize.salt: required to anonymise');
    return {
      source,
      snapshot: (p.snapshot as string | undefined) ?? 'latest',
      media,
      anonymize,
      strip,
      dryRun: booleanParam(p, 'dryRun'),
    };
  },
  async run(ctx, params, signal) {
    const s = ctx.config.staging as NonNullable<Config['staging']>;
    const transforms = transformsOf(ctx.config, params);
    if (params.dryRun) {
      const manifest =
        params.source === 'snapshot'
          ? await chooseSnapshot(ctx.repo, params.snapshot, params.media ? s.media?.area : undefined)
          : null;
      return {
        dryRun: true,
        from: manifest ? `snapshot ${manifest.id}` : `live node ${ctx.config.cluster.node} (desynced while it is read)`,
        snapshot: manifest?.id ?? null,
        database: s.sourceDatabase,
        target: s.target.database,
        strip: expandStrip(params.strip),
        hosts: s.hosts,
        overrides: transforms.overrides.map((o) => `${o.path} = ${o.value ?? 'NULL'}`),
        anonymize: Object.entries(transforms.anonymize?.spec ?? {}).flatMap(([t, cols]) =>
          Object.keys(cols).map((c) => `${t}.${c}`),
        ),
        preserve: [
          ...(transforms.preserve?.tables ?? []),
          ...(transforms.preserve?.paths ?? []).map((p) => `core_config_data ${p}`),
        ],
        media: params.media && s.media ? `${s.media.area} → ${s.media.target}` : null,
      };
    }
    const startedAt = new Date().toISOString();
    const record = (outcome: { snapshot: string | null; report?: StagingSyncReport; error?: unknown }) =>
      recordStagingSync(ctx.repo, {
        target: s.target.database,
        node: ctx.config.cluster.node,
        startedAt,
        finishedAt: new Date().toISOString(),
        ok: outcome.report !== undefined,
        snapshot: outcome.snapshot,
        error: outcome.error === undefined ? null : errorMessage(outcome.error),
        report: outcome.report ?? null,
      }).catch((err: unknown) => {
        ctx.logger.error('could not record the staging sync', { error: errorMessage(err) });
        return null;
      });
    let snapshot: string | null = null;
    try {
      // one snapshot for both parts; a media sync needs its area before anything moves
      const manifest =
        params.source === 'snapshot'
          ? await chooseSnapshot(ctx.repo, params.snapshot, params.media ? s.media?.area : undefined)
          : null;
      snapshot = manifest?.id ?? null;
      const report = await runSync(ctx, params, transforms, manifest, signal);
      return { ...report, record: await record({ snapshot, report }) };
    } catch (err) {
      await record({ snapshot, error: err });
      throw err;
    }
  },
  settle: (result) => ({
    summary:
      'dryRun' in result
        ? `plan: Staging from ${result.from}`
        : `Staging '${result.target}' from ${result.source}; switch ${result.switch.unavailableMs} ms`,
  }),
};
