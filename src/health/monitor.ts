import { errorMessage } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import {
  type DetectorConfig,
  initialView,
  isMinority,
  type PeerState,
  type PeerView,
  type Round,
  step,
  type Transition,
} from './detector.js';
import { type Probe, type ProbeName, type ProbeResult, ProbeSet } from './probes.js';
import type { Heartbeat, PeerHeartbeat, PeerReport, Witness } from './witness.js';

/**
 * The loss monitor of one daemon (issue #16): probes every peer every interval (a round never
 * starts while the previous one runs, and each probe has its deadline), publishes this node's
 * witness heartbeat and reads the others' every witness interval, feeds the detector, and keeps
 * the view `GET /v1/cluster` shows. Probes go to the peers directly, so it keeps working while
 * the local database is down; a witness that cannot be read or written is evidence (no verdict
 * is reached without it), never a failure of the monitor.
 */

export interface MonitoredPeer {
  readonly name: string;
  readonly probes: Partial<Record<ProbeName, Probe>>;
}

/** A change of a peer's state in this observer's detector. */
export interface NodeTransition extends Transition {
  /** the peer */
  readonly node: string;
  readonly observer: string;
  /** the verdict the peer had before (set when it leaves lost, partitioned or recovering) */
  readonly previousVerdict?: 'lost' | 'partitioned';
  /** the probe round the change came with, in words */
  readonly probes: string;
}

export interface MonitorEvents {
  /** one peer's probe round ended */
  onProbes?(peer: string, results: readonly ProbeResult[]): void;
  /** a peer's state changed (the monitor has logged it) */
  onTransition?(transition: NodeTransition): void;
  /** this node became, or stopped being, the minority of a partition */
  onMinority?(minority: boolean, evidence: string): void;
}

export interface MonitorOptions {
  /** this node: the observer */
  readonly node: string;
  readonly peers: readonly MonitoredPeer[];
  readonly intervalMs: number;
  readonly probeTimeoutMs: number;
  readonly witnessIntervalMs: number;
  readonly detector: DetectorConfig;
  readonly witness: Pick<Witness, 'publish' | 'read'>;
  /** this node's Galera state for its heartbeat; null while the local database is down */
  readonly localGalera: () => Promise<Heartbeat['galera']>;
  readonly events?: MonitorEvents;
  readonly logger?: Logger;
  /** epoch milliseconds that never go back (default performance.timeOrigin + performance.now()) */
  readonly now?: () => number;
}

/** One observer's verdict on one node. */
export interface Verdict {
  readonly state: PeerState;
  /** ISO time the state began (on the observer's clock) */
  readonly since: string;
  /** why it is in this state */
  readonly reason: string;
  /** the observer's last probe round of the node, in words */
  readonly evidence: string;
  /** `probes`: this daemon's own detector; `witness`: read from that observer's heartbeat */
  readonly source: 'probes' | 'witness';
  /** witness only: the heartbeat has not changed for witnessStaleMs (or never changed since this daemon started reading) */
  readonly stale?: boolean;
}

export interface NodeRow {
  readonly name: string;
  /** keyed by observer; a node does not observe itself */
  readonly observers: Readonly<Record<string, Verdict>>;
  /** this daemon's last probes of the node (absent for itself) */
  readonly probes?: readonly ProbeResult[];
  /** the node's witness heartbeat as this daemon last read (or, for itself, wrote) it */
  readonly heartbeat: {
    readonly seq: number;
    readonly at: string;
    /** time since its seq last changed, on this daemon's clock; null before it was seen changing */
    readonly ageMs: number | null;
    readonly galera: Heartbeat['galera'];
  } | null;
}

export interface ClusterView {
  readonly observer: string;
  readonly at: string;
  /** this node reaches none of its peers while their heartbeats are fresh: it must never act on its verdicts */
  readonly minority: boolean;
  readonly witness: {
    /** this node's last heartbeat write and read of the others' (ISO), and why the last attempt failed */
    readonly writtenAt: string | null;
    readonly writeError: string | null;
    readonly readAt: string | null;
    readonly readError: string | null;
  };
  readonly nodes: readonly NodeRow[];
}

interface Track {
  readonly name: string;
  readonly set: ProbeSet;
  view: PeerView;
  reason: string;
  results: readonly ProbeResult[];
  reachable: boolean;
}

interface Heard extends PeerHeartbeat {
  /** when it was read (the age grows from there) */
  readonly readAt: number;
}

const monotonic = (): number => performance.timeOrigin + performance.now();

export class HealthMonitor {
  private readonly tracks: Track[];
  private readonly heard = new Map<string, Heard>();
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private started = false;
  private stopped = false;
  private minority = false;
  private goodReads = 0;
  private lastRead: { at: number; error: string | null } | undefined;
  private lastWrite: { at: number; error: string | null; heartbeat?: Heartbeat } | undefined;

