import type { Config } from '../../config/load.js';
import { runClusterSlot, snapshotExistsForSlot } from '../../jobs/cluster-slot.js';
import { snapshotDatabase } from '../../jobs/snapshot.js';
import { Lease, recoverDesync, SlotBook, type SqlClient } from '../galera/index.js';
import { ConflictError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Repository } from '../repo/repository.js';
import { type JobContext, type JobRecord, JobRunner } from '../scheduler/job-runner.js';
import { Scheduler, slotId } from '../scheduler/scheduler.js';
import { connectLocal, localServer, openRepository } from './runtime.js';
import { toolVersion } from './version.js';

export interface DaemonHandle {
  readonly runner: JobRunner;
  readonly scheduler: Scheduler;
  readonly repo: Repository;
  /** starts an on-demand snapshot on this node (409-style ConflictError while one runs) */
  startSnapshot(): JobRecord;
  /** stops scheduling, cancels running jobs (bounded), releases everything */
  stop(): Promise<void>;
}

/**
 * `lifeboat daemon`: one per cluster node, same config everywhere. Schedules jobs with cron;
 * for each scheduled slot every daemon competes through the cluster lease, so exactly one node
 * runs it, the most preferred healthy one first, and another takes over if the holder dies.
 */
export async function startDaemon(
  config: Config,
  logger: Logger,
  hooks: { onFinish?: (r: JobRecord) => void } = {},
): Promise<DaemonHandle> {
  const node = config.cluster.node;
  const log = logger.child({ node });
  const repo = await openRepository(config, log);
  const desync = { node, stateDir: config.stateDir, logger: log, resyncTimeoutMs: config.database.resyncTimeoutSeconds * 1000 };

  // Crash recovery first: a desync left by a killed process on this node is undone now.
  await withSql(config, async (sql) => {
    await Lease.ensureSchema(sql);
    if (await recoverDesync(sql, desync)) log.warn('recovered from an interrupted snapshot: node resynced');
  });

  const runner = new JobRunner({ logger: log, ...(hooks.onFinish ? { onFinish: hooks.onFinish } : {}) });
  const scheduler = new Scheduler(config.schedules.timezone, log);
  const order = [
    ...config.database.preferredNodes,
    ...config.cluster.nodes.map((n) => n.name).filter((n) => !config.database.preferredNodes.includes(n)),
  ];
  const rank = Math.max(0, order.indexOf(node));

  const snapshot = (ctx: JobContext, slot: string | undefined, beforeCommit: () => Promise<void>, signal: AbortSignal) =>
    withSql(config, (sql) =>
      snapshotDatabase({
        repo,
        node,
        server: localServer(config),
        sql,
        stateDir: config.stateDir,
        method: 'physical',
        tools: config.database.tools,
        compressionLevel: config.storage.compressionLevel,
        resyncTimeoutMs: config.database.resyncTimeoutSeconds * 1000,
        toolVersion: toolVersion(),
        ...(slot ? { slot } : {}),
        beforeCommit,
        logger: ctx.logger,
        progress: ctx.progress,
        signal,
      }),
    );

  const runSlot = (ctx: JobContext, slot: string, windowMs: number) =>
    withSql(config, (sql) =>
      runClusterSlot({
        slot,
        node,
        lease: new Lease(sql, 'snapshot', node, config.daemon.leaseTtlSeconds),
        book: new SlotBook(sql, 'snapshot'),
        sql,
        alreadyDone: (s) => snapshotExistsForSlot(repo, s),
        rank,
        staggerMs: config.daemon.staggerSeconds * 1000,
        windowMs,
        pollMs: Math.min(2000, (config.daemon.leaseTtlSeconds * 1000) / 3),
        take: async ({ slot: s, beforeCommit, signal }) => ({ id: (await snapshot(ctx, s, beforeCommit, signal)).id }),
        logger: ctx.logger,
        signal: ctx.signal,
      }),
    );

  scheduler.add('snapshot', config.schedules.snapshot, (slotTime) => {
    const slot = slotId(slotTime);
    const next = scheduler.next().snapshot;
    const untilNext = next ? new Date(next).getTime() - Date.now() - 1000 : Number.POSITIVE_INFINITY;
    const windowMs = Math.max(1000, Math.min(config.daemon.slotWindowMinutes * 60_000, untilNext));
    try {
      runner.start('snapshot', 'schedule', (ctx) => runSlot(ctx, slot, windowMs));
    } catch (err) {
      log.warn('snapshot slot skipped: a snapshot is still running on this node', { slot, error: errorMessage(err) });
    }
  });

  return {
    runner,
    scheduler,
    repo,
    startSnapshot: () =>
      runner.start('snapshot', 'api', (ctx) =>
        withSql(config, async (sql) => {
          // On demand: this node, but still under the cluster lease so it never overlaps a scheduled run.
          const lease = new Lease(sql, 'snapshot', node, config.daemon.leaseTtlSeconds);
          const token = await lease.tryAcquire(`on-demand-${ctx.id}`);
          if (token === null) throw new ConflictError('snapshot: another node holds the snapshot lease');
          const heartbeat = setInterval(
            () => void lease.renew(token).catch(() => {}),
            (config.daemon.leaseTtlSeconds * 1000) / 3,
          );
          try {
            return await snapshot(ctx, undefined, () => lease.confirm(token), ctx.signal);
          } finally {
            clearInterval(heartbeat);
            await lease.release(token).catch(() => {});
          }
        }),
      ),
    stop: async () => {
      await scheduler.stop();
      const clean = await runner.close(config.daemon.shutdownTimeoutSeconds * 1000);
      if (!clean) log.error('jobs did not stop within the shutdown timeout', { seconds: config.daemon.shutdownTimeoutSeconds });
    },
  };
}

/** A fresh connection per unit of work: a long-lived daemon survives server restarts. */
async function withSql<T>(config: Config, fn: (sql: SqlClient) => Promise<T>): Promise<T> {
  const sql = await connectLocal(config);
  try {
    return await fn(sql);
  } finally {
    await sql.close();
  }
}
