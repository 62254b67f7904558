import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/load.js';
import { restoreDatabase } from '../restore/database.js';
import { type SyncFilesResult, syncFiles } from '../restore/media-sync.js';
import { NamedLock } from '../src/coord/index.js';
import { filesPartOf } from '../src/files/index.js';
import { connect, type Endpoint, type SqlClient, startScratchServer, stopLeftoverScratchServer } from '../src/galera/index.js';
import { spawnSource, spawnTransform } from '../src/lib/child-process.js';
import { errorMessage, NotFoundError, PermanentError, UsageError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import type { Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { isSnapshotId } from '../src/repo/snapshot-id.js';
import { verificationStates } from '../src/repo/verification.js';
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
} from '../src/staging/index.js';
import { booleanParam, type JobDefinition, paramsObject, type RunContext } from './job.js';
import { recordStagingSync } from './staging-history.js';

export interface StagingSyncOptions {
  readonly repo: Repository;
  /** snapshot id or `latest` */
  readonly snapshot: string;
  /** the Magento schema in the snapshot (Production's database name) */
  readonly database: string;
  /** Staging's server (its own account, never Production's) and the schema Staging's shop uses */
  readonly target: { readonly endpoint: Endpoint; readonly database: string };
  /** Production's nodes as configured: a target that is one of them is refused before connecting */
  readonly production: readonly Reach[];
  readonly transforms: Omit<StagingTransforms, 'preserve'> & { readonly preserve?: PreserveSpec };
  /** scratch space for the restored snapshot (removed at the end) */
  readonly workDir: string;
  /** awaited right before the switch (the lock's fencing check); a throw leaves Staging as it was */
  readonly beforeSwitch?: () => Promise<void>;
  readonly logger?: Logger;
  /** phases `download` and `prepare` (the restore), `start`, `copy` (bytes, total estimated), `transform`, `switch` */
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface StagingSyncReport {
  readonly snapshot: string;
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
 * Refreshes Staging's database from a snapshot, with no connection to Production: the snapshot
 * is restored into a scratch directory and served by a scratch mariadbd (no network), its shop
 * schema is copied into a schema beside Staging's, transformed there (strip, base URLs,
 * overrides, anonymisation, Staging's preserved rows, definers) and switched in by one atomic
 * RENAME TABLE. Until the switch Staging is untouched; a failed or killed sync leaves it as it was
 * (the next sync finishes or discards what a killed one left).
 */
export async function syncStagingFromSnapshot(options: StagingSyncOptions): Promise<StagingSyncReport> {
  const logger = (options.logger ?? nullLogger).child({ job: 'staging-sync' });
  const phasesMs: Record<string, number> = {};
  const progress = options.progress ?? nullProgress;
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
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
  refuseProductionEndpoint(endpoint, options.production);
  const manifest = await options.repo.resolve(options.snapshot);
  const part = manifest.parts.database;
  if (part?.method !== 'physical' || !part.galera)
    throw new PermanentError(`snapshot '${manifest.id}': has no physical database part to sync Staging from`);

  const staging = await connect(endpoint);
  const { next, previous } = asideSchemas(live);
  const datadir = join(options.workDir, 'datadir');
  let scratch: Awaited<ReturnType<typeof startScratchServer>> | undefined;
  try {
    refuseProductionServer(endpoint.name, await identify(staging), { clusters: [part.galera.uuid] });
    const leftover = await finishSwitch(staging, live, next, previous);
    if (leftover !== 'none') logger.warn('a previous staging sync did not finish', { leftover });

    if (await stopLeftoverScratchServer(join(options.workDir, 'server')))
      logger.warn('stopped the scratch server a killed sync left');
    // the scratch server's user must reach the restored datadir (its own dirs stay private)
    await mkdir(options.workDir, { recursive: true });
    await chmod(options.workDir, 0o711);
    await timed('restore', () =>
      restoreDatabase({
        repo: options.repo,
        snapshot: manifest.id,
        target: datadir,
        force: true,
        logger,
        progress,
        ...(process.getuid?.() === 0 ? { owner: 'mysql' } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    );
    scratch = await timed('start', () => startScratchServer({ datadir, dir: join(options.workDir, 'server') }));
    const source = scratch;
    await timed('copy', () => copySchema(source.socket, options.database, endpoint, next, staging, progress, options.signal));
    await source.stop();
    scratch = undefined;
    await rm(options.workDir, { recursive: true, force: true });

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
    logger.info('staging synced', { snapshot: manifest.id, unavailableMs: switched.unavailableMs, phasesMs });
    return { snapshot: manifest.id, database: options.database, target: live, rows, transforms, switch: switched, phasesMs };
  } catch (err) {
    // before the switch the copy is all there is to undo; finishSwitch handles a failure after it
    await finishSwitch(staging, live, next, previous).catch((cleanup: unknown) =>
      logger.warn('could not remove the unfinished copy', { error: String(cleanup) }),
    );
    throw err;
  } finally {
    await scratch?.stop();
    await rm(options.workDir, { recursive: true, force: true });
    await staging.close();
  }
}

/** `mariadb-dump` of one schema from the scratch server into `into` on Staging, niced and ionice'd (Staging shares the hardware). */
async function copySchema(
  socket: string,
  schema: string,
  target: Endpoint,
  into: string,
  staging: SqlClient,
  progress: Progress,
  signal: AbortSignal | undefined,
): Promise<void> {
  progress.phase('copy', await dumpEstimate(socket, schema), 'bytes');
  await staging.execute(`CREATE DATABASE ${quoteName(into)}`);
  const low = ['-n', '10', 'ionice', '-c', '3'];
  const dump = spawnSource(
    'nice',
    [
      ...low,
      'mariadb-dump',
      `--socket=${socket}`,
      '--user=root',
      '--single-transaction',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--skip-lock-tables',
      '--no-tablespaces',
      schema,
    ],
    { name: 'mariadb-dump', failOn: /^mariadb-dump: (Got error|Couldn't)/m, ...(signal ? { signal } : {}) },
  );
  const where = target.socket ? [`--socket=${target.socket}`] : [`--host=${target.host}`, `--port=${target.port ?? 3306}`];
  const load = spawnTransform('nice', [...low, 'mariadb', ...where, `--user=${target.user}`, '--binary-mode', into], {
    name: 'mariadb (load into Staging)',
    env: { ...process.env, ...(target.password ? { MYSQL_PWD: target.password } : {}) },
    ...(signal ? { signal } : {}),
  });
  await pipeline(dump, counted(progress), load, discard(), ...(signal ? [{ signal }] : []));
}

/** The schema's data bytes on the scratch server: about what its dump will be (an ETA, not a promise). */
async function dumpEstimate(socket: string, schema: string): Promise<number | undefined> {
  const scratch = await connect({ name: 'scratch', socket, user: 'root' });
  try {
    const [row] = await scratch.query<{ bytes: string | null }>(
      'SELECT SUM(data_length) AS bytes FROM information_schema.tables WHERE table_schema = ?',
      [schema],
    );
    return row?.bytes ? Number(row.bytes) : undefined;
  } finally {
    await scratch.close();
  }
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
  readonly snapshot: string;
  readonly source: string;
  readonly target: string;
  readonly strip: readonly string[];
  readonly hosts: Readonly<Record<string, string>>;
  readonly overrides: readonly string[];
  readonly anonymize: readonly string[];
  readonly preserve: readonly string[];
  /** `area → directory` when the sync includes media */
  readonly media: string | null;
}

/** Staging's server as the config names it (its own account, never Production's). */
function stagingEndpoint(config: Config): Endpoint {
  const t = (config.staging as NonNullable<Config['staging']>).target;
  return {
    name: 'staging',
    ...(t.socket ? { socket: t.socket } : { host: t.host, port: t.port }),
    user: t.user,
    ...(t.password ? { password: t.password.reveal() } : {}),
  };
}

/** How far back `latest` looks for a verified snapshot that has what a sync needs. */
const VERIFIED_LOOKBACK = 50;

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
  const ids = (await repo.snapshotIds()).slice(-VERIFIED_LOOKBACK).reverse();
  const states = await verificationStates(repo, ids);
  for (const id of ids) {
    if (!states.get(id)?.verified) continue;
    const manifest = await repo.manifest(id);
    if (!lacks(manifest)) return manifest;
  }
  throw new NotFoundError(
    `no verified snapshot with ${mediaArea ? `a physical database part and the area '${mediaArea}'` : 'a physical database part'} among the newest ${ids.length}: run 'lifeboat verify latest' or name one with --snapshot`,
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
async function syncStaging(
  ctx: RunContext,
  params: StagingSyncParams,
  transforms: StagingSyncOptions['transforms'],
  manifest: Manifest,
  signal: AbortSignal,
): Promise<StagingSyncReport> {
  const s = ctx.config.staging as NonNullable<Config['staging']>;
  const media = params.media ? s.media : undefined;
  const report = await syncStagingFromSnapshot({
    beforeSwitch: () => ctx.beforeCommit(),
    repo: ctx.repo,
    snapshot: manifest.id,
    database: s.sourceDatabase,
    target: { endpoint: stagingEndpoint(ctx.config), database: s.target.database },
    production: ctx.config.cluster.nodes.map((n) => ({ name: n.name, host: n.host, port: n.port, socket: n.socket })),
    transforms,
    workDir: join(ctx.config.stateDir, 'staging-sync'),
    logger: ctx.logger,
    progress: ctx.progress,
    signal,
  });
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
    const sql = await connect(stagingEndpoint(config));
    return new NamedLock(sql, `lifeboat.staging-sync.${s.target.database}`.slice(0, 64), config.daemon.leaseTtlSeconds);
  },
  params(input, config) {
    const p = paramsObject(input, ['source', 'snapshot', 'include', 'anonymize', 'strip', 'dryRun']);
    if (!config.staging) throw new UsageError('staging: not configured (add a staging section to the config)');
    if (p.source !== undefined && p.source !== 'snapshot')
      throw new UsageError(
        `request body: 'source' ${JSON.stringify(p.source)} is not supported (this version syncs from a snapshot only)`,
      );
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
    if (p.strip !== undefined && (!Array.isArray(p.strip) || p.strip.some((x) => typeof x !== 'string' || x === '')))
      throw new UsageError("request body: 'strip' must be a list of table groups, names or wildcards");
    const strip = (p.strip as string[] | undefined) ?? config.staging.strip ?? DEFAULT_STRIP;
    expandStrip(strip); // an unknown group is refused now, not after the restore
    const anonymize = p.anonymize === undefined ? config.staging.anonymize.enabled : booleanParam(p, 'anonymize');
    if (anonymize && !config.staging.anonymize.salt) throw new UsageError('staging.anonymize.salt: required to anonymise');
    return {
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
      const manifest = await chooseSnapshot(ctx.repo, params.snapshot, params.media ? s.media?.area : undefined);
      return {
        dryRun: true,
        snapshot: manifest.id,
        source: s.sourceDatabase,
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
      const manifest = await chooseSnapshot(ctx.repo, params.snapshot, params.media ? s.media?.area : undefined);
      snapshot = manifest.id;
      const report = await syncStaging(ctx, params, transforms, manifest, signal);
      return { ...report, record: await record({ snapshot, report }) };
    } catch (err) {
      await record({ snapshot, error: err });
      throw err;
    }
  },
  settle: (result) => ({
    summary:
      'dryRun' in result
        ? `plan for snapshot ${result.snapshot}`
        : `Staging '${result.target}' from snapshot ${result.snapshot}; switch ${result.switch.unavailableMs} ms`,
  }),
};
