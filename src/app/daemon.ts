import type { Server } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config/load.js';
import { JOBS, jobKinds } from '../../jobs/registry.js';
import { localServer, preferredOrder } from '../../jobs/settings.js';
import { RecoveryLog } from '../../restore/recovery.js';
import { Lease } from '../coord/index.js';
import { recoverDesync } from '../galera/index.js';
import { HEARTBEAT_TABLE } from '../health/probes.js';
import { run } from '../lib/child-process.js';
import { errorMessage, PermanentError, UsageError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Repository } from '../repo/repository.js';
import { type JobRecord, JobRunner } from '../scheduler/job-runner.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { seedSnapshot } from './actions/recover.js';
import { type Alerter, createAlerter } from './alerts.js';
import { AutoRecovery } from './auto-recovery.js';
import { type ClusterHealth, clusterHealth } from './cluster-health.js';
import { DaemonJobs } from './daemon-jobs.js';
import { RpoWatch, refreshVerifiedAge, snapshotListing, statusDocument } from './daemon-status.js';
import { type ApiDeps, createApiServer } from './http-api.js';
import { LocalDatabase } from './local-database.js';
import { Metrics } from './metrics.js';
import { connectLocal, localRecoveryNode, openRepository, openWitnessStore } from './runtime.js';
import { openLocalVolume, volumePlanner } from './volume.js';

export interface DaemonHandle {
  readonly runner: JobRunner;
  readonly scheduler: Scheduler;
  readonly repo: Repository;
  readonly metrics: Metrics;
  readonly database: LocalDatabase;
  /** the loss monitor; undefined while health.enabled is false */
  readonly health: ClusterHealth | undefined;
  /** the HTTP API, listening on config.api.listen */
  readonly server: Server;
  /** starts a run of a job kind on this node (UsageError for an unknown kind or bad params, ConflictError while one runs) */
  startJob(kind: string, params?: unknown): Promise<JobRecord>;
  /** stops scheduling, cancels running jobs and releases everything within `timeoutMs`; false when jobs did not stop */
  stop(timeoutMs: number): Promise<boolean>;
}

/**
 * `lifeboat daemon`: one per cluster node, same config everywhere. Schedules the jobs of
 * `jobs/registry.ts` with cron; for each scheduled slot of a cluster-wide job every daemon
 * competes through the cluster lease, so exactly one node runs it, the most preferred healthy one
 * first, and another takes over if the holder dies.
 *
 * Start-up either completes or fails with nothing left running: everything is checked first, the
 * API is bound next, and only then do schedules, timers, database checks and the loss monitor start. The local
 * database need not be up: the daemon serves its API and alerts while it is down, reconnects with
 * backoff, and prepares it (lease schema, recovery of an interrupted desync) once it answers.
 */
