import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/load.js';
import { runClusterSlot, snapshotExistsForSlot } from '../../jobs/cluster-slot.js';
import { prune } from '../../jobs/prune.js';
import { takeSnapshot } from '../../jobs/snapshot.js';
import { verifySnapshots } from '../../jobs/verify.js';
import { Lease, type LeaseHandle, SlotBook, withLease } from '../coord/index.js';
import { connect, recoverDesync, type SqlClient, wsrepStatus } from '../galera/index.js';
import { ConflictError, errorMessage, IntegrityError, PermanentError, UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Repository } from '../repo/repository.js';
import { snapshotTime } from '../repo/snapshot-id.js';
import { verificationStates } from '../repo/verification.js';
import { type JobContext, type JobKind, type JobRecord, JobRunner } from '../scheduler/job-runner.js';
import { Scheduler, slotId } from '../scheduler/scheduler.js';
import { createAlerter } from './alerts.js';
import { createApiServer } from './http-api.js';
import { LocalDatabase } from './local-database.js';
import { Metrics } from './metrics.js';
import {
  connectLocal,
  databaseOptions,
  filesOptions,
  localServer,
  nodeEndpoint,
  openRepository,
  packObjects,
  packReferences,
} from './runtime.js';
import { toolVersion } from './version.js';

export interface DaemonHandle {
  readonly runner: JobRunner;
  readonly scheduler: Scheduler;
  readonly repo: Repository;
  readonly metrics: Metrics;
  readonly database: LocalDatabase;
  /** the HTTP API, listening on config.api.listen */
  readonly server: Server;
  /** starts an on-demand snapshot on this node (409-style ConflictError while one runs) */
  startSnapshot(): JobRecord;
  /** stops scheduling, cancels running jobs and releases everything within `timeoutMs`; false when jobs did not stop */
  stop(timeoutMs: number): Promise<boolean>;
}

/**
 * `lifeboat daemon`: one per cluster node, same config everywhere. Schedules jobs with cron;
 * for each scheduled slot every daemon competes through the cluster lease, so exactly one node
 * runs it, the most preferred healthy one first, and another takes over if the holder dies.
 *
 * Start-up either completes or fails with nothing left running: everything is checked first, the
 * API is bound next, and only then do schedules, timers and database checks start. The local
 * database need not be up: the daemon serves its API and alerts while it is down, reconnects with
 * backoff, and prepares it (lease schema, recovery of an interrupted desync) once it answers.
 */
