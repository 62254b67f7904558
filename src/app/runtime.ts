import type { Config } from '../../config/load.js';
import { localEndpoint, nodeEndpoint } from '../../jobs/settings.js';
import { restoreDatabase } from '../../restore/database.js';
import { commandControl, type NodeControl, systemdControl } from '../../restore/node-control.js';
import type { LocalDatadir, LocalNode } from '../../restore/recovery.js';
import type { LocalVolume } from '../../restore/volume-recovery.js';
import { detectCodec } from '../codec/zstd.js';
import { connect, inspectDatadir, peerPositions, type SqlClient } from '../galera/index.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { Repository } from '../repo/repository.js';
import type { ObjectStore } from '../storage/object-store.js';
import { type OpenStoreOptions, openStore } from '../storage/open-store.js';

/** Builds the repository a config points at (store → decorators → codec → cluster folder). */
export async function openRepository(config: Config, logger: Logger): Promise<Repository> {
  return new Repository(openObjectStore(config, logger), config.cluster.name, await detectCodec(), {
    conditionalWrites: config.storage.conditionalWrites,
  });
}

/** The object store a config points at, with its decorators (the repository and the witness live in it). */
export function openObjectStore(
  config: Config,
  logger: Logger,
  overrides: Pick<OpenStoreOptions, 'retry' | 'concurrency'> = {},
): ObjectStore {
  const s = config.storage;
  return openStore(s.url, {
    concurrency: s.concurrency,
    logger,
    ...overrides,
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

/**
 * The object store as the witness uses it: its own connections and limit (a snapshot's uploads
 * never hold a heartbeat back), no retries (the next round is the retry) and no log per operation
 * (a missing heartbeat is an answer; the monitor logs a failing witness once per change).
 */
export function openWitnessStore(config: Config): ObjectStore {
  return openObjectStore(config, nullLogger, { retry: { attempts: 1 }, concurrency: 2 });
}

export function connectLocal(config: Config): Promise<SqlClient> {
  return connect(localEndpoint(config));
}

/** This node as recovery steps act on it: its server, and its service as recovery.control says. */
export function localRecoveryNode(config: Config, repo: Repository, logger: Logger, volume?: LocalVolume): LocalNode {
  const c = config.recovery.control;
  const node = config.cluster.node;
  const control: NodeControl | undefined =
    c === undefined
      ? undefined
      : c.type === 'systemd'
        ? systemdControl(node, c.unit)
        : commandControl(node, {
            start: c.start as [string, ...string[]],
            bootstrap: c.bootstrap as [string, ...string[]],
            stop: c.stop as [string, ...string[]],
            status: c.status as [string, ...string[]],
            recover: c.recover as [string, ...string[]],
          });
  // asked right before a step acts: a peer that is up answers in milliseconds
  const peers = config.cluster.nodes
    .filter((n) => n.name !== node)
    .map((n) => ({ ...nodeEndpoint(config, n), connectTimeoutMs: 1500, statementTimeoutMs: 1500 }));
  const path = config.cluster.nodes.find((n) => n.name === node)?.datadir;
  const datadir: LocalDatadir | undefined =
    path === undefined
      ? undefined
      : {
          path,
          inspect: () => inspectDatadir(path),
          restore: async (snapshot, { bootstrap, signal }) => {
            await restoreDatabase({
              repo,
              snapshot,
              target: path,
              tools: config.database.tools,
              safeToBootstrap: bootstrap,
              ...(process.getuid?.() === 0 ? { owner: 'mysql' } : {}),
              logger,
              ...(signal ? { signal } : {}),
            });
          },
        };
  return {
    name: node,
    ...(control ? { control } : {}),
    ...(datadir ? { datadir } : {}),
    ...(volume ? { volume } : {}),
    connect: () => connectLocal(config),
    primaryPeers: () => peerPositions(peers),
  };
}
