import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { jobKinds } from '../../jobs/registry.js';
import type { PeerState } from '../health/detector.js';
import type { ClusterView } from '../health/monitor.js';
import type { JobRecord, JobState } from '../scheduler/job-runner.js';

/**
 * Prometheus metrics of one daemon, in a registry of its own (never prom-client's global one).
 *
 * Job series are labelled `kind` (each kind of jobs/registry.ts), not `job`: Prometheus attaches its
 * own `job` label to every scraped series and would rename ours to `exported_job`.
 *
 * Byte convention: a job result that moved data reports it as a top-level, finite, non-negative
 * `bytes` number (e.g. `{ id, bytes: 123 }`); other results leave `lifeboat_job_last_bytes` as it was.
 */

export interface MetricsOptions {
  /** default process and Node.js runtime metrics (CPU, memory, event loop, GC); default true */
  readonly processMetrics?: boolean;
  /** clock for the age gauges (default Date.now) */
  readonly now?: () => number;
}

/** `lifeboat_node_state` values: higher is worse */
export const NODE_STATE_VALUES: Readonly<Record<PeerState, number>> = {
  healthy: 0,
  recovering: 1,
  suspect: 2,
  partitioned: 3,
  lost: 4,
};

const FINISHED = Object.keys({ succeeded: true, failed: true, cancelled: true } satisfies Record<
  Exclude<JobState, 'running'>,
  true
>) as Exclude<JobState, 'running'>[];

export class Metrics {
  /** prom-client stays inside this module: callers see text() and contentType only */
  private readonly registry = new Registry();
  private readonly now: () => number;
  private readonly lastSuccess: Gauge<'kind'>;
  private readonly lastDuration: Gauge<'kind'>;
  private readonly lastBytes: Gauge<'kind'>;
  private readonly runs: Counter<'kind' | 'state'>;
  private readonly rpoAge: AgeGauge;
  private readonly verifiedAge: AgeGauge;
  private readonly databaseUp: Gauge;
  private readonly transitions: Counter<'node' | 'from' | 'to'>;
  private readonly recoveryRuns: Counter<'playbook' | 'outcome'>;
  private readonly recoveryLast: Gauge;
  private cluster: (() => ClusterView) | undefined;

