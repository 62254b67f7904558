import {
  assertSnapshotReady,
  type BackupStream,
  type LocalServer,
  logicalDump,
  physicalBackup,
  recoverDesync,
  type SqlClient,
  SYSTEM_DATABASES,
  withDesync,
  wsrepStatus,
} from '../src/galera/index.js';
import { PermanentError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import { type DatabasePart, MANIFEST_FORMAT, type Manifest, type ObjectRecord } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { newSnapshotId } from '../src/repo/snapshot-id.js';

export interface SnapshotOptions {
  readonly repo: Repository;
  /** this node's name */
  readonly node: string;
  /** the local server: its socket and datadir are used by the backup tools */
  readonly server: LocalServer;
  /** a connection to the local server */
  readonly sql: SqlClient;
  /** where the desync marker lives (survives a crash of this process) */
  readonly stateDir: string;
  readonly method: 'physical' | 'logical';
  readonly tools?: { readonly backup?: string; readonly dump?: string };
  readonly compressionLevel?: number;
  readonly resyncTimeoutMs?: number;
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
}

/**
 * A consistent database snapshot of the local Galera node: refuses unless Synced in a Primary
 * cluster, desyncs the node, streams the backup compressed into the repository, resyncs (always),
 * and commits the manifest last. A failure at any step leaves no snapshot.
 */
export async function snapshotDatabase(options: SnapshotOptions): Promise<SnapshotResult> {
  const now = options.now ?? (() => new Date());
  const logger = (options.logger ?? nullLogger).child({ job: 'snapshot', node: options.node });
  const progress = options.progress ?? nullProgress;
  const started = now();
  const desync = {
    node: options.node,
    stateDir: options.stateDir,
    logger,
    ...(options.resyncTimeoutMs === undefined ? {} : { resyncTimeoutMs: options.resyncTimeoutMs }),
  };

  await recoverDesync(options.sql, desync);
  const aborted = await options.repo.cleanupIncomplete(started);
  if (aborted) logger.warn('aborted uploads left by interrupted runs', { count: aborted });

  assertSnapshotReady(options.node, await wsrepStatus(options.sql));
  const id = newSnapshotId(started);
  const [{ version }] = (await options.sql.query<{ version: string }>('SELECT VERSION() AS version')) as [{ version: string }];
  const sizeHint = await databaseSize(options.sql);
  logger.info('snapshot started', { id, method: options.method, estimatedBytes: sizeHint });

  const { record, backup } = await withDesync(options.sql, desync, async () => {
    const backup = await openBackup(options);
    progress.phase('database', sizeHint, 'bytes');
    const key = `snapshots/${id}/${options.method === 'physical' ? 'db.xbstream.zst' : 'db.sql.zst'}`;
    const record: ObjectRecord = await options.repo.writeObject(key, backup.stream, {
      format: options.method === 'physical' ? 'xbstream' : 'sql',
      sizeHint: Math.max(sizeHint * 2, 1024 ** 3),
      ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
      ...(options.signal ? { signal: options.signal } : {}),
      progress,
    });
    progress.done();
    return { record, backup };
  });

  const position = backup.position();
  const finished = now();
  const database: DatabasePart = {
    method: options.method,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    object: record.key,
    galera: position.galera,
    gtid: position.gtid,
    binlog: position.binlog,
    serverVersion: version,
  };
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    cluster: options.repo.cluster,
    node: options.node,
    tool: { name: 'lifeboat', version: options.toolVersion },
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    ...(options.slot ? { slot: options.slot } : {}),
    parts: { database },
    objects: [record],
  };
  await options.beforeCommit?.();
  await options.repo.commit(manifest);
  const seconds = (finished.getTime() - started.getTime()) / 1000;
  logger.info('snapshot committed', {
    id,
    seconds,
    rawBytes: record.raw.size,
    storedBytes: record.stored.size,
    galera: position.galera,
  });
  return { id, manifest, seconds, bytes: record.stored.size };
}

async function openBackup(options: SnapshotOptions): Promise<BackupStream> {
  const common = { ...(options.signal ? { signal: options.signal } : {}), ...(options.logger ? { logger: options.logger } : {}) };
  if (options.method === 'physical') {
    return physicalBackup(options.server, { ...common, ...(options.tools?.backup ? { binary: options.tools.backup } : {}) });
  }
  const rows = await options.sql.query<{ Database: string }>('SHOW DATABASES');
  const databases = rows.map((r) => r.Database).filter((d) => !SYSTEM_DATABASES.has(d));
  if (databases.length === 0) throw new PermanentError(`node '${options.node}': no databases to export`);
  return logicalDump(options.server, databases, { ...common, ...(options.tools?.dump ? { binary: options.tools.dump } : {}) });
}

/** InnoDB data + index bytes: a size hint for the upload. */
async function databaseSize(sql: SqlClient): Promise<number> {
  const rows = await sql.query<{ bytes: string | null }>(
    'SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema NOT IN (?, ?)',
    ['information_schema', 'performance_schema'],
  );
  return Number(rows[0]?.bytes ?? 0);
}