export async function startDaemon(config: Config, logger: Logger): Promise<DaemonHandle> {
  const node = config.cluster.node;
  const log = logger.child({ node });
  const listen = parseListen(config.api.listen);
  const scheduler = new Scheduler(config.schedules.timezone, log);
  for (const kind of JOB_KINDS) Scheduler.validate(config.schedules[kind], `schedules.${kind}`);
  localServer(config);
  const repo = await openRepository(config, log);
  const desync = { node, stateDir: config.stateDir, logger: log, resyncTimeoutMs: config.database.resyncTimeoutSeconds * 1000 };

  const metrics = new Metrics();
  const alerter = createAlerter({
    ...(config.alerts.webhook ? { url: config.alerts.webhook } : {}),
    cluster: config.cluster.name,
    node,
    logger: log,
  });
  const database = new LocalDatabase({
    node,
    connect: () => connectLocal(config),
    // Crash recovery first: a desync left by a killed process on this node is undone now.
    prepare: async (sql) => {
      await Lease.ensureSchema(sql);
      if (await recoverDesync(sql, desync)) log.warn('recovered from an interrupted snapshot: node resynced');
    },
    onChange: (current, previous) => {
      metrics.setDatabaseUp(current.state === 'up');
      if (current.state === 'down') {
        void alerter.alert({ kind: 'database-down', since: current.since, error: current.lastError ?? 'unknown' });
      } else if (previous.state === 'down') {
        void alerter.alert({ kind: 'database-up', downSince: previous.since });
      }
    },
    logger: log,
  });
  const withSql = <T>(fn: (sql: SqlClient) => Promise<T>): Promise<T> => database.use(fn);
  const runner = new JobRunner({
    logger: log,
    onFinish: (record) => {
      metrics.recordJob(record);
      if (record.kind === 'snapshot' && record.state === 'succeeded') void checkRpo().catch(() => {});
      if (record.state === 'failed') {
        void alerter.alert({ kind: 'job-failed', job: record.kind, runId: record.id, error: record.error?.message ?? 'unknown' });
      }
    },
  });
  const order = [
    ...config.database.preferredNodes,
    ...config.cluster.nodes.map((n) => n.name).filter((n) => !config.database.preferredNodes.includes(n)),
  ];
  const rank = Math.max(0, order.indexOf(node));

  const snapshot = (ctx: JobContext, slot: string | undefined, beforeCommit: () => Promise<void>, signal: AbortSignal) =>
    withSql((sql) =>
      takeSnapshot({
        repo,
        node,
        database: databaseOptions(config, sql, 'physical'),
        files: filesOptions(config, 'all'),
        compressionLevel: config.storage.compressionLevel,
        toolVersion: toolVersion(),
        ...(slot ? { slot } : {}),
        beforeCommit,
        logger: ctx.logger,
        progress: ctx.progress,
        signal,
      }),
    );

  /**
   * With `daemon.filesWhenDatabaseDown`, a snapshot takes the file areas alone when this node's
   * database is unreachable and no other node answers Synced either (else the cluster's lease
   * gives the slot to a node that can take it whole). There is no lease then: daemons that
   * decide so at the same time may each commit one.
   */
  const filesOnlyReason = async (): Promise<string | null> => {
    if (!config.daemon.filesWhenDatabaseDown || config.files.areas.length === 0) return null;
    if (await database.available()) return null;
    const others = await Promise.all(config.cluster.nodes.filter((n) => n.name !== node).map((n) => nodeState(config, n)));
    if (others.some((o) => o.state === 'Synced')) return null;
    return `node '${node}': database unreachable (${database.status().lastError ?? 'unknown'}), and no other node is Synced`;
  };
  const filesOnlySnapshot = async (ctx: JobContext, slot: string | undefined, reason: string): Promise<{ id: string }> => {
    if (slot) {
      await sleep(rank * config.daemon.staggerSeconds * 1000, undefined, { signal: ctx.signal });
      if (await snapshotExistsForSlot(repo, slot)) return { id: 'done elsewhere' };
    }
    ctx.logger.warn('database part skipped: taking the file areas only', { slot: slot ?? null, reason });
    const result = await takeSnapshot({
      repo,
      node,
      files: filesOptions(config, 'all'),
      compressionLevel: config.storage.compressionLevel,
      toolVersion: toolVersion(),
      ...(slot ? { slot } : {}),
      logger: ctx.logger,
      progress: ctx.progress,
      signal: ctx.signal,
    });
    const error = `snapshot ${result.id} has no database part: ${reason}`;
    void alerter.alert({ kind: 'job-failed', job: 'snapshot', runId: ctx.id, error });
    return { id: result.id };
  };

  /** One slot of a cluster-wide job under its lease: exactly one daemon runs it. */
  const runSlot = (
    kind: JobKind,
    ctx: JobContext,
    slot: string,
    windowMs: number,
    take: (slot: string, beforeCommit: () => Promise<void>, signal: AbortSignal) => Promise<{ id: string }>,
    alreadyDone?: (slot: string) => Promise<boolean>,
  ) =>
    withSql((sql) =>
      runClusterSlot({
        slot,
        node,
        lease: new Lease(sql, kind, node, config.daemon.leaseTtlSeconds),
        book: new SlotBook(sql, kind),
        sql,
        ...(alreadyDone ? { alreadyDone } : {}),
        rank,
        staggerMs: config.daemon.staggerSeconds * 1000,
        windowMs,
        pollMs: Math.min(2000, (config.daemon.leaseTtlSeconds * 1000) / 3),
        take: ({ slot: s, beforeCommit, signal }) => take(s, beforeCommit, signal),
        logger: ctx.logger,
        signal: ctx.signal,
      }),
    );

  const schedule = (kind: JobKind, expression: string, take: Take, alreadyDone?: (slot: string) => Promise<boolean>): void => {
    scheduler.add(kind, expression, (slotTime) => {
      const slot = slotId(slotTime);
      const next = scheduler.next()[kind];
      const untilNext = next ? new Date(next).getTime() - Date.now() - 1000 : Number.POSITIVE_INFINITY;
      const windowMs = Math.max(1000, Math.min(config.daemon.slotWindowMinutes * 60_000, untilNext));
      try {
        runner.start(kind, 'schedule', async (ctx) => {
          const filesOnly = kind === 'snapshot' ? await filesOnlyReason() : null;
          if (filesOnly) return filesOnlySnapshot(ctx, slot, filesOnly);
          return runSlot(kind, ctx, slot, windowMs, (s, beforeCommit, signal) => take(ctx, s, beforeCommit, signal), alreadyDone);
        });
      } catch (err) {
        log.warn(`${kind} slot skipped: the previous run is still going on this node`, { slot, error: errorMessage(err) });
      }
    });
  };

  const refreshVerifiedAge = async (): Promise<void> => {
    const states = await verificationStates(repo, await repo.snapshotIds());
    const times = [...states.values()].filter((s) => s.verified && s.verifiedAt).map((s) => Date.parse(s.verifiedAt ?? ''));
    metrics.setVerifiedAge(times.length ? (Date.now() - Math.max(...times)) / 1000 : Number.POSITIVE_INFINITY);
  };

  const takeSnapshotSlot: Take = async (ctx, slot, beforeCommit, signal) => {
    const result = await snapshot(ctx, slot, beforeCommit, signal);
    if (result.status === 'partial') {
      const error = `snapshot ${result.id} is partial: ${result.problems.length} file(s) could not be read`;
      void alerter.alert({ kind: 'job-failed', job: 'snapshot', runId: ctx.id, error });
    }
    return { id: result.id };
  };
  const pruneSlot: Take = async (ctx, _slot, beforeCommit, signal) => {
    // Nothing is pruned while recent snapshot slots failed anywhere in the cluster.
    const recent = await withSql((sql) => new SlotBook(sql, 'snapshot').recent(2));
    await beforeCommit();
    const result = await prune({
      repo,
      policy: config.retention,
      recentFailures: recent.some((r) => r.state === 'failed'),
      maxAgeWithoutSnapshotHours: config.alerts.rpoHours,
      referencedPacks: async (m) => packReferences(m).map((p) => p.key),
      logger: ctx.logger,
      progress: ctx.progress,
      signal,
    });
    if (!result.ok) throw new PermanentError(`prune: ${result.errors.length} key(s) could not be deleted`);
    return { id: `removed ${result.removed.length}, blocked: ${result.plan.blocked ?? 'no'}` };
  };
  const verifySlot: Take = async (ctx, _slot, _beforeCommit, signal) => {
    const result = await verifySnapshots({
      repo,
      referencedObjects: async (m) => packObjects(m),
      logger: ctx.logger,
      progress: ctx.progress,
      signal,
    });
    await refreshVerifiedAge();
    if (!result.ok) throw new IntegrityError(`verify: damage found in ${result.damaged.length} snapshot(s)`);
    return { id: `checked ${result.snapshots.length}` };
  };

  const startSnapshot = (): JobRecord =>
    runner.start('snapshot', 'api', async (ctx) => {
      const filesOnly = await filesOnlyReason();
      if (filesOnly) return filesOnlySnapshot(ctx, undefined, filesOnly);
      return withSql((sql) =>
        runOnDemand(
          new Lease(sql, 'snapshot', node, config.daemon.leaseTtlSeconds),
          `on-demand-${ctx.id}`,
          (signal, beforeCommit) => snapshot(ctx, undefined, beforeCommit, signal),
          ctx.signal,
        ),
      );
    });

  // RPO: age of the newest committed snapshot with a database part, checked every minute (metric + alert).
  const rpoLimit = config.alerts.rpoHours * 3600;
  /** Reads the RPO state; only the minute timer acts on it (metric, alerts), never a status request. */
  const rpoState = async (): Promise<RpoState & { age: number }> => {
    const newest = await newestWithDatabase(repo);
    const age = newest ? Math.max(0, (Date.now() - snapshotTime(newest).getTime()) / 1000) : Number.POSITIVE_INFINITY;
    return {
      age,
      ageSeconds: Number.isFinite(age) ? Math.round(age) : null,
      limitSeconds: rpoLimit,
      newest,
      breached: age > rpoLimit,
    };
  };
  const checkRpo = async (): Promise<void> => {
    const { age, newest, breached } = await rpoState();
    metrics.setRpoAge(age);
    void alerter.alert({ kind: breached ? 'rpo-breach' : 'rpo-recovered', ageSeconds: age, limitSeconds: rpoLimit, newest });
  };
  const server = createApiServer({
    ...(config.api.token ? { token: config.api.token } : {}),
    runner,
    metrics,
    logger: log,
    startSnapshot,
    status: async () => ({
      cluster: config.cluster.name,
      node,
      jobs: Object.fromEntries(JOB_KINDS.map((kind) => [kind, runner.list().find((r) => r.kind === kind) ?? null])),
      database: database.status(),
      // the object store being down is part of the answer, not a failed request
      rpo: await rpoState().then(
        ({ age: _age, ...state }) => state,
        (err: unknown) => ({ error: `object store: ${errorMessage(err)}` }),
      ),
      // only asked while the database is up: a status request never waits for a reconnect
      lease:
        database.status().state === 'up'
          ? await withSql(async (sql) => {
              const current = await new Lease(sql, 'snapshot', node, config.daemon.leaseTtlSeconds).current();
              return current
                ? {
                    holder: current.holder,
                    token: current.token,
                    expiresAt: new Date(Date.now() + current.expiresInMs).toISOString(),
                  }
                : null;
            }).catch(() => null)
          : null,
      nodes: await Promise.all(config.cluster.nodes.map((n) => nodeState(config, n))),
      schedules: scheduler.next(),
    }),
    snapshots: async () => {
      const ids = (await repo.snapshotIds()).reverse();
      return Promise.all(
        ids.map(async (id) => {
          const m = await repo.manifest(id);
          return {
            id,
            node: m.node,
            slot: m.slot ?? null,
            parts: Object.keys(m.parts),
            storedBytes: m.objects.reduce((a, o) => a + o.stored.size, 0),
          };
        }),
      );
    },
  });
  await listenOn(server, listen, config.api.listen);
  const address = server.address();
  log.info('api listening', {
    listen: typeof address === 'object' && address ? `${address.address}:${address.port}` : config.api.listen,
  });

  // From here on things run; nothing below can fail on the config.
  database.start();
  schedule('snapshot', config.schedules.snapshot, takeSnapshotSlot, (slot) => snapshotExistsForSlot(repo, slot));
  schedule('prune', config.schedules.prune, pruneSlot);
  schedule('verify', config.schedules.verify, verifySlot);
  const rpoTimer = setInterval(
    () => void checkRpo().catch((err: unknown) => log.warn('rpo check failed', { error: errorMessage(err) })),
    60_000,
  );
  void checkRpo().catch(() => {});
  void refreshVerifiedAge().catch(() => {});

  return {
    runner,
    scheduler,
    repo,
    metrics,
    database,
    server,
    startSnapshot,
    stop: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      clearInterval(rpoTimer);
      database.stop();
      await scheduler.stop();
      server.close();
      server.closeAllConnections();
      const clean = await runner.close(Math.max(0, deadline - Date.now()));
      if (!clean) log.error('jobs did not stop within the shutdown timeout', { seconds: timeoutMs / 1000 });
      // alerts in flight get what is left of the timeout
      const left = Math.max(0, deadline - Date.now());
      await Promise.race([alerter.flush(), sleep(left, undefined, { ref: false })]);
      return clean;
    },
  };
}

