/**
 * The loss detector (issue #16): a pure state machine per peer, driven by probe rounds and an
 * injected clock. It decides nothing on one observation: a peer is `lost` only when every probe
 * of it has failed for longer than `lostAfterMs`, every other observer that is still reachable
 * agrees, and the peer's own witness heartbeat (in the object store) has gone stale. A peer that
 * does not answer but keeps writing its witness heartbeat is `partitioned`, never `lost`; while
 * this observer cannot read the witness at all, no verdict is reached. A
 * verdict is kept while the peer is `recovering` (`verdict`): one good round never reverses it.
 */

export type PeerState = 'healthy' | 'suspect' | 'lost' | 'partitioned' | 'recovering';

export interface DetectorConfig {
  /** how long every probe must fail before a healthy peer is suspect (default 0: the first failed round) */
  readonly suspectAfterMs?: number;
  /** how long every probe must fail before a verdict (lost or partitioned) */
  readonly lostAfterMs: number;
  /** how long every probe must succeed before a lost or partitioned peer is healthy again */
  readonly recoverAfterMs: number;
  /** a witness heartbeat older than this is stale */
  readonly witnessStaleMs: number;
}

/** One probe round of one peer, as this observer saw it. */
export interface Round {
  readonly at: number;
  /** true when any probe of the peer answered (TCP, SQL state, write, daemon health, brick) */
  readonly reachable: boolean;
  /** age of the peer's newest witness heartbeat, or null when it never wrote one */
  readonly witnessAgeMs: number | null;
  /**
   * false when this observer cannot read the witness now (the object store does not answer):
   * staleness is then unknown, and no verdict is reached or changed (default true)
   */
  readonly witnessKnown?: boolean;
  /**
   * What the other observers that this one can still reach (directly or through their fresh
   * witness heartbeats) report of the peer: for how long they have not reached it (0: they reach
   * it). Empty when there is no other observer.
   */
  readonly others: readonly { readonly observer: string; readonly unreachableForMs: number }[];
}

export interface PeerView {
  readonly state: PeerState;
  /** when the current state began */
  readonly since: number;
  /** since when every probe has failed (undefined while the peer answers) */
  readonly failingSince?: number;
  /** since when every probe has answered again (while recovering) */
  readonly answeringSince?: number;
  /** the verdict a recovering peer returns to if it fails again */
  readonly verdict?: 'lost' | 'partitioned';
}

export interface Transition {
  readonly from: PeerState;
  readonly to: PeerState;
  readonly at: number;
  /** the facts the change rests on, for the log and the alert */
  readonly evidence: string;
}

export function initialView(at: number): PeerView {
  return { state: 'healthy', since: at };
}

/** The view after one round, and the transition it made, if any. */
export function step(view: PeerView, round: Round, config: DetectorConfig): { view: PeerView; transition?: Transition } {
  const failingSince = round.reachable ? undefined : (view.failingSince ?? round.at);
  const failingMs = failingSince === undefined ? 0 : Math.round(round.at - failingSince);
  const witnessFresh = round.witnessAgeMs !== null && round.witnessAgeMs < config.witnessStaleMs;
  const witness =
    round.witnessAgeMs === null ? 'no witness heartbeat' : `witness heartbeat ${Math.round(round.witnessAgeMs)} ms old`;
  const doubters = round.others.filter((o) => o.unreachableForMs < config.lostAfterMs).map((o) => o.observer);
  const go = (to: PeerState, evidence: string, extra: Partial<PeerView> = {}): { view: PeerView; transition: Transition } => ({
    view: { state: to, since: round.at, failingSince, ...extra },
    transition: { from: view.state, to, at: round.at, evidence },
  });
  const stay = (extra: Partial<PeerView> = {}): { view: PeerView } => ({ view: { ...view, failingSince, ...extra } });
  // a verdict once every probe has failed long enough: lost only when the witness and the other observers agree
  const verdict = (): 'lost' | 'partitioned' | undefined => {
    if (failingMs < config.lostAfterMs || round.witnessKnown === false) return undefined;
    if (witnessFresh) return 'partitioned';
    return doubters.length === 0 ? 'lost' : undefined;
  };
  const why = (to: 'lost' | 'partitioned'): string =>
    to === 'partitioned'
      ? `every probe failed for ${failingMs} ms, but its ${witness}: it is alive and cut off from this observer`
      : `every probe failed for ${failingMs} ms, ${witness}${round.others.length ? `, ${round.others.map((o) => o.observer).join(', ')} agree` : ''}`;

  switch (view.state) {
    case 'healthy':
      if (round.reachable || failingMs < (config.suspectAfterMs ?? 0)) return stay();
      return go('suspect', failingMs === 0 ? 'a probe round failed' : `every probe failed for ${failingMs} ms`);
    case 'suspect': {
      if (round.reachable) return go('healthy', `answered again after ${failingMs} ms`);
      const to = verdict();
      return to ? go(to, why(to), { verdict: to }) : stay();
    }
    case 'lost':
    case 'partitioned': {
      if (round.reachable)
        return go('recovering', `answered again after being ${view.state}`, { verdict: view.state, answeringSince: round.at });
      // a partitioned peer whose witness heartbeat stops, with every other observer agreeing, is lost
      if (view.state === 'partitioned' && verdict() === 'lost') return go('lost', why('lost'), { verdict: 'lost' });
      return stay();
    }
    case 'recovering': {
      const back = view.verdict ?? 'lost';
      if (!round.reachable) return go(back, `failed again while recovering: back to ${back}`, { verdict: back });
      const answeringSince = view.answeringSince ?? round.at;
      if (round.at - answeringSince >= config.recoverAfterMs)
        return go('healthy', `every probe answered for ${Math.round(round.at - answeringSince)} ms`, {
          answeringSince: undefined,
          verdict: undefined,
        });
      return stay({ answeringSince });
    }
  }
}

/**
 * Whether this observer is the minority of a partition: it reaches none of its peers, but their
 * witness heartbeats are fresh (they are alive and see each other). Such a node must never act
 * on its verdicts.
 */
export function isMinority(rounds: readonly Round[], config: DetectorConfig): boolean {
  return (
    rounds.length > 0 && rounds.every((r) => !r.reachable && r.witnessAgeMs !== null && r.witnessAgeMs < config.witnessStaleMs)
  );
}
