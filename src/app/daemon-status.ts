import type { Config } from '../../config/load.js';
import { nodeEndpoint } from '../../jobs/settings.js';
import { Lease } from '../coord/index.js';
import { connect, wsrepStatus } from '../galera/index.js';
import type { HealthMonitor } from '../health/monitor.js';
import { errorMessage, IntegrityError } from '../lib/errors.js';
import type { Repository } from '../repo/repository.js';
import { snapshotTime } from '../repo/snapshot-id.js';
import { verificationStates } from '../repo/verification.js';
import type { JobRunner } from '../scheduler/job-runner.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Alerter } from './alerts.js';
import type { LocalDatabase } from './local-database.js';
import type { Metrics } from './metrics.js';

/** What the daemon reports: RPO, the status document, the snapshot listing. */

export interface RpoState {
  readonly ageSeconds: number | null;
  readonly limitSeconds: number;
  readonly newest: string | null;
  readonly breached: boolean;
}

/** The RPO: age of the newest committed snapshot with a database part, against `alerts.rpoHours`. */
export class RpoWatch {
  private readonly limitSeconds: number;

  constructor(
    private readonly repo: Repository,
    config: Config,
    private readonly metrics: Metrics,
    private readonly alerter: Alerter,
  ) {
    this.limitSeconds = config.alerts.rpoHours * 3600;
  }

  /** Reads the RPO state; only `check` acts on it (metric, alerts), never a status request. */
  async state(): Promise<RpoState & { age: number }> {
    const newest = await newestWithDatabase(this.repo);
    const age = newest ? Math.max(0, (Date.now() - snapshotTime(newest).getTime()) / 1000) : Number.POSITIVE_INFINITY;
    return {
      age,
      ageSeconds: Number.isFinite(age) ? Math.round(age) : null,
      limitSeconds: this.limitSeconds,
      newest,
      breached: age > this.limitSeconds,
    };
  }

  /** Sets the RPO metric and alerts on a breach (or its end). */
  async check(): Promise<void> {
    const { age, newest, breached } = await this.state();
    this.metrics.setRpoAge(age);
    void this.alerter.alert({
      kind: breached ? 'rpo-breach' : 'rpo-recovered',
      ageSeconds: age,
      limitSeconds: this.limitSeconds,
      newest,
    });
  }
}

/** Sets `lifeboat_verified_age_seconds` from the verification records. */
export async function refreshVerifiedAge(repo: Repository, metrics: Metrics): Promise<void> {
  const states = await verificationStates(repo, await repo.snapshotIds());
  const times = [...states.values()].filter((s) => s.verified && s.verifiedAt).map((s) => Date.parse(s.verifiedAt ?? ''));
  metrics.setVerifiedAge(times.length ? (Date.now() - Math.max(...times)) / 1000 : Number.POSITIVE_INFINITY);
}

export interface StatusSources {
  readonly config: Config;
  readonly runner: JobRunner;
  readonly database: LocalDatabase;
  readonly scheduler: Scheduler;
  readonly rpo: RpoWatch;
  readonly kinds: readonly string[];
  /** the loss monitor; absent while health.enabled is false */
  readonly health?: HealthMonitor | undefined;
}

/** The `GET /v1/status` document (docs/openapi.yaml, `Status`). */
export async function statusDocument(s: StatusSources): Promise<Record<string, unknown>> {
  const { config, runner, database } = s;
  return {
    cluster: config.cluster.name,
    node: config.cluster.node,
    jobs: Object.fromEntries(s.kinds.map((kind) => [kind, runner.list().find((r) => r.kind === kind) ?? null])),
    database: database.status(),
    // the object store being down is part of the answer, not a failed request
    rpo: await s.rpo.state().then(
      ({ age: _age, ...state }) => state,
      (err: unknown) => ({ error: `object store: ${errorMessage(err)}` }),
    ),
    // only asked while the database is up: a status request never waits for a reconnect
    lease: database.status().state === 'up' ? await snapshotLease(config, database).catch(() => null) : null,
    nodes: await Promise.all(config.cluster.nodes.map((n) => nodeState(config, n))),
    schedules: s.scheduler.next(),
    // `cluster` names the cluster: the loss monitor's view is `clusterHealth` (GET /v1/cluster)
    clusterHealth: s.health?.view() ?? null,
  };
}

async function snapshotLease(config: Config, database: LocalDatabase): Promise<Record<string, unknown> | null> {
  const current = await database.use((sql) =>
    new Lease(sql, 'snapshot', config.cluster.node, config.daemon.leaseTtlSeconds).current(),
  );
  return current
    ? { holder: current.holder, token: current.token, expiresAt: new Date(Date.now() + current.expiresInMs).toISOString() }
    : null;
}

/** The `GET /v1/snapshots` listing: committed snapshots, newest first. */
export async function snapshotListing(repo: Repository): Promise<unknown[]> {
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
export async function nodeState(config: Config, n: Config['cluster']['nodes'][number]): Promise<Record<string, unknown>> {
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