  constructor(private readonly options: MonitorOptions) {
    this.logger = (options.logger ?? nullLogger).child({ component: 'health' });
    this.now = options.now ?? monotonic;
    const at = this.now();
    this.tracks = options.peers.map((p) => ({
      name: p.name,
      set: new ProbeSet(p.probes, options.probeTimeoutMs),
      view: initialView(at),
      reason: 'monitoring started',
      results: [],
      reachable: true,
    }));
  }

  /** Starts both loops (their first rounds at once). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.loop(this.options.intervalMs, () => this.probeRound());
    this.loop(this.options.witnessIntervalMs, () => this.witnessRound());
  }

  /** Stops scheduling; a round in flight ends at its deadline and changes nothing any more. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** One probe round of every peer, then one detector step each. */
  async probeRound(): Promise<void> {
    const results = await Promise.all(this.tracks.map((t) => t.set.round()));
    if (this.stopped) return;
    const at = this.now();
    for (const [i, t] of this.tracks.entries()) {
      t.results = results[i] ?? [];
      t.reachable = t.results.some((r) => r.ok);
      this.options.events?.onProbes?.(t.name, t.results);
    }
    const rounds = this.tracks.map((t) => this.roundOf(t, at));
    for (const [i, t] of this.tracks.entries()) this.advance(t, rounds[i] as Round);
    const known = this.witnessKnown(at);
    // the minority only once the verdict's threshold has passed for every peer (a link blip is not a partition)
    this.setMinority(
      known && isMinority(rounds, this.options.detector) && this.tracks.every((t) => t.view.state === 'partitioned'),
      `no peer answers (${this.tracks.map((t) => t.name).join(', ')}), yet their witness heartbeats are fresh`,
    );
  }

  /** Publishes this node's heartbeat and reads the others'; a failure is recorded, never thrown. */
  async witnessRound(): Promise<void> {
    const names = this.tracks.map((t) => t.name);
    const [written, read] = await Promise.allSettled([
      this.options
        .localGalera()
        .catch(() => null)
        .then((galera) => this.options.witness.publish({ galera, ...this.ownReports() })),
      this.options.witness.read(names),
    ]);
    const at = this.now();
    const writeError = written.status === 'rejected' ? errorMessage(written.reason) : null;
    if (writeError !== (this.lastWrite?.error ?? null)) {
      if (writeError) this.logger.warn('witness heartbeat not written', { error: writeError });
      else this.logger.info('witness heartbeat written again');
    }
    this.lastWrite = {
      at,
      error: writeError,
      ...(written.status === 'fulfilled' ? { heartbeat: written.value } : { heartbeat: this.lastWrite?.heartbeat }),
    };
    const readError = read.status === 'rejected' ? errorMessage(read.reason) : null;
    if (readError !== (this.lastRead?.error ?? null)) {
      if (readError) this.logger.warn('witness heartbeats not readable: no verdict can be reached', { error: readError });
      else this.logger.info('witness heartbeats readable again');
    }
    this.lastRead = { at, error: readError };
    if (read.status === 'fulfilled') {
      this.goodReads++;
      for (const [peer, h] of read.value) this.heard.set(peer, { ...h, readAt: at });
    } else {
      this.goodReads = 0;
    }
  }

  /** Every node × every observer: this daemon's own verdicts and what the others' heartbeats report. */
  view(): ClusterView {
    const at = this.now();
    const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
    const own = this.lastWrite?.heartbeat;
    const rows: NodeRow[] = [];
    for (const name of [this.options.node, ...this.tracks.map((t) => t.name)]) {
      const observers: Record<string, Verdict> = {};
      const track = this.tracks.find((t) => t.name === name);
      if (track) observers[this.options.node] = { ...this.report(track, at), source: 'probes' };
      for (const observer of this.tracks.map((t) => t.name)) {
        const report = this.heard.get(observer)?.heartbeat?.reports?.[name];
        if (observer === name || !report) continue;
        const { failingForMs: _f, ...verdict } = report;
        observers[observer] = { ...verdict, source: 'witness', stale: !this.fresh(observer, at) };
      }
      const heard = this.heard.get(name);
      const heartbeat =
        name === this.options.node
          ? own && { seq: own.seq, at: own.at, ageMs: at - (this.lastWrite?.at ?? at), galera: own.galera }
          : heard?.heartbeat && {
              seq: heard.heartbeat.seq,
              at: heard.heartbeat.at,
              ageMs: this.witnessAge(name, at),
              galera: heard.heartbeat.galera,
            };
      rows.push({ name, observers, ...(track ? { probes: track.results } : {}), heartbeat: heartbeat ?? null });
    }
    return {
      observer: this.options.node,
      at: new Date(at).toISOString(),
      minority: this.minority,
      witness: {
        writtenAt: iso(this.lastWrite?.heartbeat ? this.lastWrite.at : undefined),
        writeError: this.lastWrite?.error ?? null,
        readAt: iso(this.lastRead?.at),
        readError: this.lastRead?.error ?? null,
      },
      nodes: rows,
    };
  }

