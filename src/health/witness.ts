import { PermanentError } from '../lib/errors.js';
import type { PeerState } from './detector.js';

/**
 * The witness: every daemon writes a small heartbeat object to the object store (outside the
 * cluster) every few seconds and reads the others'. A peer that no one reaches but whose
 * heartbeat keeps changing is alive and cut off (partitioned), not lost.
 */
export interface Heartbeat {
  readonly node: string;
  /** grows by one per write: how readers tell a live writer from a stale object, whatever the clocks say */
  readonly seq: number;
  /** the writer's clock, for people; freshness never depends on it */
  readonly at: string;
  /**
   * its own Galera state; state `''`: its server is stopped, and uuid/seqno are the position its
   * datadir holds (null: not known yet), or `datadir: 'empty'` when it holds nothing at all
   */
  readonly galera: {
    readonly state: string;
    readonly uuid: string | null;
    readonly seqno: number | null;
    readonly datadir?: 'empty';
  } | null;
  /** what this node sees of each peer */
  readonly sees: Readonly<Record<string, PeerState>>;
  /** the same, with since when and on what evidence (what other observers show and weigh) */
  readonly reports?: Readonly<Record<string, PeerReport>>;
  /** the writer reaches none of its peers while their heartbeats are fresh */
  readonly minority?: boolean;
}

/** One observer's verdict on one peer, as its heartbeat carries it. */
export interface PeerReport {
  readonly state: PeerState;
  /** ISO time the state began, on the writer's clock */
  readonly since: string;
  /** for how long every probe has failed when the heartbeat was written (0: the peer answers) */
  readonly failingForMs: number;
  /** why it is in this state */
  readonly reason: string;
  /** the last probe round, in words */
  readonly evidence: string;
}

/** The object store as the witness needs it (the app adapts an ObjectStore). */
export interface WitnessStore {
  write(key: string, body: Buffer): Promise<void>;
  /** undefined when there is no such object */
  read(key: string): Promise<Buffer | undefined>;
}

export interface PeerHeartbeat {
  readonly heartbeat: Heartbeat | undefined;
  /** time since its seq last changed, on the reader's clock; null before the reader saw it change */
  readonly ageMs: number | null;
}

export function heartbeatKey(cluster: string, node: string): string {
  return `witness/${cluster}/${node}.json`;
}

export class Witness {
  private seq = 0;
  private readonly seen = new Map<string, { seq: number; changedAt: number }>();

  constructor(
    private readonly store: WitnessStore,
    private readonly cluster: string,
    private readonly node: string,
    /** monotonic milliseconds */
    private readonly now: () => number,
  ) {}

  async publish(view: Omit<Heartbeat, 'node' | 'seq' | 'at'>): Promise<Heartbeat> {
    // seq continues across restarts from what this node last wrote
    if (this.seq === 0) this.seq = (await this.readHeartbeat(this.node))?.seq ?? 0;
    const heartbeat: Heartbeat = { node: this.node, seq: ++this.seq, at: new Date().toISOString(), ...view };
    await this.store.write(heartbeatKey(this.cluster, this.node), Buffer.from(JSON.stringify(heartbeat)));
    return heartbeat;
  }

  /** Each peer's newest heartbeat and how long ago, on this reader's clock, it last changed. */
  async read(peers: readonly string[]): Promise<Map<string, PeerHeartbeat>> {
    const out = new Map<string, PeerHeartbeat>();
    for (const peer of peers) {
      const heartbeat = await this.readHeartbeat(peer);
      const at = this.now();
      const before = this.seen.get(peer);
      if (heartbeat && (!before || heartbeat.seq !== before.seq)) {
        // the first sighting proves nothing about freshness: the object may be old
        this.seen.set(peer, { seq: heartbeat.seq, changedAt: before ? at : Number.NaN });
      }
      const changedAt = this.seen.get(peer)?.changedAt;
      out.set(peer, { heartbeat, ageMs: changedAt === undefined || Number.isNaN(changedAt) ? null : at - changedAt });
    }
    return out;
  }

  private async readHeartbeat(node: string): Promise<Heartbeat | undefined> {
    const key = heartbeatKey(this.cluster, node);
    const body = await this.store.read(key);
    if (!body) return undefined;
    try {
      const value = JSON.parse(body.toString('utf8')) as Heartbeat;
      if (value.node !== node || !Number.isInteger(value.seq)) throw new Error('not a heartbeat');
      return value;
    } catch (err) {
      throw new PermanentError(`witness object '${key}': not a heartbeat (${(err as Error).message})`);
    }
  }
}
