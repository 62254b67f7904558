import { connect as tcpConnect } from 'node:net';
import { type SqlClient, wsrepStatus } from '../galera/index.js';
import { errorMessage } from '../lib/errors.js';

/** The ways one daemon looks at a peer (issue #16). */
export type ProbeName = 'tcp' | 'galera' | 'write' | 'daemon' | 'brick';

/** Resolves with a short detail when the peer answered; rejects when it did not. */
export type Probe = (signal: AbortSignal) => Promise<string>;

export interface ProbeResult {
  readonly probe: ProbeName;
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
}

/**
 * Runs a peer's probes once per round, each with a deadline. A probe still in flight from an
 * earlier round is not started again (probes never pile up on a hung peer): it counts as failed.
 */
export class ProbeSet {
  private readonly inFlight = new Set<ProbeName>();

  constructor(
    private readonly probes: Partial<Record<ProbeName, Probe>>,
    private readonly timeoutMs: number,
  ) {}

  round(): Promise<ProbeResult[]> {
    return Promise.all(Object.entries(this.probes).map(([name, probe]) => this.run(name as ProbeName, probe as Probe)));
  }

  private async run(probe: ProbeName, fn: Probe): Promise<ProbeResult> {
    if (this.inFlight.has(probe)) return { probe, ok: false, ms: 0, detail: 'the previous probe is still in flight' };
    this.inFlight.add(probe);
    const started = performance.now();
    const ms = (): number => Math.round(performance.now() - started);
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
    });
    const attempt = fn(controller.signal);
    // the in-flight mark goes only when the probe itself settles, not at its deadline
    attempt.then(
      () => this.inFlight.delete(probe),
      () => this.inFlight.delete(probe),
    );
    try {
      return { probe, ok: true, ms: ms(), detail: await Promise.race([attempt, deadline]) };
    } catch (err) {
      return { probe, ok: false, ms: ms(), detail: errorMessage(err) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A TCP connect to `host:port` (the peer's MariaDB port, or its Gluster brick port). */
export function tcpProbe(host: string, port: number): Probe {
  return (signal) =>
    new Promise((resolve, reject) => {
      const socket = tcpConnect({ host, port, signal });
      socket.once('connect', () => {
        socket.destroy();
        resolve(`${host}:${port} accepts`);
      });
      socket.once('error', (err) => {
        socket.destroy();
        reject(err);
      });
    });
}

/** The peer daemon's `/v1/health` answering 2xx. */
export function httpProbe(url: string): Probe {
  return async (signal) => {
    const response = await fetch(url, { signal });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return `${url}: HTTP ${response.status}`;
  };
}

/**
 * The peer's Galera state over SQL (`SHOW GLOBAL STATUS`: works on a non-Primary node too). An
 * answer is an answer: a desynced donor or a non-Primary node is reachable, and its state is
 * the evidence the detector and the recovery planner read.
 */
export function galeraProbe(sql: () => Promise<SqlClient>): Probe {
  return async (signal) => {
    const client = await sql();
    const s = await wsrepStatus(client, { signal });
    return `${s.clusterStatus}, ${s.localState}, size ${s.clusterSize}${s.desync ? ', desynced' : ''}`;
  };
}

export const HEARTBEAT_TABLE =
  'CREATE TABLE IF NOT EXISTS lifeboat.heartbeat (node VARCHAR(128) PRIMARY KEY, seq BIGINT NOT NULL, at TIMESTAMP(3) NOT NULL)';

/**
 * A write committed through the cluster: one row per `node` key in `lifeboat.heartbeat` (the
 * monitor writes `<observer>><peer>` through each peer, so no two writers share a row). Its latency
 * shows a cluster whose status still says Synced while commits block (flow control, a lost
 * peer not yet evicted).
 */
export function writeProbe(sql: () => Promise<SqlClient>, node: string): Probe {
  let seq = 0;
  return async (signal) => {
    const client = await sql();
    await client.execute(
      'INSERT INTO lifeboat.heartbeat (node, seq, at) VALUES (?, ?, NOW(3)) ON DUPLICATE KEY UPDATE seq = VALUES(seq), at = VALUES(at)',
      [node, ++seq],
      { signal },
    );
    return `heartbeat ${seq} committed`;
  };
}

/**
 * One SQL connection to a peer for one probe: opened on first use, dropped (and opened again on
 * the next round) when a probe on it fails, so a hung or broken connection never outlives its round.
 */
export class PeerConnection {
  private client: Promise<SqlClient> | undefined;

  constructor(private readonly open: () => Promise<SqlClient>) {}

  readonly get = (): Promise<SqlClient> => {
    this.client ??= this.open();
    return this.client;
  };

  /** `probe` over this connection, which is dropped when the probe fails. */
  guard(probe: Probe): Probe {
    return async (signal) => {
      try {
        return await probe(signal);
      } catch (err) {
        this.drop();
        throw err;
      }
    };
  }

  /** Forgets the connection and closes it in the background (closing a dead peer's socket may hang). */
  drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.then(
      (c) => c.close(),
      () => {},
    );
  }
}
