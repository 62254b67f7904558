import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/load.js';
import { runClusterSlot } from '../../jobs/cluster-slot.js';
import type { JobDefinition, RunContext } from '../../jobs/job.js';
import { JOBS, jobOf } from '../../jobs/registry.js';
import { preferredOrder } from '../../jobs/settings.js';
import { type CoordSql, heldElsewhere, holdLease, Lease, type OpenLease, SlotBook } from '../coord/index.js';
import { ConflictError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Repository } from '../repo/repository.js';
import type { JobContext, JobRecord, JobRunner, JobTrigger } from '../scheduler/job-runner.js';
import { type Scheduler, slotId } from '../scheduler/scheduler.js';
import type { Alerter } from './alerts.js';
import { nodeState } from './daemon-status.js';
import type { LocalDatabase } from './local-database.js';
import { toolVersion } from './version.js';

export interface DaemonJobsOptions {
  readonly config: Config;
  readonly repo: Repository;
  readonly runner: JobRunner;
  readonly database: LocalDatabase;
  readonly alerter: Alerter;
  /** awaited once a run of the kind finished its work, before its result counts (e.g. a metric) */
  readonly after?: Readonly<Record<string, () => Promise<void>>>;
  readonly logger: Logger;
}

/**
 * How the daemon runs the jobs of `jobs/registry.ts`: on demand (the API) and per scheduled slot.
 * A cluster-wide kind runs under its lease either way (`withLease`), so an on-demand run never
 * overlaps a scheduled one elsewhere, and a run that loses its lease is aborted.
 */
export class DaemonJobs {
  /** this node's place in the preferred order (0 = most preferred) */
  private readonly rank: number;

  constructor(private readonly o: DaemonJobsOptions) {
    this.rank = Math.max(0, preferredOrder(o.config).indexOf(o.config.cluster.node));
  }

  /**
   * Starts a run of `kind` now; throws UsageError for an unknown kind or bad params, and
   * ConflictError while one runs here or — for a cluster-wide kind — another holder has its lease
   * (taken before this returns, so the caller can answer 409 rather than start a run that fails).
   */
  async start(kind: string, trigger: JobTrigger, input: unknown): Promise<JobRecord> {
    const job = jobOf(kind);
    const params = job.params(input, this.o.config);
    if (this.o.runner.isRunning(kind)) throw new ConflictError(`job '${kind}': already running on this node`);
    const filesOnly = job === JOBS.snapshot ? await this.filesOnlyReason() : null;
    if (filesOnly) return this.o.runner.start(kind, trigger, (ctx) => this.filesOnlySnapshot(ctx, undefined, filesOnly));
    if (!job.clusterWide)
      return this.o.runner.start(kind, trigger, (ctx) => this.run(job, ctx, params, { underLease: false }, ctx.signal));
    const lease = await this.openLease(job);
    const name = `on-demand-${trigger}-${Date.now()}`;
    let token: number | null;
    try {
      token = await lease.tryAcquire(name);
      if (token === null) throw await heldElsewhere(kind, lease);
    } catch (err) {
      await lease.close().catch(() => {});
      throw err;
    }
    const held = token;
    try {
      return this.o.runner.start(kind, trigger, (ctx) =>
        holdLease(
          lease,
          name,
          held,
          (signal, beforeCommit) => this.run(job, ctx, params, { underLease: true, beforeCommit }, signal),
          { signal: ctx.signal, logger: ctx.logger },
        ).finally(() => lease.close().catch(() => {})),
      );
    } catch (err) {
      await lease.release(held).catch(() => {});
      await lease.close().catch(() => {});
      throw err;
    }
  }

  /** Adds the cron of every job kind that has one; each slot starts a run on this node. */
  schedule(scheduler: Scheduler): void {
    for (const job of Object.values(JOBS) as JobDefinition[]) {
      if (!job.scheduleKey) continue;
      scheduler.add(job.kind, this.o.config.schedules[job.scheduleKey], (time) => this.slotFired(job, slotId(time), scheduler));
    }
  }

  private slotFired(job: JobDefinition, slot: string, scheduler: Scheduler): void {
    const next = scheduler.next()[job.kind];
    const untilNext = next ? new Date(next).getTime() - Date.now() - 1000 : Number.POSITIVE_INFINITY;
    const windowMs = Math.max(1000, Math.min(this.o.config.daemon.slotWindowMinutes * 60_000, untilNext));
    const params = job.params(undefined, this.o.config);
    try {
      this.o.runner.start(job.kind, 'schedule', async (ctx) => {
        const filesOnly = job === JOBS.snapshot ? await this.filesOnlyReason() : null;
        if (filesOnly) return this.filesOnlySnapshot(ctx, slot, filesOnly);
        if (!job.clusterWide) return this.run(job, ctx, params, { underLease: false, slot }, ctx.signal);
        return this.clusterSlot(job, ctx, slot, windowMs, params);
      });
    } catch (err) {
      this.o.logger.warn(`${job.kind} slot skipped: the previous run is still going on this node`, {
        slot,
        error: errorMessage(err),
      });
    }
  }

