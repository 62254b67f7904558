import type { Config } from '../../config/load.js';
import { localServer } from '../../jobs/settings.js';
import { detectCodec } from '../codec/zstd.js';
import { connect, type SqlClient } from '../galera/index.js';
import type { Logger } from '../lib/logger.js';
import { Repository } from '../repo/repository.js';
import type { ObjectStore } from '../storage/object-store.js';
import { openStore } from '../storage/open-store.js';

/** Builds the repository a config points at (store → decorators → codec → cluster folder). */
export async function openRepository(
  config: Config,
  logger: Logger,
  store: ObjectStore = openObjectStore(config, logger),
): Promise<Repository> {
  return new Repository(store, config.cluster.name, await detectCodec(), { conditionalWrites: config.storage.conditionalWrites });
}

/** The object store a config points at, with its decorators (the repository and the witness live in it). */
export function openObjectStore(config: Config, logger: Logger): ObjectStore {
  const s = config.storage;
  return openStore(s.url, {
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