/** On demand: this node, but under the cluster lease so it never overlaps a scheduled run. */
export async function runOnDemand<T>(
  lease: LeaseHandle,
  name: string,
  work: (signal: AbortSignal, beforeCommit: () => Promise<void>) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  const held = await withLease(lease, name, work, { signal });
  if (!held.acquired) throw new ConflictError(`${lease.name}: another node holds the ${lease.name} lease`);
  return held.value;
}

/** The work of one slot of a scheduled job; calls `beforeCommit` right before its result becomes visible. */
type Take = (ctx: JobContext, slot: string, beforeCommit: () => Promise<void>, signal: AbortSignal) => Promise<{ id: string }>;

const JOB_KINDS = ['snapshot', 'prune', 'verify'] as const satisfies readonly JobKind[];

interface RpoState {
  readonly ageSeconds: number | null;
  readonly limitSeconds: number;
  readonly newest: string | null;
  readonly breached: boolean;
}

interface Listen {
  readonly host: string;
  readonly port: number;
}

/** `host:port` of api.listen, checked before anything starts (the port 0 picks a free one). */
function parseListen(listen: string): Listen {
  const at = listen.lastIndexOf(':');
  const host = at > 0 ? listen.slice(0, at) : '';
  const port = Number(listen.slice(at + 1));
  if (host === '') throw new UsageError(`api.listen '${listen}': expected host:port, e.g. 127.0.0.1:8470`);
  if (at < 0 || !/^\d+$/.test(listen.slice(at + 1)) || port > 65535) {
    throw new UsageError(`api.listen '${listen}': port must be a number from 0 to 65535`);
  }
  return { host, port };
}

