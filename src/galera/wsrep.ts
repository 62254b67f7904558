import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, errorMessage, PermanentError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { connect, type Endpoint, type QueryOptions, type SqlClient } from './sql.js';

export interface WsrepStatus {
  /** `Primary`, `non-Primary` or `Disconnected` */
  readonly clusterStatus: string;
  readonly clusterSize: number;
  /** `Synced`, `Donor/Desynced`, `Joining`, … */
  readonly localState: string;
  readonly ready: boolean;
  readonly recvQueue: number;
  readonly desync: boolean;
  readonly stateUuid: string;
  readonly lastCommitted: number;
  /** the lowest seqno in the node's gcache (-1: unknown): as a donor it can send IST to a joiner at seqno ≥ this − 1 */
  readonly cachedDownto: number;
}

/** Reads the node's Galera state (works on a non-Primary node too). */
export async function wsrepStatus(client: SqlClient, options: QueryOptions = {}): Promise<WsrepStatus> {
  const rows = await client.query<{ Variable_name: string; Value: string }>("SHOW GLOBAL STATUS LIKE 'wsrep_%'", [], options);
  const s = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const vars = await client.query<{ Value: string }>("SHOW GLOBAL VARIABLES LIKE 'wsrep_desync'", [], options);
  return {
    clusterStatus: s.get('wsrep_cluster_status') ?? 'Disconnected',
    clusterSize: Number(s.get('wsrep_cluster_size') ?? 0),
    localState: s.get('wsrep_local_state_comment') ?? 'unknown',
    ready: s.get('wsrep_ready') === 'ON',
    recvQueue: Number(s.get('wsrep_local_recv_queue') ?? 0),
    desync: vars[0]?.Value === 'ON',
    stateUuid: s.get('wsrep_cluster_state_uuid') ?? '',
    lastCommitted: Number(s.get('wsrep_last_committed') ?? -1),
    cachedDownto: Number(s.get('wsrep_local_cached_downto') ?? -1),
  };
}

/** A node that can serve: Synced in a Primary component and not desynced by anyone. */
export function isSyncedPrimary(status: WsrepStatus): boolean {
  return status.clusterStatus === 'Primary' && status.localState === 'Synced' && !status.desync;
}

export interface PeerPosition {
  readonly node: string;
  readonly stateUuid: string;
  readonly lastCommitted: number;
  /** see WsrepStatus.cachedDownto */
  readonly cachedDownto: number;
}

/** The last committed seqno of each peer that answers within its connect and statement deadlines. */
export async function peerPositions(peers: readonly Endpoint[]): Promise<PeerPosition[]> {
  const answers = await Promise.all(
    peers.map(async (peer) => {
      try {
        const sql = await connect(peer);
        try {
          const s = await wsrepStatus(sql);
          return s.clusterStatus === 'Primary'
            ? { node: peer.name, stateUuid: s.stateUuid, lastCommitted: s.lastCommitted, cachedDownto: s.cachedDownto }
            : undefined;
        } finally {
          await sql.close();
        }
      } catch {
        return undefined; // an unreachable peer says nothing about this node
      }
    }),
  );
  return answers.filter((a) => a !== undefined);
}

export interface ReadinessOptions {
  /** refuse when the receive queue holds more write sets than this */
  readonly maxRecvQueue: number;
  /** how long the node may take to apply what the cluster had committed when it was asked */
  readonly catchUpMs: number;
  /** the other nodes' positions (see peerPositions); none: the node must only drain its own queue */
  readonly peers?: () => Promise<readonly PeerPosition[]>;
  readonly signal?: AbortSignal;
}

/**
 * Refuses (ConflictError naming the reason) unless the node is Synced in a Primary component, not
 * desynced, and not behind: its receive queue is at most `maxRecvQueue` and within `catchUpMs` it
 * commits what the reachable peers had committed (with no peer: its queue drains or moves). A
 * stuck applier still says Synced; only its position shows it.
 */
export async function assertSnapshotReady(node: string, client: SqlClient, options: ReadinessOptions): Promise<void> {
  const refuse = (why: string): never => {
    throw new ConflictError(`node '${node}': ${why}; refusing to take a snapshot`);
  };
  const q = options.signal ? { signal: options.signal } : {};
  const status = await wsrepStatus(client, q);
  if (status.clusterStatus !== 'Primary') refuse(`cluster component is ${status.clusterStatus}, not Primary`);
  if (status.localState !== 'Synced' || !status.ready) refuse(`state is ${status.localState}, not Synced`);
  if (status.desync) refuse('wsrep_desync is already ON (another backup or an operator)');
  if (status.recvQueue > options.maxRecvQueue) {
    refuse(`receive queue holds ${status.recvQueue} write sets (limit ${options.maxRecvQueue}): the node is behind the cluster`);
  }
  const peers = ((await options.peers?.()) ?? []).filter((p) => p.stateUuid === status.stateUuid);
  const ahead = peers.reduce<PeerPosition | undefined>(
    (max, p) => (p.lastCommitted > (max?.lastCommitted ?? -1) ? p : max),
    undefined,
  );
  const target = ahead ? ahead.lastCommitted : status.recvQueue > 0 ? status.lastCommitted + 1 : status.lastCommitted;
  const started = Date.now();
  let now = status;
  while (now.lastCommitted < target) {
    if (Date.now() - started > options.catchUpMs) {
      refuse(
        `behind the cluster: last committed ${now.lastCommitted}, ${ahead ? `node '${ahead.node}' at ${target}` : `receive queue ${now.recvQueue} not draining`}, not caught up within ${options.catchUpMs / 1000} s (receive queue ${now.recvQueue})`,
      );
    }
    await sleep(100, undefined, q);
    now = await wsrepStatus(client, q);
  }
}

