import type { Config } from '../../config/load.js';
import type { DatabaseSnapshotOptions, FilesSnapshotOptions } from '../../jobs/snapshot.js';
import { detectCodec } from '../codec/zstd.js';
import { filesPartOf } from '../files/index.js';
import { connect, type Endpoint, type LocalServer, type SqlClient } from '../galera/index.js';
import { NotFoundError, UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Manifest, ObjectRecord } from '../repo/manifest.js';
import { Repository } from '../repo/repository.js';
import { openStore } from '../storage/open-store.js';

/** Builds the repository a config points at (store → decorators → codec → cluster folder). */
export async function openRepository(config: Config, logger: Logger): Promise<Repository> {
  const s = config.storage;
  const store = openStore(s.url, {
    concurrency: s.concurrency,
    logger,
    ...(s.accessKeyId && s.secretAccessKey
      ? {
          s3: {
            accessKeyId: s.accessKeyId.reveal(),
            secretAccessKey: s.secretAccessKey.reveal(),
            region: s.region,
            ...(s.endpoint ? { endpoint: s.endpoint } : {}),
            ...(s.forcePathStyle === undefined ? {} : { forcePathStyle: s.forcePathStyle }),
          },
        }
      : {}),
  });
  return new Repository(store, config.cluster.name, await detectCodec(), { conditionalWrites: s.conditionalWrites });
}

/** The local node's server as the backup tools see it. */
export function localServer(config: Config): LocalServer {
  const node = config.cluster.nodes.find((n) => n.name === config.cluster.node);
  if (!node) throw new NotFoundError(`node '${config.cluster.node}': not in cluster.nodes`);
  if (!node.socket) throw new UsageError(`cluster.nodes: node '${node.name}' needs 'socket' to take snapshots on it`);
  return {
    socket: node.socket,
    user: config.database.user,
    ...(config.database.password ? { password: config.database.password.reveal() } : {}),
    ...(node.datadir ? { datadir: node.datadir } : {}),
  };
}

export function connectLocal(config: Config): Promise<SqlClient> {
  const server = localServer(config);
  return connect({
    name: config.cluster.node,
    socket: server.socket,
    user: server.user,
    ...(server.password === undefined ? {} : { password: server.password }),
    statementTimeoutMs: config.database.statementTimeoutSeconds * 1000,
  });
}

/** A cluster node over TCP with short deadlines: asked for its state, never waited on. */
export function nodeEndpoint(config: Config, node: Config['cluster']['nodes'][number]): Endpoint {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    user: config.database.user,
    ...(config.database.password ? { password: config.database.password.reveal() } : {}),
    connectTimeoutMs: 3000,
    statementTimeoutMs: 3000,
  };
}

export function packReferences(manifest: Manifest): { key: string }[] {
  return [...(filesPartOf(manifest)?.packs ?? [])];
}

/** The pack object records a manifest references (what verification reads). */
export function packObjects(manifest: Manifest): ObjectRecord[] {
  return [...(filesPartOf(manifest)?.packs ?? [])];
}

export interface SnapshotSelection {
  /** database method, or false for none */
  readonly database: 'physical' | 'logical' | false;
  /** file areas: all configured, the named ones, or none */
  readonly files: 'all' | readonly string[] | false;
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
