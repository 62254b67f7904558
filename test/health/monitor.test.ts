import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { createAlerter } from '../../src/app/alerts.js';
import type { PeerState } from '../../src/health/detector.js';
import { HealthMonitor, type NodeTransition } from '../../src/health/monitor.js';
import type { Probe } from '../../src/health/probes.js';
import { type Heartbeat, Witness, type WitnessStore } from '../../src/health/witness.js';
import { MemoryLogger } from '../../src/lib/logger.js';

/** An object store in memory that can be taken down. */
class FakeStore implements WitnessStore {
  readonly objects = new Map<string, Buffer>();
  down = false;
  async write(key: string, body: Buffer): Promise<void> {
    if (this.down) throw new Error('object store: connect ECONNREFUSED');
    this.objects.set(key, body);
  }
  async read(key: string): Promise<Buffer | undefined> {
    if (this.down) throw new Error('object store: connect ECONNREFUSED');
    return this.objects.get(key);
  }
}

const DETECTOR = { lostAfterMs: 5_000, recoverAfterMs: 3_000, witnessStaleMs: 6_000 };

/**
 * n1 observes n2 and n3 on a fake clock: a probe round per second, a witness round every two.
 * `up` says which peers answer, `writing` which peers keep writing their heartbeats; a writing
 * peer reports what it sees of the others as `sees` says.
 */
function cluster() {
  let clock = 0;
  const now = (): number => clock;
  const store = new FakeStore();
  const up: Record<string, boolean> = { n2: true, n3: true };
  const writing: Record<string, boolean> = { n2: true, n3: true };
  const sees: Record<string, Record<string, { state: PeerState; failingSince?: number }>> = {
    n2: { n1: { state: 'healthy' }, n3: { state: 'healthy' } },
    n3: { n1: { state: 'healthy' }, n2: { state: 'healthy' } },
  };
  const probe =
    (peer: string): Probe =>
    async () => {
      if (!up[peer]) throw new Error(`connect ECONNREFUSED ${peer}:3306`);
      return `${peer}:3306 accepts`;
    };
  const logger = new MemoryLogger();
  const logged = logger.records;
  const transitions: NodeTransition[] = [];
  const minority: boolean[] = [];
  const posted: { kind: string; text: string }[] = [];
  const alerter = createAlerter({
    url: 'http://alerts.invalid/hook',
    node: 'n1',
    retries: 0,
    fetchImpl: async (_url, init) => {
      posted.push(JSON.parse(String(init?.body)) as { kind: string; text: string });
      return new Response('ok');
    },
  });
  const monitor = new HealthMonitor({
    node: 'n1',
    peers: ['n2', 'n3'].map((name) => ({ name, probes: { tcp: probe(name), galera: probe(name) } })),
    intervalMs: 1000,
    probeTimeoutMs: 500,
    witnessIntervalMs: 2000,
    detector: DETECTOR,
    witness: new Witness(store, 'c1', 'n1', now),
    localGalera: async () => ({ state: 'Synced', uuid: 'u', seqno: 7 }),
    events: {
      onTransition: (t) => {
        transitions.push(t);
        if (t.to === 'lost' || t.to === 'partitioned')
          void alerter.alert({ kind: `node-${t.to}`, peer: t.node, since: new Date(t.at).toISOString(), evidence: t.evidence });
        if (t.to === 'healthy' && t.previousVerdict)
          void alerter.alert({ kind: 'node-healthy', peer: t.node, was: t.previousVerdict, evidence: t.evidence });
      },
      onMinority: (m, evidence) => {
        minority.push(m);
        void alerter.alert(
          m
            ? { kind: 'node-minority', since: new Date(clock).toISOString(), evidence }
            : { kind: 'node-minority-resolved', evidence },
        );
      },
    },
    logger,
    now,
  });
  const writers = Object.fromEntries(['n2', 'n3'].map((n) => [n, new Witness(store, 'c1', n, now)]));
  const publishPeers = async (): Promise<void> => {
    for (const [node, w] of Object.entries(writers)) {
      if (!writing[node] || store.down) continue;
      const reports: NonNullable<Heartbeat['reports']> = Object.fromEntries(
        Object.entries(sees[node] ?? {}).map(([peer, s]) => [
          peer,
          {
            state: s.state,
            since: new Date(0).toISOString(),
            failingForMs: s.failingSince === undefined ? 0 : clock - s.failingSince,
            reason: 'test',
            evidence: `${peer} as ${node} sees it`,
          },
        ]),
      );
      await w.publish({
        galera: null,
        sees: Object.fromEntries(Object.entries(sees[node] ?? {}).map(([p, s]) => [p, s.state])),
        reports,
      });
    }
  };
  /** runs the monitor for `seconds` more seconds */
  const run = async (seconds: number, each?: (t: number) => void): Promise<void> => {
    for (let i = 0; i < seconds; i++) {
      clock += 1000;
      each?.(clock);
      if (clock % 2000 === 0) {
        await publishPeers();
        await monitor.witnessRound();
      }
      await monitor.probeRound();
    }
    await alerter.flush();
  };
  const state = (peer: string): PeerState | undefined => monitor.view().nodes.find((n) => n.name === peer)?.observers.n1?.state;
  return { monitor, store, up, writing, sees, run, state, transitions, minority, posted, logged, now: () => clock };
}