  private loop(everyMs: number, fn: () => Promise<void>): void {
    const tick = async (): Promise<void> => {
      const started = performance.now();
      try {
        await fn();
      } catch (err) {
        this.logger.error('health round failed', { error: errorMessage(err) });
      }
      if (this.stopped) return;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          void tick();
        },
        Math.max(0, everyMs - (performance.now() - started)),
      );
      this.timers.add(timer);
    };
    void tick();
  }

  /** The detector's input for one peer: this round, its witness, and what the other observers say of it. */
  private roundOf(track: Track, at: number): Round {
    const others: { observer: string; unreachableForMs: number }[] = [];
    for (const o of this.tracks) {
      if (o === track) continue;
      const fresh = this.fresh(o.name, at);
      const report = fresh ? this.heard.get(o.name)?.heartbeat?.reports?.[track.name] : undefined;
      if (report) {
        const age = this.witnessAge(o.name, at) ?? 0;
        others.push({ observer: o.name, unreachableForMs: report.failingForMs === 0 ? 0 : report.failingForMs + age });
      } else if (fresh || o.reachable) {
        // an observer this one reaches, but whose view it cannot read: it may still reach the peer
        others.push({ observer: o.name, unreachableForMs: 0 });
      }
    }
    return {
      at,
      reachable: track.reachable,
      witnessAgeMs: this.witnessAge(track.name, at),
      witnessKnown: this.witnessKnown(at),
      others,
    };
  }

  private advance(track: Track, round: Round): void {
    const before = track.view;
    const { view, transition } = step(before, round, this.options.detector);
    track.view = view;
    if (!transition) return;
    track.reason = transition.evidence;
    const probes = describeProbes(track.results);
    const event: NodeTransition = {
      ...transition,
      node: track.name,
      observer: this.options.node,
      ...(before.verdict ? { previousVerdict: before.verdict } : {}),
      probes,
    };
    const fields = { peer: track.name, from: transition.from, to: transition.to, evidence: transition.evidence, probes };
    if (transition.to === 'healthy' || transition.to === 'recovering') this.logger.info('node state changed', fields);
    else this.logger.warn('node state changed', fields);
    this.options.events?.onTransition?.(event);
  }

  private setMinority(minority: boolean, evidence: string): void {
    if (minority === this.minority || this.stopped) return;
    this.minority = minority;
    if (minority) this.logger.warn('this node is the minority of a partition: its verdicts must not be acted on', { evidence });
    else this.logger.info('this node is no longer the minority of a partition');
    this.options.events?.onMinority?.(
      minority,
      minority ? evidence : 'a peer answers again, or its witness heartbeat went stale',
    );
  }

  private ownReports(): Pick<Heartbeat, 'sees' | 'reports' | 'minority'> {
    const at = this.now();
    const reports = Object.fromEntries(this.tracks.map((t) => [t.name, this.report(t, at)]));
    return {
      sees: Object.fromEntries(this.tracks.map((t) => [t.name, t.view.state])),
      reports,
      minority: this.minority,
    };
  }

  private report(track: Track, at: number): PeerReport {
    return {
      state: track.view.state,
      since: new Date(track.view.since).toISOString(),
      failingForMs: track.view.failingSince === undefined ? 0 : at - track.view.failingSince,
      reason: track.reason,
      evidence: track.results.length ? describeProbes(track.results) : 'no probe round yet',
    };
  }

  /** Age of a node's heartbeat now: its age when read plus the time since the read. */
  private witnessAge(node: string, at: number): number | null {
    const h = this.heard.get(node);
    return h?.ageMs == null ? null : h.ageMs + (at - h.readAt);
  }

  private fresh(node: string, at: number): boolean {
    const age = this.witnessAge(node, at);
    return age !== null && age < this.options.detector.witnessStaleMs;
  }

  /** Staleness is known after two good reads in a row (one sighting proves nothing), the last one recent. */
  private witnessKnown(at: number): boolean {
    return (
      this.goodReads >= 2 &&
      this.lastRead !== undefined &&
      this.lastRead.error === null &&
      at - this.lastRead.at < this.options.detector.witnessStaleMs
    );
  }
}

/** `tcp ok 1 ms · galera ok 3 ms (Primary, Synced, size 3) · write failed 800 ms (no answer within 800 ms)` */
export function describeProbes(results: readonly ProbeResult[]): string {
  return results.map((r) => `${r.probe} ${r.ok ? 'ok' : 'failed'} ${r.ms} ms (${r.detail})`).join(' · ');
}
