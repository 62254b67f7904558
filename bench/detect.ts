import { setTimeout as sleep } from 'node:timers/promises';
import { type Drill, type N, openDrill, state, testbed, waitUntil, watch } from '../test/helpers/drill.js';
import { nodeClient } from '../test/helpers/galera.js';
import { onProduction } from './measure.js';
import { type BenchOptions, type BenchResult, median, percentile, runRounds, type Sample, spread, timing } from './rounds.js';
import { pacedWriter, type WriterLatency } from './writer.js';

// `npm run bench detect`: whole-server losses (detection latency from each survivor), link blips
// and partitions (false verdicts), and what the probes cost a writer on the cluster (write latency
// and queries per second with the three daemons probing vs stopped, interleaved).

const QUICK = { losses: 2, blips: 3, partitions: 1 };
const FULL = { losses: 20, blips: 20, partitions: 5 };

/** One loss of `victim`: seconds until each survivor's own verdict says lost; then the node returns. */
async function loss(d: Drill, victim: N): Promise<number[]> {
  const survivors = ([1, 2, 3] as const).filter((n) => n !== victim);
  const killed = performance.now();
  testbed('node-kill', victim);
  const at = new Map<N, number>();
  await waitUntil(
    `n${victim} lost from both survivors`,
    async () => {
      for (const o of survivors)
        if (!at.has(o) && state(await d.view(o), victim, o) === 'lost') at.set(o, (performance.now() - killed) / 1000);
      return at.size === survivors.length;
    },
    60_000,
  );
  testbed('node-start', victim);
  d.start(victim);
  await waitUntil(
    `n${victim} healthy again`,
    async () => {
      const views = await Promise.all(survivors.map((o) => d.view(o)));
      return survivors.every((o, i) => state(views[i], victim, o) === 'healthy');
    },
    180_000,
  );
  return [...at.values()];
}

/** A paced writer on node 1 for `seconds`, and the other statements the cluster received per second meanwhile. */
async function writer(seconds: number): Promise<WriterLatency & { qps: number }> {
  const setup = await nodeClient(1);
  await setup.execute('CREATE DATABASE IF NOT EXISTS bench_detect');
  await setup.close();
  const started = performance.now();
  const { result, queries } = await onProduction(async () => {
    const w = await pacedWriter(1, 'bench_detect.w', WRITE_PERIOD_MS);
    await sleep(seconds * 1000);
    return w.stop();
  });
  const elapsed = (performance.now() - started) / 1000;
  // the writer's own statements (its commits, the table's CREATE and TRUNCATE) are not the probes'
  return { ...result, qps: (queries - result.commits - 2) / elapsed };
}

const WRITE_PERIOD_MS = 10;

export async function benchDetect(options: BenchOptions): Promise<BenchResult> {
  const plan = options.quick ? QUICK : FULL;
  const d = await openDrill();
  const notes: string[] = [];
  try {
    const latencies: number[] = [];
    for (let i = 0; i < plan.losses; i++) {
      const victim = (i % 2 === 0 ? 3 : 2) as N;
      const got = await loss(d, victim);
      latencies.push(...got);
      process.stderr.write(`  loss ${i + 1}/${plan.losses} of n${victim}: ${got.map((s) => s.toFixed(1)).join(', ')} s\n`);
    }
    const blips = await watch(d, [1, 2], async () => {
      for (let i = 0; i < plan.blips; i++) {
        testbed('node-cut', 3);
        await sleep(2000);
        testbed('node-uncut', 3);
        await sleep(2500);
      }
    });
    const falseOnBlips = [...blips].filter((s) => /:(lost|partitioned)$/.test(s)).length;
    let falseOnPartitions = 0;
    for (let i = 0; i < plan.partitions; i++) {
      const seen = await watch(d, [1, 2, 3], async () => {
        testbed('node-isolate', 1);
        await sleep(15_000);
        testbed('node-heal', 1);
      });
      falseOnPartitions += [...seen].filter((s) => s.endsWith(':lost')).length;
      await waitUntil(
        'n1 healthy after the partition',
        async () => state(await d.view(2), 1, 2) === 'healthy' && state(await d.view(3), 1, 3) === 'healthy',
        120_000,
      );
    }
    const alertsLost = d.alerts.filter((a) => a.kind === 'node-lost').length;
    notes.push(
      `detection latency over ${plan.losses} whole-server losses (${latencies.length} survivor verdicts): median ${median(latencies).toFixed(1)} s, p95 ${percentile(latencies, 95).toFixed(1)} s (goal: median <= 10 s; lostAfterSeconds 5, witnessStaleSeconds 4)`,
      `false verdicts: ${falseOnBlips} over ${plan.blips} link blips of 2 s, ${falseOnPartitions} 'lost' over ${plan.partitions} partitions (goal 0); node-lost alerts ${alertsLost} for ${plan.losses} losses`,
    );

    // what probing costs a writer: the three daemons probing vs stopped, interleaved
    const seconds = options.quick ? 10 : 30;
    const running = (n: N): boolean => {
      const child = d.daemons.get(n)?.child;
      return !!child && child.exitCode === null && child.signalCode === null;
    };
    const stopAll = async (): Promise<void> => {
      const stopping = ([1, 2, 3] as const).filter(running).map((n) => d.daemons.get(n)?.child);
      await Promise.all(
        stopping.map(
          (child) =>
            new Promise((resolve) => {
              child?.once('exit', resolve);
              child?.kill('SIGTERM');
            }),
        ),
      );
    };
    const startAll = async (): Promise<void> => {
      for (const n of [1, 2, 3] as const) if (!running(n)) d.start(n);
      await sleep(3000);
    };
    const qps: Record<string, number[]> = { probing: [], 'no probes': [] };
    const side = (label: 'probing' | 'no probes') => ({
      label,
      run: async (): Promise<Sample> => {
        if (label === 'probing') await startAll();
        else await stopAll();
        const w = await writer(seconds);
        qps[label]?.push(w.qps);
        return timing(w.p99 / 1000, { 'p50 commit': w.p50 / 1000, 'worst commit': w.max / 1000 });
      },
    });
    const [overhead] = await runRounds(
      { pairs: [{ name: 'writer p99 commit latency', ours: side('probing'), baseline: side('no probes') }] },
      options.rounds,
    );
    await startAll();
    if (overhead) {
      const q = (label: string): string => median(qps[label] ?? []).toFixed(1);
      notes.push(
        `writer on n1 committing every ${WRITE_PERIOD_MS} ms (${seconds} s per side, latency from each commit's scheduled time): p99 ${(overhead.ours.wallSeconds.median * 1000).toFixed(1)} ms probing vs ${((overhead.baseline?.wallSeconds.median ?? Number.NaN) * 1000).toFixed(1)} ms without (ratio ${overhead.ratio?.median.toFixed(2)}); other queries on the cluster ${q('probing')}/s probing vs ${q('no probes')}/s`,
      );
    }
    const figures = { 'detection latency (s, per survivor verdict)': { ...spread(latencies), perRound: latencies } };
    return { title: 'detect: whole-server loss, blips, partitions', pairs: overhead ? [overhead] : [], figures, notes };
  } finally {
    await d.close();
  }
}