export interface DesyncOptions {
  /** node name, for the marker file and messages */
  readonly node: string;
  /** directory for the marker that survives a crash (e.g. /var/lib/lifeboat) */
  readonly stateDir: string;
  /** how long to wait for the node to be Synced again */
  readonly resyncTimeoutMs?: number;
  /** aborts the desync statement and the work; the resync still runs, bounded by ABORTED_RESYNC_MS */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** After an abort the resync waits this long at most; the marker finishes it later if needed. */
const ABORTED_RESYNC_MS = 5_000;

function markerPath(options: DesyncOptions): string {
  return join(options.stateDir, `desync-${options.node}.json`);
}

/**
 * Desyncs the node, runs `work`, and always resyncs: on success, failure and abort. A marker file
 * records the desync so that `recoverDesync` can undo it after a crash of this process. When the
 * work (or the desync itself) fails, that error is thrown and a failed resync is only logged.
 */
export async function withDesync<T>(client: SqlClient, options: DesyncOptions, work: () => Promise<T>): Promise<T> {
  const logger = options.logger ?? nullLogger;
  await mkdir(options.stateDir, { recursive: true });
  await writeFile(markerPath(options), JSON.stringify({ node: options.node, pid: process.pid, since: new Date().toISOString() }));
  let result: T;
  try {
    // A desync that cannot be killed (a stuck applier) may still take effect later: the resync
    // below waits for it, and the marker stays until it has been undone.
    await client.execute('SET GLOBAL wsrep_desync = ON', [], options.signal ? { signal: options.signal } : {});
    logger.info('node desynced for snapshot', { node: options.node });
    result = await work();
  } catch (err) {
    await resync(client, options).catch((resyncErr: unknown) =>
      logger.error('resync failed; the next run undoes the desync', { node: options.node, error: errorMessage(resyncErr) }),
    );
    throw err;
  }
  await resync(client, options);
  return result;
}

/**
 * Turns wsrep_desync off and waits until the node is Synced with an empty receive queue and no
 * desync statement is still running on it; only then the marker goes.
 */
export async function resync(client: SqlClient, options: DesyncOptions): Promise<void> {
  const logger = options.logger ?? nullLogger;
  const started = Date.now();
  const limit = options.resyncTimeoutMs ?? 600_000;
  const bound = options.signal?.aborted ? Math.min(limit, ABORTED_RESYNC_MS) : limit;
  const q = { timeoutMs: Math.min(bound, 60_000) };
  await client.execute('SET GLOBAL wsrep_desync = OFF', [], q);
  for (let attempt = 0; ; attempt++) {
    const status = await wsrepStatus(client, q);
    const pending = await pendingDesync(client, q);
    if (!status.desync && status.recvQueue === 0 && status.localState === 'Synced' && !pending) break;
    if (Date.now() - started > bound) {
      throw new PermanentError(
        `node '${options.node}': not Synced ${Math.round((Date.now() - started) / 1000)} s after resync (state ${status.localState}, receive queue ${status.recvQueue}${pending ? ', a desync statement still running' : ''})`,
      );
    }
    // a killed desync statement that completed late turned it on again
    if (status.desync) await client.execute('SET GLOBAL wsrep_desync = OFF', [], q);
    // 10, 20, 40 … 200 ms: an idle node is Synced again within milliseconds, a busy one takes longer
    await sleep(Math.min(200, 10 * 2 ** attempt));
  }
  await rm(markerPath(options), { force: true });
  logger.info('node resynced', { node: options.node, ms: Date.now() - started });
}

/** True while a `SET GLOBAL wsrep_desync` statement (e.g. a killed one) still runs on the server. */
async function pendingDesync(client: SqlClient, options: QueryOptions): Promise<boolean> {
  const rows = await client.query<{ n: string }>(
    "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE 'SET GLOBAL wsrep_desync%' AND id <> CONNECTION_ID()",
    [],
    options,
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

/**
 * Undoes a desync left by a crashed Lifeboat process on this node (its marker file is still
 * there). Returns true when it had to. A desync without our marker belongs to someone else and is
 * left alone.
 */
export async function recoverDesync(client: SqlClient, options: DesyncOptions): Promise<boolean> {
  let marker: { pid?: number };
  try {
    marker = JSON.parse(await readFile(markerPath(options), 'utf8')) as { pid?: number };
  } catch {
    return false;
  }
  if (marker.pid !== undefined && marker.pid !== process.pid && isAlive(marker.pid)) return false;
  (options.logger ?? nullLogger).warn('undoing wsrep_desync left by an interrupted snapshot', {
    node: options.node,
    pid: marker.pid,
  });
  await resync(client, options);
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