  /** One slot of a cluster-wide job under its lease: exactly one daemon runs it. */
  private clusterSlot(job: JobDefinition, ctx: JobContext, slot: string, windowMs: number, params: unknown) {
    const { config, repo } = this.o;
    const slotDone = job.slotDone;
    return this.o.database.use((sql) =>
      runClusterSlot({
        slot,
        node: config.cluster.node,
        lease: this.lease(sql, job.kind),
        book: new SlotBook(sql, job.kind),
        sql,
        alreadyDone: slotDone ? (s) => slotDone(repo, s) : undefined,
        rank: this.rank,
        staggerMs: config.daemon.staggerSeconds * 1000,
        windowMs,
        pollMs: Math.min(2000, (config.daemon.leaseTtlSeconds * 1000) / 3),
        take: async ({ slot: s, beforeCommit, signal }) => {
          const result = await this.run(job, ctx, params, { underLease: true, slot: s, beforeCommit }, signal);
          return { id: job.settle(result).summary };
        },
        logger: ctx.logger,
        signal: ctx.signal,
      }),
    );
  }

  /** Runs the job and settles its result: a warning alerts, a failure throws (after the kind's `after` hook). */
  private async run(
    job: JobDefinition,
    ctx: JobContext,
    params: unknown,
    run: Pick<RunContext, 'underLease' | 'slot'> & { beforeCommit?: () => Promise<void> },
    signal: AbortSignal,
  ): Promise<unknown> {
    const result = await job.run(this.context(ctx, run), params, signal);
    const settled = job.settle(result);
    if (settled.warning) void this.o.alerter.alert({ kind: 'job-failed', job: job.kind, runId: ctx.id, error: settled.warning });
    await this.o.after?.[job.kind]?.();
    if (settled.failure) throw settled.failure;
    return result;
  }

  private context(
    ctx: JobContext,
    run: Pick<RunContext, 'underLease' | 'slot'> & { beforeCommit?: () => Promise<void> },
  ): RunContext {
    return {
      config: this.o.config,
      repo: this.o.repo,
      toolVersion: toolVersion(),
      useDatabase: (fn) => this.o.database.use(fn),
      underLease: run.underLease,
      slot: run.slot,
      beforeCommit: run.beforeCommit ?? (async () => {}),
      logger: ctx.logger,
      progress: ctx.progress,
    };
  }

  /** The kind's own lease, or the cluster's in this node's database (on a connection of its own). */
  private async openLease(job: JobDefinition): Promise<OpenLease> {
    if (job.openLease) return job.openLease(this.o.config);
    const sql = await this.o.database.connect();
    return Object.assign(this.lease(sql, job.kind), { close: () => sql.close() });
  }

  private lease(sql: CoordSql, kind: string): Lease {
    return new Lease(sql, kind, this.o.config.cluster.node, this.o.config.daemon.leaseTtlSeconds);
  }

  /**
   * With `daemon.filesWhenDatabaseDown`, a snapshot takes the file areas alone when this node's
   * database is unreachable and no other node answers Synced either (else the cluster's lease
   * gives the slot to a node that can take it whole). There is no lease then: daemons that
   * decide so at the same time may each commit one.
   */
  private async filesOnlyReason(): Promise<string | null> {
    const { config, database } = this.o;
    if (!config.daemon.filesWhenDatabaseDown || config.files.areas.length === 0) return null;
    if (await database.available()) return null;
    const others = await Promise.all(
      config.cluster.nodes.filter((n) => n.name !== config.cluster.node).map((n) => nodeState(config, n)),
    );
    if (others.some((o) => o.state === 'Synced')) return null;
    return `node '${config.cluster.node}': database unreachable (${database.status().lastError ?? 'unknown'}), and no other node is Synced`;
  }

  private async filesOnlySnapshot(ctx: JobContext, slot: string | undefined, reason: string): Promise<{ id: string }> {
    const { repo, config } = this.o;
    if (slot) {
      await sleep(this.rank * config.daemon.staggerSeconds * 1000, undefined, { signal: ctx.signal });
      if (await JOBS.snapshot.slotDone?.(repo, slot)) return { id: 'done elsewhere' };
    }
    ctx.logger.warn('database part skipped: taking the file areas only', { slot: slot ?? null, reason });
    const result = await JOBS.snapshot.run(
      this.context(ctx, { underLease: false, slot }),
      { database: false, areas: 'all' },
      ctx.signal,
    );
    const error = `snapshot ${result.id} has no database part: ${reason}`;
    void this.o.alerter.alert({ kind: 'job-failed', job: 'snapshot', runId: ctx.id, error });
    return { id: result.id };
  }
}