test('whole-server loss: lost once, alerted once; back: recovering, then healthy, resolved once', async (t) => {
  const c = cluster();
  await c.run(6);
  t.is(c.state('n2'), 'healthy');
  // n2 goes: no answer, no heartbeat; n3 reports it unreachable from the same moment
  const goneAt = c.now();
  c.up.n2 = false;
  c.writing.n2 = false;
  (c.sees.n3 as Record<string, { state: PeerState; failingSince?: number }>).n2 = { state: 'suspect', failingSince: goneAt };
  await c.run(20);
  t.is(c.state('n2'), 'lost');
  t.is(c.state('n3'), 'healthy');
  const toLost = c.transitions.filter((x) => x.node === 'n2' && x.to === 'lost');
  t.is(toLost.length, 1, 'the transition to lost is emitted once');
  t.deepEqual(
    c.posted.map((p) => p.kind),
    c.transitions.some((x) => x.to === 'partitioned') ? ['node-partitioned', 'node-lost'] : ['node-lost'],
  );
  t.regex(
    c.posted.at(-1)?.text ?? '',
    /node n2 is LOST since .*every probe failed for \d+ ms, witness heartbeat \d+ ms old, n3 agree/,
  );
  const lostLog = c.logged.find((l) => l.message === 'node state changed' && l.fields.to === 'lost');
  t.is(lostLog?.level, 'warn');
  t.regex(String(lostLog?.fields.probes), /tcp failed \d+ ms \(connect ECONNREFUSED n2:3306\)/);
  t.is(lostLog?.fields.peer, 'n2');

  // one good round is not enough; a stable run is
  c.up.n2 = true;
  c.writing.n2 = true;
  await c.run(1);
  t.is(c.state('n2'), 'recovering');
  t.is(c.posted.filter((p) => p.kind === 'node-healthy').length, 0, 'not resolved by one good round');
  await c.run(5);
  t.is(c.state('n2'), 'healthy');
  t.deepEqual(
    c.posted.filter((p) => p.kind === 'node-healthy').map((p) => p.text.replace(/^.*: node/, 'node')),
    ['node n2 is healthy again (was lost): every probe answered for 3000 ms'],
  );
  // the view: n2 as n1 sees it (probes) and as n3 reports it (witness)
  const row = c.monitor.view().nodes.find((n) => n.name === 'n2');
  t.is(row?.observers.n1?.source, 'probes');
  t.is(row?.observers.n3?.source, 'witness');
  t.regex(row?.observers.n1?.evidence ?? '', /^tcp ok \d+ ms \(n2:3306 accepts\) · galera ok/);
  t.deepEqual(
    row?.probes?.map((p) => [p.probe, p.ok]),
    [
      ['tcp', true],
      ['galera', true],
    ],
  );
});

test('link blips shorter than the threshold: suspect at most, no verdict, no alert', async (t) => {
  const c = cluster();
  await c.run(4);
  for (let i = 0; i < 10; i++) {
    c.up.n2 = false;
    await c.run(3);
    c.up.n2 = true;
    await c.run(2);
  }
  t.false(c.transitions.some((x) => x.to === 'lost' || x.to === 'partitioned'));
  t.true(c.transitions.some((x) => x.to === 'suspect'));
  t.deepEqual(c.posted, []);
});

test('this node cut off briefly (both peers unreachable, shorter than the threshold): not the minority, no alert', async (t) => {
  const c = cluster();
  await c.run(4);
  for (let i = 0; i < 5; i++) {
    c.up.n2 = false;
    c.up.n3 = false;
    await c.run(2);
    c.up.n2 = true;
    c.up.n3 = true;
    await c.run(2);
  }
  t.deepEqual(c.minority, [], 'a blip of its own link is not a partition');
  t.deepEqual(c.posted, []);
});

