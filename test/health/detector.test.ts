import test from 'ava';
import {
  type DetectorConfig,
  initialView,
  isMinority,
  type PeerState,
  type PeerView,
  type Round,
  step,
  type Transition,
} from '../../src/health/detector.js';

const CONFIG: DetectorConfig = { lostAfterMs: 5_000, recoverAfterMs: 3_000, witnessStaleMs: 10_000 };

/** Runs one round per second from t=0; `round(t)` describes the round at t ms. */
function run(
  seconds: number,
  round: (t: number) => Omit<Round, 'at'>,
): { states: PeerState[]; transitions: Transition[]; view: PeerView } {
  let view = initialView(0);
  const states: PeerState[] = [];
  const transitions: Transition[] = [];
  for (let t = 1000; t <= seconds * 1000; t += 1000) {
    const next = step(view, { at: t, ...round(t) }, CONFIG);
    view = next.view;
    if (next.transition) transitions.push(next.transition);
    states.push(view.state);
  }
  return { states, transitions, view };
}

const up = { reachable: true, witnessAgeMs: 500, others: [{ observer: 'n3', unreachableForMs: 0 }] };
/** the peer is gone: no answer, its witness heartbeat ages from t0, the other observer agrees */
const gone = (t0: number) => (t: number) => ({
  reachable: false,
  witnessAgeMs: t - t0 + 500,
  others: [{ observer: 'n3', unreachableForMs: t - t0 }],
});

test('whole-server loss: lost once every probe failed past the threshold, the witness is stale and the other observer agrees', (t) => {
  const { transitions, view } = run(30, (time) => (time <= 2000 ? up : gone(2000)(time)));
  t.is(view.state, 'lost');
  t.deepEqual(
    transitions.map((x) => [x.from, x.to, x.at]),
    [
      ['healthy', 'suspect', 3000],
      // failing since 3 s; its witness heartbeat turns stale at 12 s: until then the peer may be alive
      ['suspect', 'partitioned', 8000],
      ['partitioned', 'lost', 12000],
    ],
  );
  t.regex(transitions.at(-1)?.evidence ?? '', /every probe failed for 9000 ms, witness heartbeat 10500 ms old, n3 agree/);
});

test('ten link blips shorter than the threshold: never a verdict', (t) => {
  // 4 s down, 2 s up, ten times
  const { states } = run(60, (time) => ((time / 1000) % 6 < 4 ? { ...gone(0)(time), witnessAgeMs: 800 } : up));
  t.false(states.includes('lost'));
  t.false(states.includes('partitioned'));
  t.true(states.includes('suspect'));
});

test('unreachable but writing its witness heartbeat: partitioned, never lost', (t) => {
  const { states, view } = run(60, (time) => ({ ...gone(0)(time), witnessAgeMs: 1_000 }));
  t.is(view.state, 'partitioned');
  t.false(states.includes('lost'));
});

test('another observer still reaches the peer: no verdict (this observer may be the one cut off)', (t) => {
  const { states } = run(60, () => ({
    reachable: false,
    witnessAgeMs: 60_000,
    others: [{ observer: 'n3', unreachableForMs: 0 }],
  }));
  t.deepEqual([...new Set(states)], ['suspect']);
});

test('a peer that never wrote a witness heartbeat and is unreachable everywhere is lost', (t) => {
  const { view } = run(10, (time) => ({
    reachable: false,
    witnessAgeMs: null,
    others: [{ observer: 'n3', unreachableForMs: time }],
  }));
  t.is(view.state, 'lost');
});

test('the way back: one good round makes it recovering, a failure returns the verdict, a stable run makes it healthy', (t) => {
  const script = (time: number): Omit<Round, 'at'> => {
    if (time <= 20_000) return gone(0)(time);
    if (time === 21_000) return up; // one good round
    if (time === 22_000) return gone(0)(time); // fails again
    return up; // back for good from 23 s
  };
  const { transitions, view } = run(30, script);
  t.is(view.state, 'healthy');
  t.deepEqual(
    transitions.slice(-4).map((x) => [x.from, x.to, x.at]),
    [
      ['lost', 'recovering', 21000],
      ['recovering', 'lost', 22000],
      ['lost', 'recovering', 23000],
      ['recovering', 'healthy', 26000],
    ],
  );
});

test('an observer that reaches no peer while their witness heartbeats are fresh is the minority', (t) => {
  const cutOff: Round = { at: 1, reachable: false, witnessAgeMs: 900, others: [] };
  t.true(isMinority([cutOff, cutOff], CONFIG));
  t.false(isMinority([cutOff, { ...cutOff, witnessAgeMs: 60_000 }], CONFIG), 'one peer is really gone');
  t.false(isMinority([cutOff, { ...cutOff, reachable: true }], CONFIG));
  t.false(isMinority([], CONFIG));
});

test('suspectAfterMs: a failed round shorter than it leaves the peer healthy', (t) => {
  let view = initialView(0);
  const config = { ...CONFIG, suspectAfterMs: 2_000 };
  const states: PeerState[] = [];
  for (let at = 1000; at <= 5000; at += 1000) {
    view = step(view, { at, ...gone(1000)(at) }, config).view;
    states.push(view.state);
  }
  t.deepEqual(states, ['healthy', 'healthy', 'suspect', 'suspect', 'suspect']);
});

test('while the witness cannot be read, no verdict is reached, and a verdict reached stays', (t) => {
  const unknown = (time: number) => ({ ...gone(0)(time), witnessKnown: false });
  t.deepEqual([...new Set(run(60, unknown).states)], ['suspect']);
  const { states } = run(60, (time) => (time <= 20_000 ? gone(0)(time) : unknown(time)));
  t.is(states.at(-1), 'lost');
  t.false(states.slice(20).includes('suspect'));
});
