import type { Config } from '../../config/load.js';
import { detectCodec } from '../codec/zstd.js';
import { connect, type LocalServer, type SqlClient } from '../galera/index.js';
import { IntegrityError, NotFoundError, UsageError } from '../lib/errors.js';
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
  return new Repository(store, config.cluster.name, await detectCodec());
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
  });
}

/**
 * PLACEHOLDER until src/files exports its own reader: the packs a manifest's files part lists
 * (`parts.files.packs`, keys or object records). A files part whose packs cannot be read this way
 * is an error, so that pack collection stops rather than treating its packs as unreferenced.
 */
export function packReferences(manifest: Manifest): { key: string }[] {
  const files = manifest.parts.files as { packs?: unknown } | undefined | null;
  if (files === undefined || files === null) return [];
  const packs = files.packs;
  if (!Array.isArray(packs)) throw new IntegrityError(`snapshot '${manifest.id}': files part has no pack list`);
  return packs.map((p: unknown) => {
    if (typeof p === 'string') return { key: p };
    if (p && typeof p === 'object' && typeof (p as { key?: unknown }).key === 'string') return p as { key: string };
    throw new IntegrityError(`snapshot '${manifest.id}': files part lists a pack without a key`);
  });
}

function isObjectRecord(value: unknown): value is ObjectRecord {
  const v = value as Partial<ObjectRecord>;
  return (
    typeof v.key === 'string' &&
    (v.compression === 'zstd' || v.compression === 'none') &&
    typeof v.stored?.sha256 === 'string' &&
    typeof v.raw?.sha256 === 'string'
  );
}

/** The pack object records a manifest references (what verification reads). */
export function packObjects(manifest: Manifest): ObjectRecord[] {
  return packReferences(manifest).filter(isObjectRecord);
}
