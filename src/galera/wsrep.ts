import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError, PermanentError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { SqlClient } from './sql.js';

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
}

/** Reads the node's Galera state (works on a non-Primary node too). */
export async function wsrepStatus(client: SqlClient): Promise<WsrepStatus> {
  const rows = await client.query<{ Variable_name: string; Value: string }>("SHOW GLOBAL STATUS LIKE 'wsrep_%'");
  const s = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
  const vars = await client.query<{ Value: string }>("SHOW GLOBAL VARIABLES LIKE 'wsrep_desync'");
  return {
    clusterStatus: s.get('wsrep_cluster_status') ?? 'Disconnected',
    clusterSize: Number(s.get('wsrep_cluster_size') ?? 0),
    localState: s.get('wsrep_local_state_comment') ?? 'unknown',
    ready: s.get('wsrep_ready') === 'ON',
    recvQueue: Number(s.get('wsrep_local_recv_queue') ?? 0),
    desync: vars[0]?.Value === 'ON',
    stateUuid: s.get('wsrep_cluster_state_uuid') ?? '',
    lastCommitted: Number(s.get('wsrep_last_committed') ?? -1),
  };
}

/** Refuses (ConflictError with the reason) unless the node is Synced in a Primary component. */
export function assertSnapshotReady(node: string, status: WsrepStatus): void {
  if (status.clusterStatus !== 'Primary') {
    throw new ConflictError(
      `node '${node}': cluster component is ${status.clusterStatus}, not Primary; refusing to take a snapshot`,
    );
  }
  if (status.localState !== 'Synced' || !status.ready) {
    throw new ConflictError(`node '${node}': state is ${status.localState}, not Synced; refusing to take a snapshot`);
  }
  if (status.desync) {
    throw new ConflictError(
      `node '${node}': wsrep_desync is already ON (another backup or an operator); refusing to take a snapshot`,
    );
  }
}

export interface DesyncOptions {
  /** node name, for the marker file and messages */
  readonly node: string;
  /** directory for the marker that survives a crash (e.g. /var/lib/lifeboat) */
  readonly stateDir: string;
  /** how long to wait for the node to be Synced again */
  readonly resyncTimeoutMs?: number;
  readonly logger?: Logger;
}

function markerPath(options: DesyncOptions): string {
  return join(options.stateDir, `desync-${options.node}.json`);
}

/**
 * Desyncs the node, runs `work`, and always resyncs: on success, failure and abort. A marker file
 * records the desync so that `recoverDesync` can undo it after a crash of this process.
 */
export async function withDesync<T>(client: SqlClient, options: DesyncOptions, work: () => Promise<T>): Promise<T> {
  const logger = options.logger ?? nullLogger;
  await mkdir(options.stateDir, { recursive: true });
  await writeFile(markerPath(options), JSON.stringify({ node: options.node, pid: process.pid, since: new Date().toISOString() }));
  await client.execute('SET GLOBAL wsrep_desync = ON');
  logger.info('node desynced for snapshot', { node: options.node });
  try {
    return await work();
  } finally {
    await resync(client, options);
  }
}

/** Turns wsrep_desync off, waits for the receive queue to drain and the node to be Synced. */
export async function resync(client: SqlClient, options: DesyncOptions): Promise<void> {
  const logger = options.logger ?? nullLogger;
  const started = Date.now();
  await client.execute('SET GLOBAL wsrep_desync = OFF');
  const deadline = started + (options.resyncTimeoutMs ?? 600_000);
  for (;;) {
    const status = await wsrepStatus(client);
    if (!status.desync && status.recvQueue === 0 && status.localState === 'Synced') break;
    if (Date.now() > deadline) {
      throw new PermanentError(
        `node '${options.node}': not Synced ${Math.round((Date.now() - started) / 1000)} s after resync (state ${status.localState}, receive queue ${status.recvQueue})`,
      );
    }
    await sleep(200);
  }
  await rm(markerPath(options), { force: true });
  logger.info('node resynced', { node: options.node, ms: Date.now() - started });
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