  constructor(options: MetricsOptions = {}) {
    this.now = options.now ?? Date.now;
    const registers = [this.registry];
    this.lastSuccess = new Gauge({
      name: 'lifeboat_job_last_success_timestamp_seconds',
      help: 'Unix time at which the last successful run of a job finished',
      labelNames: ['kind'],
      registers,
    });
    this.lastDuration = new Gauge({
      name: 'lifeboat_job_last_duration_seconds',
      help: 'Duration of the last successful run of a job',
      labelNames: ['kind'],
      registers,
    });
    this.lastBytes = new Gauge({
      name: 'lifeboat_job_last_bytes',
      help: 'Bytes moved by the last successful run of a job that reports them',
      labelNames: ['kind'],
      registers,
    });
    this.runs = new Counter({
      name: 'lifeboat_job_runs_total',
      help: 'Finished runs of a job on this daemon, by final state',
      labelNames: ['kind', 'state'],
      registers,
    });
    // Zero series exist from the start, so increase() and rate() see the first failure.
    for (const kind of jobKinds) for (const state of FINISHED) this.runs.inc({ kind, state }, 0);
    this.rpoAge = new AgeGauge(
      this.registry,
      this.now,
      'lifeboat_rpo_age_seconds',
      'Age of the newest complete snapshot (+Inf when there is none)',
    );
    this.verifiedAge = new AgeGauge(
      this.registry,
      this.now,
      'lifeboat_verified_age_seconds',
      'Age of the newest verified snapshot (+Inf when there is none)',
    );
    this.databaseUp = new Gauge({
      name: 'lifeboat_database_up',
      help: "1 while this daemon can use its node's database, 0 while it cannot",
      registers: [],
    });
    this.transitions = new Counter({
      name: 'lifeboat_node_transitions_total',
      help: "Changes of a node's state in this daemon's detector, by the state left and the state entered",
      labelNames: ['node', 'from', 'to'],
      registers,
    });
    this.recoveryRuns = new Counter({
      name: 'lifeboat_recovery_runs_total',
      help: 'Recoveries this daemon ran or held back, by playbook and outcome (succeeded, failed, vetoed, held)',
      labelNames: ['playbook', 'outcome'],
      registers,
    });
    this.recoveryLast = new Gauge({
      name: 'lifeboat_recovery_last_seconds',
      help: 'Duration of the last recovery this daemon ran',
      registers,
    });
    const nodeState: Gauge<'node' | 'observer'> = new Gauge({
      name: 'lifeboat_node_state',
      help: `State of a node as an observer sees it (this daemon's own verdicts, and the others' from their witness heartbeats): ${Object.entries(
        NODE_STATE_VALUES,
      )
        .map(([state, value]) => `${value} ${state}`)
        .join(', ')}`,
      labelNames: ['node', 'observer'],
      registers,
      collect: (): void => {
        nodeState.reset();
        // a stale heartbeat's verdict is old news (its writer may be the one gone): no series
        for (const row of this.cluster?.().nodes ?? [])
          for (const [observer, verdict] of Object.entries(row.observers))
            if (!verdict.stale) nodeState.set({ node: row.name, observer }, NODE_STATE_VALUES[verdict.state]);
      },
    });
    const probeSeconds: Gauge<'node' | 'probe'> = new Gauge({
      name: 'lifeboat_node_probe_seconds',
      help: "Duration of this daemon's last probe of a node (a failed probe: until it failed)",
      labelNames: ['node', 'probe'],
      registers,
      collect: (): void => this.probeSeries(probeSeconds, (r) => r.ms / 1000),
    });
    const probeUp: Gauge<'node' | 'probe'> = new Gauge({
      name: 'lifeboat_node_probe_up',
      help: "1 when this daemon's last probe of a node answered, 0 when it failed",
      labelNames: ['node', 'probe'],
      registers,
      collect: (): void => this.probeSeries(probeUp, (r) => (r.ok ? 1 : 0)),
    });
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Accounts a finished run; running records are ignored. Fit for JobRunner's `onFinish`. */
  recordJob(record: JobRecord): void {
    if (record.state === 'running') return;
    const kind = record.kind;
    this.runs.inc({ kind, state: record.state });
    if (record.state !== 'succeeded' || record.finishedAt === null) return;
    const finished = Date.parse(record.finishedAt);
    const started = Date.parse(record.startedAt);
    if (Number.isFinite(finished)) this.lastSuccess.set({ kind }, finished / 1000);
    if (Number.isFinite(finished) && Number.isFinite(started))
      this.lastDuration.set({ kind }, Math.max(0, finished - started) / 1000);
    const bytes = resultBytes(record.result);
    if (bytes !== undefined) this.lastBytes.set({ kind }, bytes);
  }

  /** A recovery ended (or was held back: `vetoed`, `held`); `seconds` when it ran. */
  recordRecovery(playbook: string, outcome: string, seconds?: number): void {
    this.recoveryRuns.inc({ playbook, outcome });
    if (seconds !== undefined) this.recoveryLast.set(seconds);
  }

  /**
   * The age of the newest complete snapshot now (Infinity when there is none). The exported value
   * keeps growing with the clock until the next call, so a stalled daemon still shows the breach.
   * The series is absent until the first call.
   */
  setRpoAge(seconds: number): void {
    this.rpoAge.set(seconds);
  }

  /** As `setRpoAge`, for the newest verified snapshot. */
  setVerifiedAge(seconds: number): void {
    this.verifiedAge.set(seconds);
  }

  /** Whether the local database is usable; the series is absent until the first call. */
  setDatabaseUp(up: boolean): void {
    if (!this.registry.getSingleMetric('lifeboat_database_up')) this.registry.registerMetric(this.databaseUp);
    this.databaseUp.set(up ? 1 : 0);
  }

  /** The node series read this view at each scrape (the loss monitor's). */
  watchCluster(view: () => ClusterView): void {
    this.cluster = view;
  }

  /** Accounts one change of a node's state in this daemon's detector. */
  recordTransition(node: string, from: PeerState, to: PeerState): void {
    this.transitions.inc({ node, from, to });
  }

  private probeSeries(
    gauge: Gauge<'node' | 'probe'>,
    value: (r: NonNullable<ClusterView['nodes'][number]['probes']>[number]) => number,
  ): void {
    gauge.reset();
    for (const row of this.cluster?.().nodes ?? [])
      for (const r of row.probes ?? []) gauge.set({ node: row.name, probe: r.probe }, value(r));
  }

  /** The exposition text for a scrape. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function resultBytes(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null || !('bytes' in result)) return undefined;
  const bytes = result.bytes;
  return typeof bytes === 'number' && Number.isFinite(bytes) && bytes >= 0 ? bytes : undefined;
}

/** A gauge that is absent until first set and reports the age at scrape time. */
class AgeGauge {
  private readonly gauge: Gauge;
  private readonly name: string;
  /** epoch ms the age is measured from; -Infinity when there is nothing */
  private since: number | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly now: () => number,
    name: string,
    help: string,
  ) {
    const collect = (): void => {
      if (this.since !== undefined) this.gauge.set(Math.max(0, (this.now() - this.since) / 1000));
    };
    this.name = name;
    this.gauge = new Gauge({ name, help, registers: [], collect });
  }

  set(seconds: number): void {
    if (Number.isNaN(seconds)) throw new RangeError(`${this.name}: age must be a number of seconds, got NaN`);
    if (this.since === undefined) this.registry.registerMetric(this.gauge);
    // Negative ages (clock skew between nodes) count as fresh.
    this.since = this.now() - Math.max(0, seconds) * 1000;
  }
}
