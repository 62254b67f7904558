import type { Config } from '../config/load.js';
import type { Codec } from '../src/codec/zstd.js';
import type { AreaSpec } from '../src/files/index.js';
import { filesPartOf } from '../src/files/index.js';
import {
  accountStatements,
  assertSnapshotReady,
  type BackupStream,
  type DumpAccounts,
  type Endpoint,
  type LocalServer,
  logicalDump,
  peerPositions,
  physicalBackup,
  recoverDesync,
  type SqlClient,
  serverInfo,
  withDesync,
} from '../src/galera/index.js';
import { AbortedError, errorMessage, PermanentError, UsageError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import { type DatabasePart, MANIFEST_FORMAT, type Manifest, type ObjectRecord } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { newSnapshotId } from '../src/repo/snapshot-id.js';
import { snapshotExistsForSlot } from './cluster-slot.js';
import { type FileProblem, snapshotFiles } from './files-snapshot.js';
import { type JobDefinition, paramsObject } from './job.js';
import { localServer, nodeEndpoint } from './settings.js';

export interface DatabaseSnapshotOptions {
  /** the local server: its socket and datadir are used by the backup tools */
  readonly server: LocalServer;
  /** a connection to the local server */
  readonly sql: SqlClient;
  /** where the desync marker lives (survives a crash of this process) */
  readonly stateDir: string;
  readonly method: 'physical' | 'logical';
  readonly tools?: { readonly backup?: string; readonly dump?: string };
  /** logical: the accounts appended to the dump (default: the definers of its objects) */
  readonly accounts?: DumpAccounts;
  readonly resyncTimeoutMs?: number;
  /** the backup tool is killed and the snapshot fails past this */
  readonly backupTimeoutMs?: number;
  /** readiness: the longest receive queue accepted, and how long the node may take to catch up */
  readonly maxRecvQueue?: number;
  readonly catchUpMs?: number;
  /** the other nodes, asked for their position before this one is desynced */
  readonly peers?: readonly Endpoint[];
}

export interface FilesSnapshotOptions {
  /** the Magento root on the GlusterFS mount */
  readonly root: string;
  readonly areas: readonly AreaSpec[];
  /** `auto` (default): read a healthy local Gluster brick instead of the mount when possible */
  readonly source?: 'auto' | 'mount';
  /** files read at once (default 16) */
  readonly concurrency?: number;
  readonly codec?: Codec;
}

export interface SnapshotOptions {
  readonly repo: Repository;
  /** this node's name */
  readonly node: string;
  /** the database part; omitted: files only */
  readonly database?: DatabaseSnapshotOptions;
  /** the files part; omitted: database only */
  readonly files?: FilesSnapshotOptions;
  readonly compressionLevel?: number;
  readonly toolVersion: string;
  /** the schedule slot this run fulfils, recorded in the manifest */
  readonly slot?: string;
  /** runs right before the manifest is committed; throws to prevent the commit (fencing) */
  readonly beforeCommit?: () => Promise<void>;
  readonly now?: () => Date;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface SnapshotResult {
  readonly id: string;
  readonly manifest: Manifest;
  readonly seconds: number;
  /** bytes stored in the repository by this run */
  readonly bytes: number;
  /** `partial` when some files could not be read: the snapshot is committed, with its problems listed */
  readonly status: 'complete' | 'partial';
  readonly problems: readonly FileProblem[];
}

/**
 * One restore point: the database (consistent, from the desynced local Galera node) and the file
 * areas, under one snapshot id and one manifest committed last. The database goes first so the
 * files include everything it references. A failure at any step leaves no snapshot.
 */
export async function takeSnapshot(options: SnapshotOptions): Promise<SnapshotResult> {
  if (!options.database && !options.files) throw new UsageError('snapshot: nothing to take (no database, no file areas)');
  const now = options.now ?? (() => new Date());
  const logger = (options.logger ?? nullLogger).child({ job: 'snapshot', node: options.node });
  const started = now();
  const aborted = await options.repo.cleanupIncomplete(started);
  if (aborted) logger.warn('aborted uploads left by interrupted runs', { count: aborted });
  const id = newSnapshotId(started);
  logger.info('snapshot started', {
    id,
    database: options.database?.method ?? null,
    files: options.files?.areas.map((a) => a.name) ?? null,
  });

  // The store is probed for the commit while the parts are taken; a failed run waits for the
  // probe too, so that no scratch object of it outlives the run.
  const commitReady = options.repo.prepareCommit();
  const { objects, database, files } = await takeParts(options, id, logger).finally(() => commitReady);

  const finished = now();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    cluster: options.repo.cluster,
    node: options.node,
    tool: { name: 'lifeboat', version: options.toolVersion },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    ...(options.slot ? { slot: options.slot } : {}),
    parts: { ...(database ? { database } : {}), ...(files ? { files: files.part } : {}) },
    objects,
  };
  await options.beforeCommit?.();
  await options.repo.commit(manifest);
  const seconds = (finished.getTime() - started.getTime()) / 1000;
  const bytes = objects.reduce((sum, o) => sum + o.stored.size, 0);
  logger.info('snapshot committed', {
    id,
    seconds,
    bytes,
    status: files?.status ?? 'complete',
    galera: database?.galera ?? null,
  });
  return { id, manifest, seconds, bytes, status: files?.status ?? 'complete', problems: files?.problems ?? [] };
}

/** The database part, then the files part, as the options ask. */
async function takeParts(
  options: SnapshotOptions,
  id: string,
  logger: Logger,
): Promise<{ objects: ObjectRecord[]; database?: DatabasePart; files?: Awaited<ReturnType<typeof snapshotFiles>> }> {
  const objects: ObjectRecord[] = [];
  let database: DatabasePart | undefined;
  if (options.database) {
    const db = await snapshotDatabasePart(options, options.database, id, logger).catch((err: unknown) => {
      throw options.signal?.aborted
        ? new AbortedError(`snapshot: stopped (${errorMessage(options.signal.reason)}); nothing was committed`, { cause: err })
        : err;
    });
    objects.push(db.record);
    database = db.part;
  }

  let files: Awaited<ReturnType<typeof snapshotFiles>> | undefined;
  if (options.files && options.files.areas.length > 0) {
    // looked for while the files snapshot asks Gluster about its areas
    const previous = previousWithFiles(options.repo);
    files = await snapshotFiles({
      repo: options.repo,
      snapshotId: id,
      root: options.files.root,
      areas: options.files.areas,
      ...(options.files.source ? { source: options.files.source } : {}),
      previous,
      ...(options.files.concurrency === undefined ? {} : { concurrency: options.files.concurrency }),
      ...(options.files.codec ? { codec: options.files.codec } : {}),
      ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
      logger,
      ...(options.progress ? { progress: options.progress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    objects.push(...files.objects);
    if (files.status === 'partial') logger.warn('file areas are partial', { problems: files.problems.length });
  }
  return { objects, ...(database ? { database } : {}), ...(files ? { files } : {}) };
}

/** Database part: refuse unless Synced, Primary and caught up; desync, stream the backup, resync (always). */
async function snapshotDatabasePart(
  options: SnapshotOptions,
  db: DatabaseSnapshotOptions,
  id: string,
  logger: Logger,
): Promise<{ part: DatabasePart; record: ObjectRecord }> {
  const progress = options.progress ?? nullProgress;
  const started = (options.now ?? (() => new Date()))();
  const server = await serverInfo(db.sql);
  const sizeHint = server.sizeBytes;
  const { record, backup } = await whileDesynced(options.node, db, logger, options.signal, async () => {
    const backup = await openBackup(options.node, db, server.databases, options);
    // compressed by a child: the bytes seen are the stored ones, whose total is not known ahead
    progress.phase('database', backup.compressed ? undefined : sizeHint, 'bytes');
    const key = `snapshots/${id}/${db.method === 'physical' ? 'db.xbstream.zst' : 'db.sql.zst'}`;
    const record = await options.repo.writeObject(key, backup.stream, {
      format: db.method === 'physical' ? 'xbstream' : 'sql',
      ...(backup.compressed ? { compressed: true } : {}),
      sizeHint: Math.max(sizeHint * 2, 1024 ** 3),
      compressionLevel: options.compressionLevel,
      signal: options.signal,
      progress,
    });
    progress.done();
    return { record, backup };
  });
  const position = backup.position();
  const part: DatabasePart = {
    method: db.method,
    startedAt: started.toISOString(),
    finishedAt: (options.now ?? (() => new Date()))().toISOString(),
    object: record.key,
    galera: position.galera,
    gtid: position.gtid,
    binlog: position.binlog,
    serverVersion: server.version,
  };
  return { part, record };
}

/**
 * `work` on this node while it is desynced, as a snapshot reads it: a desync a crashed run left is
 * undone first; refused (ConflictError naming the reason) unless Synced, Primary and caught up
 * with its peers; the resync always runs afterwards.
 */
export async function whileDesynced<T>(
  node: string,
  db: Pick<DatabaseSnapshotOptions, 'sql' | 'stateDir' | 'resyncTimeoutMs' | 'maxRecvQueue' | 'catchUpMs' | 'peers'>,
  logger: Logger,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const desync = {
    node,
    stateDir: db.stateDir,
    logger,
    ...(db.resyncTimeoutMs === undefined ? {} : { resyncTimeoutMs: db.resyncTimeoutMs }),
    ...(signal ? { signal } : {}),
  };
  await recoverDesync(db.sql, desync);
  const peers = db.peers ?? [];
  await assertSnapshotReady(node, db.sql, {
    maxRecvQueue: db.maxRecvQueue ?? 16,
    catchUpMs: db.catchUpMs ?? 10_000,
    peers: () => peerPositions(peers),
    ...(signal ? { signal } : {}),
  });
  return withDesync(db.sql, desync, work);
}

async function openBackup(
  node: string,
  db: DatabaseSnapshotOptions,
  databases: readonly string[],
  options: SnapshotOptions,
): Promise<BackupStream> {
  const common = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(db.backupTimeoutMs === undefined ? {} : { timeoutMs: db.backupTimeoutMs }),
  };
  if (db.method === 'physical') {
    // piped straight into the zstd command when the repository's codec is one
    const compressWith = options.repo.codec.compressCommand?.({ level: options.compressionLevel ?? 3 });
    return physicalBackup(db.server, {
      ...common,
      ...(db.tools?.backup ? { binary: db.tools.backup } : {}),
      ...(compressWith ? { compressWith } : {}),
    });
  }
  if (databases.length === 0) throw new PermanentError(`node '${node}': no databases to export`);
  const logger = options.logger ?? nullLogger;
  const accounts = await accountStatements(db.sql, databases, db.accounts ?? 'definers', logger);
  logger.info('logical dump: accounts included', { mode: db.accounts ?? 'definers', accounts: accounts.accounts });
  return logicalDump(db.server, databases, {
    ...common,
    epilogue: accounts.sql,
    ...(db.tools?.dump ? { binary: db.tools.dump } : {}),
  });
}

/** The newest committed snapshot with a files part: the stat cache and dedup base. */
async function previousWithFiles(repo: Repository): Promise<Manifest | undefined> {
  for (const id of (await repo.snapshotIds()).reverse()) {
    const manifest = await repo.manifest(id);
    if (filesPartOf(manifest)) return manifest;
  }
  return undefined;
}

/** The database part's options for this node. */
export function databaseOptions(config: Config, sql: SqlClient, method: 'physical' | 'logical'): DatabaseSnapshotOptions {
  return {
    server: localServer(config),
    sql,
    stateDir: config.stateDir,
    method,
    tools: config.database.tools,
    accounts: config.database.logical.accounts,
    resyncTimeoutMs: config.database.resyncTimeoutSeconds * 1000,
    backupTimeoutMs: config.database.backupTimeoutSeconds * 1000,
    maxRecvQueue: config.database.maxRecvQueue,
    catchUpMs: config.database.catchUpSeconds * 1000,
    peers: config.cluster.nodes.filter((n) => n.name !== config.cluster.node).map((n) => nodeEndpoint(config, n)),
  };
}

/** The files part's options: all configured areas, or the named ones (unknown names are usage errors). */
export function filesOptions(config: Config, names: 'all' | readonly string[]): FilesSnapshotOptions {
  const areas = config.files.areas.map((a) => ({ name: a.name, path: a.path ?? a.name, include: a.include, exclude: a.exclude }));
  const base = { root: config.files.root, source: config.files.source };
  if (names === 'all') return { ...base, areas };
  const unknown = names.filter((n) => !areas.some((a) => a.name === n));
  if (unknown.length) {
    throw new UsageError(`--area: unknown area(s) ${unknown.join(', ')} (configured: ${areas.map((a) => a.name).join(', ')})`);
  }
  return { ...base, areas: areas.filter((a) => names.includes(a.name)) };
}

export interface SnapshotParams {
  /** the database part's method, or false for none (default physical) */
  readonly database: 'physical' | 'logical' | false;
  /** file areas: all configured (the default), the named ones, or none */
  readonly areas: 'all' | readonly string[] | false;
}

/** The snapshot job: one per slot across the cluster, on the node the lease elects. */
export const snapshotJob: JobDefinition<SnapshotParams, SnapshotResult> = {
  kind: 'snapshot',
  clusterWide: true,
  scheduleKey: 'snapshot',
  slotDone: (repo, slot) => snapshotExistsForSlot(repo, slot),
  params(input, config) {
    const p = paramsObject(input, ['database', 'areas']);
    const database = p.database ?? 'physical';
    if (database !== 'physical' && database !== 'logical' && database !== false) {
      throw new UsageError("request body: 'database' must be 'physical', 'logical' or false");
    }
    const areas = p.areas ?? 'all';
    if (areas !== 'all' && areas !== false && !(Array.isArray(areas) && areas.every((a) => typeof a === 'string'))) {
      throw new UsageError("request body: 'areas' must be 'all', false or a list of area names");
    }
    if (database === false && areas === false) throw new UsageError('snapshot: nothing to take (no database, no file areas)');
    if (areas !== false) filesOptions(config, areas);
    return { database, areas };
  },
  run(ctx, params, signal) {
    const files = params.areas === false ? undefined : filesOptions(ctx.config, params.areas);
    const method = params.database;
    const take = (sql?: SqlClient): Promise<SnapshotResult> =>
      takeSnapshot({
        repo: ctx.repo,
        node: ctx.config.cluster.node,
        database: sql && method ? databaseOptions(ctx.config, sql, method) : undefined,
        files,
        compressionLevel: ctx.config.storage.compressionLevel,
        toolVersion: ctx.toolVersion,
        slot: ctx.slot,
        beforeCommit: () => ctx.beforeCommit(),
        logger: ctx.logger,
        progress: ctx.progress,
        signal,
      });
    return method ? ctx.useDatabase(take) : take();
  },
  settle: (result) => ({
    summary: result.id,
    warning:
      result.status === 'partial'
        ? `snapshot ${result.id} is partial: ${result.problems.length} file(s) could not be read`
        : undefined,
  }),
};