test('partition: the peers, alive in the witness, are partitioned, and this node knows it is the minority', async (t) => {
  const c = cluster();
  await c.run(4);
  c.up.n2 = false;
  c.up.n3 = false;
  await c.run(10);
  t.is(c.state('n2'), 'partitioned');
  t.is(c.state('n3'), 'partitioned');
  t.true(c.monitor.view().minority);
  t.deepEqual(c.minority, [true], 'minority reported once');
  t.false(c.transitions.some((x) => x.to === 'lost'));
  t.deepEqual(c.posted.map((p) => p.kind).sort(), ['node-minority', 'node-partitioned', 'node-partitioned']);
  // its own heartbeat says so too
  const own = JSON.parse(c.store.objects.get('witness/c1/n1.json')?.toString() ?? '{}') as Heartbeat;
  t.true(own.minority);
  t.is(own.reports?.n2?.state, 'partitioned');
  c.up.n2 = true;
  c.up.n3 = true;
  await c.run(6);
  t.deepEqual(c.minority, [true, false]);
  t.deepEqual(
    c.posted.map((p) => p.kind).filter((k) => k.endsWith('resolved') || k === 'node-healthy'),
    ['node-minority-resolved', 'node-healthy', 'node-healthy'],
  );
});

test('object store down: witness errors are evidence, probes go on, no verdict without the witness', async (t) => {
  const c = cluster();
  await c.run(4);
  c.store.down = true;
  c.up.n2 = false;
  c.writing.n2 = false;
  await c.run(30);
  t.is(c.state('n2'), 'suspect', 'unreachable, but staleness of its witness is unknown');
  t.is(c.state('n3'), 'healthy');
  const view = c.monitor.view();
  t.regex(view.witness.readError ?? '', /ECONNREFUSED/);
  t.regex(view.witness.writeError ?? '', /ECONNREFUSED/);
  t.is(c.logged.filter((l) => l.message.startsWith('witness heartbeats not readable')).length, 1, 'logged once, not every round');
  t.false(c.logged.some((l) => l.level === 'error'));
  // the store is back and n2 is still gone: now the verdict comes
  c.store.down = false;
  (c.sees.n3 as Record<string, { state: PeerState; failingSince?: number }>).n2 = { state: 'suspect', failingSince: 0 };
  await c.run(12);
  t.is(c.state('n2'), 'lost');
  t.true(c.logged.some((l) => l.message === 'witness heartbeats readable again'));
});

test('the local database down: the heartbeat says so, and the peers are still probed', async (t) => {
  const store = new FakeStore();
  let clock = 0;
  const monitor = new HealthMonitor({
    node: 'n1',
    peers: [{ name: 'n2', probes: { tcp: async () => 'ok' } }],
    intervalMs: 1000,
    probeTimeoutMs: 100,
    witnessIntervalMs: 2000,
    detector: DETECTOR,
    witness: new Witness(store, 'c1', 'n1', () => clock),
    localGalera: async () => {
      throw new Error("node 'n1': database unreachable");
    },
    now: () => clock,
  });
  clock = 1000;
  await monitor.witnessRound();
  await monitor.probeRound();
  const own = JSON.parse(store.objects.get('witness/c1/n1.json')?.toString() ?? '{}') as Heartbeat;
  t.is(own.galera, null);
  t.is(monitor.view().nodes.find((n) => n.name === 'n2')?.observers.n1?.state, 'healthy');
});

// serial: the fake-clock tests run on microtasks only and would starve this one's timers
test.serial('rounds never pile up: a slow probe holds the next round back, a hung one is not started twice', async (t) => {
  let inFlight = 0;
  let most = 0;
  let hungStarts = 0;
  let rounds = 0;
  const slow: Probe = async () => {
    inFlight++;
    most = Math.max(most, inFlight);
    await sleep(30);
    inFlight--;
    return 'slow';
  };
  const hung: Probe = () => {
    hungStarts++;
    return new Promise(() => {});
  };
  const monitor = new HealthMonitor({
    node: 'n1',
    peers: [{ name: 'n2', probes: { tcp: slow, galera: hung } }],
    intervalMs: 5,
    probeTimeoutMs: 40,
    witnessIntervalMs: 1000,
    detector: DETECTOR,
    witness: new Witness(new FakeStore(), 'c1', 'n1', () => 0),
    localGalera: async () => null,
    events: { onProbes: () => rounds++ },
  });
  monitor.start();
  await sleep(400);
  monitor.stop();
  const after = rounds;
  await sleep(100);
  t.is(most, 1, 'one round at a time');
  t.is(hungStarts, 1, 'the hung probe stays in flight and is never started again');
  t.true(rounds >= 5, `${rounds} rounds`);
  t.is(rounds, after, 'no round after stop');
  const probes = monitor.view().nodes.find((n) => n.name === 'n2')?.probes ?? [];
  t.deepEqual(
    probes.map((p) => [p.probe, p.ok, p.detail]),
    [
      ['tcp', true, 'slow'],
      ['galera', false, 'the previous probe is still in flight'],
    ],
  );
});