export async function startDaemon(config: Config, logger: Logger): Promise<DaemonHandle> {
  const log = logger.child({ node: config.cluster.node });
  parseListen(config.api.listen); // refused before anything starts; serveApi binds it
  const scheduler = new Scheduler(config.schedules.timezone, log);
  for (const job of Object.values(JOBS)) {
    if (job.scheduleKey) Scheduler.validate(config.schedules[job.scheduleKey], `schedules.${job.scheduleKey}`);
  }
  localServer(config);
  const repo = await openRepository(config, log);

  const metrics = new Metrics();
  const alerter = createAlerter({
    url: config.alerts.webhook,
    cluster: config.cluster.name,
    node: config.cluster.node,
    logger: log,
  });
  const database = localDatabase(config, metrics, alerter, log);
  const volume = await openLocalVolume(config, repo, log);
  const local = localRecoveryNode(config, repo, log, volume);
  const health = config.health.enabled
    ? clusterHealth({
        config,
        store: openWitnessStore(config),
        database,
        metrics,
        alerter,
        logger: log,
        ...(local.control ? { control: local.control } : {}),
      })
    : undefined;
  // recovery acts on the monitor's verdicts: without loss detection there is nothing to act on
  const recovery = health
    ? new AutoRecovery({
        recovery: config.recovery,
        node: config.cluster.node,
        order: preferredOrder(config),
        view: () => health.monitor.view(),
        seed: () => seedSnapshot(repo),
        ...(volume ? { volumePlan: volumePlanner(config, volume, repo) } : {}),
        log: new RecoveryLog(repo),
        local,
        alerter,
        metrics,
        runHook: async ([command, ...args], env, timeoutMs) => {
          await run(command as string, args, { name: command, env: { ...process.env, ...env }, timeoutMs });
        },
        logger: log,
      })
    : undefined;
  const rpo = new RpoWatch(repo, config, metrics, alerter);
  const runner = new JobRunner({
    logger: log,
    onFinish: (record) => {
      metrics.recordJob(record);
      if (record.kind === 'snapshot' && record.state === 'succeeded') void rpo.check().catch(() => {});
      if (record.state === 'failed') {
        void alerter.alert({ kind: 'job-failed', job: record.kind, runId: record.id, error: record.error?.message ?? 'unknown' });
      }
    },
  });
  const jobs = new DaemonJobs({
    config,
    repo,
    runner,
    database,
    alerter,
    after: { verify: () => refreshVerifiedAge(repo, metrics) },
    logger: log,
  });
  const server = await serveApi(config, log, {
    token: config.api.token,
    runner,
    metrics,
    logger: log,
    startJob: (kind, params) => jobs.start(kind, 'api', params),
    status: async () => ({
      ...(await statusDocument({ config, runner, database, scheduler, rpo, kinds: jobKinds, health: health?.monitor })),
      recovery: recovery?.status() ?? null,
    }),
    snapshots: () => snapshotListing(repo),
    ...(health ? { cluster: () => ({ ...health.monitor.view(), recovery: recovery?.status() ?? null }) } : {}),
  });

  // From here on things run; nothing below can fail on the config.
  database.start();
  health?.start();
  recovery?.start(Math.max(1000, config.health.intervalSeconds * 1000));
  jobs.schedule(scheduler);
  const rpoTimer = setInterval(
    () => void rpo.check().catch((err: unknown) => log.warn('rpo check failed', { error: errorMessage(err) })),
    60_000,
  );
  void rpo.check().catch(() => {});
  void refreshVerifiedAge(repo, metrics).catch(() => {});

  return {
    runner,
    scheduler,
    repo,
    metrics,
    database,
    health,
    server,
    startJob: (kind, params) => jobs.start(kind, 'api', params),
    stop: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      clearInterval(rpoTimer);
      recovery?.stop();
      health?.stop();
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

/** This node's database as the daemon uses it: prepared once per outage, its state changes drive metric and alerts. */
function localDatabase(config: Config, metrics: Metrics, alerter: Alerter, log: Logger): LocalDatabase {
  const desync = {
    node: config.cluster.node,
    stateDir: config.stateDir,
    logger: log,
    resyncTimeoutMs: config.database.resyncTimeoutSeconds * 1000,
  };
  return new LocalDatabase({
    node: config.cluster.node,
    connect: () => connectLocal(config),
    // Crash recovery first: a desync left by a killed process on this node is undone now.
    prepare: async (sql) => {
      await Lease.ensureSchema(sql);
      // the table the peers' write probes commit to (through this node among others)
      if (config.health.enabled) await sql.execute(HEARTBEAT_TABLE);
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
}

/** Builds the API server and binds it to api.listen. */
async function serveApi(config: Config, log: Logger, deps: ApiDeps): Promise<Server> {
  const server = createApiServer(deps);
  await listenOn(server, parseListen(config.api.listen), config.api.listen);
  const address = server.address();
  log.info('api listening', {
    listen: typeof address === 'object' && address ? `${address.address}:${address.port}` : config.api.listen,
  });
  return server;
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