/** Binds the API; a failure is one line naming api.listen, and leaves nothing listening. */
async function listenOn(server: Server, { host, port }: Listen, listen: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    server.close();
    const code = (err as NodeJS.ErrnoException).code;
    const what = `api.listen '${listen}'`;
    if (code === 'EADDRINUSE') throw new PermanentError(`${what}: address already in use`);
    if (code === 'EACCES') throw new PermanentError(`${what}: permission denied to listen on port ${port}`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
      throw new UsageError(`${what}: host '${host}' does not resolve`);
    }
    if (code === 'EADDRNOTAVAIL') throw new UsageError(`${what}: '${host}' is not an address of this machine`);
    throw new PermanentError(`${what}: cannot listen (${errorMessage(err)})`);
  }
}

/** The newest committed snapshot with a database part: files-only snapshots do not reset the RPO. */
async function newestWithDatabase(repo: Repository): Promise<string | null> {
  for (const id of (await repo.snapshotIds()).reverse()) {
    try {
      if ((await repo.manifest(id)).parts.database) return id;
    } catch (err) {
      // a damaged manifest is no restore point (verify reports it); any other failure is the store's
      if (!(err instanceof IntegrityError)) throw err;
    }
  }
  return null;
}

/** One node's Galera state as seen from this daemon (TCP, short timeout). */
async function nodeState(config: Config, n: Config['cluster']['nodes'][number]): Promise<Record<string, unknown>> {
  try {
    const sql = await connect(nodeEndpoint(config, n));
    try {
      const s = await wsrepStatus(sql);
      return {
        name: n.name,
        reachable: true,
        state: s.localState,
        clusterStatus: s.clusterStatus,
        clusterSize: s.clusterSize,
        desynced: s.desync,
        error: null,
      };
    } finally {
      await sql.close();
    }
  } catch (err) {
    return {
      name: n.name,
      reachable: false,
      state: null,
      clusterStatus: null,
      clusterSize: null,
      desynced: null,
      error: errorMessage(err),
    };
  }
}
