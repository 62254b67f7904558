import type { Config } from '../../config/load.js';
import { nodeEndpoint } from '../../jobs/settings.js';
import type { NodeControl } from '../../restore/node-control.js';
import { connect, inspectDatadir, wsrepStatus } from '../galera/index.js';
import { HealthMonitor, type MonitoredPeer } from '../health/monitor.js';
import { galeraProbe, httpProbe, PeerConnection, tcpProbe, writeProbe } from '../health/probes.js';
import type { Heartbeat } from '../health/witness.js';
import { Witness, type WitnessStore } from '../health/witness.js';
import { errorMessage, NotFoundError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';
import type { Alerter } from './alerts.js';
import type { LocalDatabase } from './local-database.js';
import type { Metrics } from './metrics.js';

/** The loss monitor as the daemon runs it: probes and witness from the config, transitions to the log, alerts and metrics. */
export interface ClusterHealth {
  readonly monitor: HealthMonitor;
  start(): void;
  /** stops the loops and drops the peer connections (in the background: a dead peer's socket may not close) */
  stop(): void;
}

export interface ClusterHealthDeps {
  readonly config: Config;
  /** the witness heartbeats' store (`openWitnessStore`) */
  readonly store: ObjectStore;
  readonly database: LocalDatabase;
  readonly metrics: Metrics;
  readonly alerter: Alerter;
  readonly logger: Logger;
  /** this node's service: while its database is down, the position its datadir holds is published */
  readonly control?: Pick<NodeControl, 'isRunning' | 'recoverPosition'>;
}

export function clusterHealth({ config, store, database, metrics, alerter, logger, control }: ClusterHealthDeps): ClusterHealth {
  const h = config.health;
  const self = config.cluster.node;
  const connections: PeerConnection[] = [];
  const connection = (n: Config['cluster']['nodes'][number]): PeerConnection => {
    const c = new PeerConnection(() =>
      connect({ ...nodeEndpoint(config, n), connectTimeoutMs: h.probeTimeoutMs, statementTimeoutMs: h.probeTimeoutMs }),
    );
    connections.push(c);
    return c;
  };
  const peers: MonitoredPeer[] = config.cluster.nodes
    .filter((n) => n.name !== self)
    .map((n) => {
      const state = connection(n);
      const write = connection(n);
      return {
        name: n.name,
        probes: {
          tcp: tcpProbe(n.host, n.port),
          galera: state.guard(galeraProbe(state.get)),
          write: write.guard(writeProbe(write.get, `${self}>${n.name}`)),
          ...(n.api ? { daemon: httpProbe(`http://${n.api}/v1/health`) } : {}),
          ...(n.brickPort ? { brick: tcpProbe(n.host, n.brickPort) } : {}),
        },
      };
    });
  const staleMs = h.witnessStaleSeconds * 1000;
  const stopped = new StoppedPosition(control, config.cluster.nodes.find((n) => n.name === self)?.datadir, logger);
  const monitor = new HealthMonitor({
    node: self,
    peers,
    intervalMs: h.intervalSeconds * 1000,
    probeTimeoutMs: h.probeTimeoutMs,
    witnessIntervalMs: h.witnessIntervalSeconds * 1000,
    detector: {
      suspectAfterMs: h.suspectAfterSeconds * 1000,
      lostAfterMs: h.lostAfterSeconds * 1000,
      recoverAfterMs: h.recoverAfterSeconds * 1000,
      witnessStaleMs: staleMs,
    },
    witness: new Witness(witnessStore(store, staleMs / 2), config.cluster.name, self, monotonic),
    // only while the database is up: the witness never waits for a reconnect
    localGalera: async () => {
      if (database.status().state !== 'up') return stopped.position();
      stopped.reset();
      const s = await database.use((sql) => wsrepStatus(sql, { timeoutMs: h.probeTimeoutMs }));
      return { state: s.localState, uuid: s.stateUuid || null, seqno: s.lastCommitted };
    },
    events: {
      onTransition: (t) => {
        metrics.recordTransition(t.node, t.from, t.to);
        const since = new Date(t.at).toISOString();
        const evidence = `${t.evidence}; last probes: ${t.probes}`;
        if (t.to === 'lost' || t.to === 'partitioned')
          void alerter.alert({ kind: t.to === 'lost' ? 'node-lost' : 'node-partitioned', peer: t.node, since, evidence });
        else if (t.to === 'healthy' && t.previousVerdict)
          void alerter.alert({ kind: 'node-healthy', peer: t.node, was: t.previousVerdict, evidence });
      },
      onMinority: (minority, evidence) =>
        void alerter.alert(
          minority
            ? { kind: 'node-minority', since: new Date().toISOString(), evidence }
            : { kind: 'node-minority-resolved', evidence },
        ),
    },
    logger,
  });
  metrics.watchCluster(() => monitor.view());
  return {
    monitor,
    start: () => monitor.start(),
    stop: () => {
      monitor.stop();
      for (const c of connections) c.drop();
    },
  };
}

const monotonic = (): number => performance.timeOrigin + performance.now();

/**
 * What a stopped node's datadir holds, as its heartbeat publishes it (state `''`: not running), so
 * that the daemons can choose: a position lets the node rejoin (and a cluster that is down as a
 * whole choose its most advanced node), an empty datadir lets it be seeded from a snapshot.
 * Read from the datadir itself (cheap, read-only, every heartbeat) when it is empty or its
 * grastate.dat records a position; otherwise (after a crash) recovered with `mariadbd
 * --wsrep-recover` once per outage, in the background, and only while the service is not
 * running: a server that is starting or receiving a state transfer is left alone.
 */
class StoppedPosition {
  private known: { uuid: string; seqno: number } | null = null;
  private onDisk: Heartbeat['galera'] = null;
  private busy = false;
  /** after a failed recovery: not before this (backing off to a minute), and said once */
  private retryAt = 0;
  private backoffMs = 0;

  constructor(
    private readonly control: Pick<NodeControl, 'isRunning' | 'recoverPosition'> | undefined,
    private readonly datadir: string | undefined,
    private readonly logger: Logger,
  ) {}

  position(): Heartbeat['galera'] {
    if (!this.busy) void this.refresh();
    if (this.onDisk) return this.onDisk;
    if (this.known) return { state: '', uuid: this.known.uuid, seqno: this.known.seqno };
    return null;
  }

  reset(): void {
    this.known = null;
    this.onDisk = null;
    this.retryAt = 0;
    this.backoffMs = 0;
  }

  private async refresh(): Promise<void> {
    this.busy = true;
    try {
      const disk = this.datadir ? await inspectDatadir(this.datadir).catch(() => undefined) : undefined;
      this.onDisk =
        disk?.kind === 'empty'
          ? { state: '', uuid: null, seqno: null, datadir: 'empty' }
          : disk?.kind === 'position'
            ? { state: '', uuid: disk.uuid, seqno: disk.seqno }
            : null;
      if (this.onDisk || this.known || !this.control || Date.now() < this.retryAt) return;
      if (await this.control.isRunning()) return;
      const p = await this.control.recoverPosition();
      this.known = { uuid: p.uuid, seqno: p.seqno };
      this.logger.warn('database down: recovered the position its datadir holds', { uuid: p.uuid, seqno: p.seqno });
    } catch (err) {
      if (this.backoffMs === 0) this.logger.warn('database down: could not recover its position', { error: errorMessage(err) });
      this.backoffMs = Math.min(60_000, Math.max(2000, this.backoffMs * 2));
      this.retryAt = Date.now() + this.backoffMs;
    } finally {
      this.busy = false;
    }
  }
}

/** The witness's objects in the store, each operation with a deadline (a hung store is a failed read, not a hung loop). */
export function witnessStore(store: ObjectStore, timeoutMs: number): WitnessStore {
  return {
    write: async (key, body) => {
      await store.put(key, body, { signal: AbortSignal.timeout(timeoutMs) });
    },
    read: (key) =>
      getBuffer(store, key, { signal: AbortSignal.timeout(timeoutMs) }).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }),
  };
}
