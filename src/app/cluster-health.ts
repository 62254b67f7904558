import type { Config } from '../../config/load.js';
import { nodeEndpoint } from '../../jobs/settings.js';
import { connect, wsrepStatus } from '../galera/index.js';
import { HealthMonitor, type MonitoredPeer } from '../health/monitor.js';
import { galeraProbe, httpProbe, PeerConnection, tcpProbe, writeProbe } from '../health/probes.js';
import { Witness, type WitnessStore } from '../health/witness.js';
import { NotFoundError } from '../lib/errors.js';
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
}

export function clusterHealth({ config, store, database, metrics, alerter, logger }: ClusterHealthDeps): ClusterHealth {
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
      if (database.status().state !== 'up') return null;
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
