import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { type Drill, type N, openDrill, state, testbed, waitUntil, watch, witnessStale } from '../helpers/drill.js';

// Loss detection on the real testbed, destructively (see test/helpers/drill.ts): these drills cut
// links, kill nodes and partition the cluster, so `npm test` runs them alone, after the rest of
// the suite; each leaves the cluster whole again.

async function drill(t: import('ava').ExecutionContext): Promise<Drill> {
  const d = await openDrill();
  t.teardown(() => d.close());
  return d;
}

const verdicts = (seen: Set<string>): string[] => [...seen].filter((s) => /:(lost|partitioned)$/.test(s));

test.serial('link blips shorter than the threshold (10 of them): no verdict anywhere, no alert', async (t) => {
  const d = await drill(t);
  const seen = await watch(d, [1, 2], async () => {
    for (let i = 0; i < 10; i++) {
      testbed('node-cut', 3);
      await sleep(2000);
      testbed('node-uncut', 3);
      await sleep(2500);
    }
  });
  t.log(`states seen: ${[...seen].sort().join(' ')}`);
  t.deepEqual(verdicts(seen), []);
  t.deepEqual(
    d.alerts.filter((a) => a.kind.startsWith('node-')),
    [],
  );
});

test.serial('a daemon that dies while its MariaDB keeps running is not a lost server', async (t) => {
  const d = await drill(t);
  const seen = await watch(d, [1, 2], async () => {
    d.daemons.get(3)?.child.kill('SIGKILL');
    await sleep(12_000);
  });
  t.deepEqual(verdicts(seen), [], [...seen].join(' '));
  t.true([...seen].includes('n3@n1:healthy'));
});

test.serial(
  'partition: the majority says partitioned, the isolated node knows it is the minority; no lost anywhere',
  async (t) => {
    const d = await drill(t);
    let minority = false;
    let partitioned = 0;
    const seen = await watch(d, [1, 2, 3], async () => {
      testbed('node-isolate', 1);
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const [v1, v2, v3] = await Promise.all([d.view(1), d.view(2), d.view(3)]);
        if (v1?.minority) minority = true;
        if (state(v2, 1, 2) === 'partitioned' && state(v3, 1, 3) === 'partitioned') partitioned++;
        await sleep(500);
      }
      testbed('node-heal', 1);
    });
    t.log(`states seen: ${[...seen].sort().join(' ')}`);
    t.true(minority, 'n1 knows it is the minority');
    t.true(partitioned > 0, 'n2 and n3 call n1 partitioned');
    t.deepEqual(
      [...seen].filter((s) => s.endsWith(':lost')),
      [],
    );
    t.deepEqual(
      d.alerts.filter((a) => a.kind === 'node-lost'),
      [],
    );
  },
);

test.serial(
  'whole-server loss (link down + SIGKILL of everything of the node): both survivors say lost within the threshold, the witness agrees',
  async (t) => {
    const d = await drill(t);
    const killed = Date.now();
    testbed('node-kill', 3);
    const at: Partial<Record<N, number>> = {};
    await waitUntil(
      'both survivors to call n3 lost',
      async () => {
        for (const o of [1, 2] as const) if (!at[o] && state(await d.view(o), 3, o) === 'lost') at[o] = Date.now() - killed;
        return at[1] !== undefined && at[2] !== undefined;
      },
      40_000,
    );
    t.log(`detection latency: n1 ${at[1]} ms, n2 ${at[2]} ms (lostAfterSeconds 5, witnessStaleSeconds 4)`);
    const v1 = await d.view(1);
    t.true(v1 ? witnessStale(v1, 3) : false, "the witness agrees: n3's heartbeat is stale");
    // n2's verdict as n1 reads it from n2's heartbeat (a witness round or two behind)
    await waitUntil("n2's verdict in its heartbeat", async () => state(await d.view(1), 3, 2) === 'lost', 10_000);
    t.true((at[1] ?? 0) < 20_000 && (at[2] ?? 0) < 20_000);
    await waitUntil('the loss alerted', async () => d.alerts.some((a) => a.kind === 'node-lost'), 10_000);
    // the node returns: healthy again after the hysteresis
    testbed('node-start', 3);
    d.start(3);
    await waitUntil(
      'n3 healthy again from both survivors',
      async () => {
        const [v1b, v2b] = await Promise.all([d.view(1), d.view(2)]);
        return state(v1b, 3, 1) === 'healthy' && state(v2b, 3, 2) === 'healthy';
      },
      120_000,
    );
    await waitUntil('the resolved alert', async () => d.alerts.some((a) => a.kind === 'node-healthy'), 10_000);
  },
);
