import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/load.js';
import { executePlan } from '../restore/recovery.js';
import type { Plan } from '../restore/recovery-plan.js';
import { seedSnapshot } from '../src/app/actions/recover.js';
import { localRecoveryNode, openRepository } from '../src/app/runtime.js';
import { nullLogger } from '../src/lib/logger.js';
import {
  autoRecovery,
  clusterSize,
  component,
  errorLog,
  errorLogSize,
  type N,
  openDrill,
  testbed,
  testbedControl,
  waitUntil,
} from '../test/helpers/drill.js';
import { nodeClient } from '../test/helpers/galera.js';
import { lifeboat, lifeboatEnv, removeRepo, testRepo } from '../test/helpers/lifeboat.js';
import { ensureData } from './db.js';
import { type BenchOptions, type BenchResult, median, runRounds, type Sample, spread, timing } from './rounds.js';
import { pacedWriter, type WriterLatency } from './writer.js';

// `npm run bench recovery`: what recovery costs on the testbed. A replacement node (datadir
// emptied) rebuilt by Lifeboat (the verified snapshot restored into it, then IST) against the
// stock way (start it empty: a full SST from a live donor), with the write latency that writers
// on the two other nodes see meanwhile (the donor's apart from the other's); then, with the daemons'
// automatic recovery, the time from quorum loss to Primary and from a whole-cluster crash to all
// three Synced. (The files restore into an empty volume is `npm run bench files`, pair `restore`.)

/** A paced writer on each of nodes 1 and 2 until stopped. */
async function writers(): Promise<{ stop: () => Promise<Record<'n1' | 'n2', WriterLatency>> }> {
  const [w1, w2] = await Promise.all([
    pacedWriter(1, 'bench_recovery.w1', WRITE_PERIOD_MS),
    pacedWriter(2, 'bench_recovery.w2', WRITE_PERIOD_MS),
  ]);
  return {
    stop: async () => {
      const [n1, n2] = await Promise.all([w1.stop(), w2.stop()]);
      return { n1, n2 };
    },
  };
}

const WRITE_PERIOD_MS = 10;

/** The donor Galera chose for n3's state transfer, from n3's log (`Selected 0.0 (n1)(SYNCED) as donor`). */
function donorOf(log: string): 'n1' | 'n2' | undefined {
  const name = [...log.matchAll(/Member \d+\.\d+ \(n3\) requested state transfer .*? Selected \d+\.\d+ \((n[12])\)/g)].at(
    -1,
  )?.[1];
  return name === 'n1' || name === 'n2' ? name : undefined;
}

async function replacementPair(options: BenchOptions, notes: string[]): Promise<ReturnType<typeof runRounds>> {
  const dataBytes = options.quick ? await ensureData('bench_magento_quick', 48) : await ensureData('bench_magento', 1100);
  const setup = await nodeClient(1);
  await setup.execute('CREATE DATABASE IF NOT EXISTS bench_recovery');
  await setup.close();
  const repo = testRepo('n3', { extra: { recovery: { control: testbedControl(3, true) } } });
  try {
    const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only']);
    if (snap.code !== 0) throw new Error(`bench recovery: snapshot failed: ${snap.stderr.slice(-1000)}`);
    const id = (JSON.parse(snap.stdout) as { id: string }).id;
    if ((await lifeboat(repo, ['verify', id])).code !== 0) throw new Error('bench recovery: verify failed');
    const config = loadConfig(repo.config, { env: lifeboatEnv() });
    const store = await openRepository(config, nullLogger);
    const snapshot = await seedSnapshot(store);
    if (!snapshot) throw new Error('bench recovery: no verified snapshot');
    const local = localRecoveryNode(config, store, nullLogger);
    const plan: Plan = {
      playbook: 'seed-from-snapshot',
      decision: 'bench',
      facts: [],
      dataLoss: null,
      steps: [
        { node: 'n3', action: 'restore-snapshot', why: '', snapshot },
        { node: 'n3', action: 'start-with-position', why: '' },
      ],
    };
    const how: Record<string, string[]> = { ours: [], baseline: [] };
    const donor: Record<string, WriterLatency[]> = { ours: [], baseline: [] };
    const other: Record<string, WriterLatency[]> = { ours: [], baseline: [] };
    /** n3 replaced (crashed, datadir emptied), then brought back by `rebuild` while two writers commit */
    const replaced = (side: 'ours' | 'baseline', rebuild: () => Promise<void>) => async (): Promise<Sample> => {
      testbed('node-crash', 3);
      testbed('node-wipe', 3);
      // the loss itself stalls every commit until the cluster has evicted the dead member (~5 s
      // here); a recovery starts after that (a verdict needs longer), so the writers measure the rebuild only
      await waitUntil('n3 evicted', async () => (await clusterSize()) === 2, 60_000);
      const from = errorLogSize(3);
      const w = await writers();
      await sleep(500);
      const t0 = performance.now();
      await rebuild();
      await waitUntil('n3 Synced', async () => (await component(3)) === 'Primary', 600_000);
      const seconds = (performance.now() - t0) / 1000;
      const latency = await w.stop();
      const log = errorLog(3, from);
      how[side]?.push(
        /rsync SST completed on joiner/.test(log) ? 'SST' : /rsync IST completed on joiner/.test(log) ? 'IST' : '?',
      );
      const d = donorOf(log);
      if (!d) throw new Error("bench recovery: no donor named in n3's log");
      donor[side]?.push(latency[d]);
      other[side]?.push(latency[d === 'n1' ? 'n2' : 'n1']);
      return timing(seconds, {
        'donor writer p99 commit': latency[d].p99 / 1000,
        'donor writer worst commit': latency[d].max / 1000,
      });
    };
    const pairs = await runRounds(
      {
        pairs: [
          {
            name: 'replacement node: seed from the snapshot + IST vs full SST',
            ours: {
              label: 'lifeboat (restore + IST)',
              run: replaced('ours', async () => {
                const r = await executePlan(plan, { local, log: { save: async () => {} }, trigger: 'cli', settleMs: 600_000 });
                if (r.outcome !== 'succeeded') throw new Error(`bench recovery: ${r.error}`);
              }),
            },
            baseline: { label: 'start empty (rsync SST)', run: replaced('baseline', async () => testbed('node-start', 3)) },
          },
        ],
      },
      options.rounds,
    );
    const ms = (xs: readonly WriterLatency[] | undefined, f: (l: WriterLatency) => number): string =>
      `${median((xs ?? []).map(f)).toFixed(1)} ms`;
    notes.push(
      `replacement node on ${(dataBytes / 2 ** 30).toFixed(2)} GiB InnoDB: joined by ${how.ours?.join(', ')} (ours) and ${how.baseline?.join(', ')} (baseline), as Galera's log says`,
      `writers committing every ${WRITE_PERIOD_MS} ms on n1 and n2 meanwhile, latency from each commit's scheduled time, medians over rounds: the donor's p99 ${ms(donor.ours, (l) => l.p99)} (ours) vs ${ms(donor.baseline, (l) => l.p99)} (baseline), its worst commit ${ms(donor.ours, (l) => l.max)} vs ${ms(donor.baseline, (l) => l.max)}; the other node's p99 ${ms(other.ours, (l) => l.p99)} vs ${ms(other.baseline, (l) => l.p99)}`,
    );
    return pairs;
  } finally {
    await removeRepo(repo);
  }
}

export async function benchRecovery(options: BenchOptions): Promise<BenchResult> {
  const notes: string[] = [];
  const pairs = await replacementPair(options, notes);

  // the daemons' automatic recovery: quorum loss → Primary, whole-cluster crash → all Synced
  const quorum: number[] = [];
  const restart: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const d = await openDrill({ recovery: autoRecovery });
    try {
      testbed('node-kill', 2);
      testbed('node-kill', 3);
      let lostAt = 0;
      await waitUntil('n1 non-Primary', async () => {
        if ((await component(1)) !== 'non-Primary') return false;
        lostAt = performance.now();
        return true;
      });
      await waitUntil('n1 Primary again', async () => (await component(1)) === 'Primary', 120_000);
      quorum.push((performance.now() - lostAt) / 1000);
    } finally {
      await d.close();
    }
    const e = await openDrill({ recovery: autoRecovery });
    try {
      const t0 = performance.now();
      for (const n of [1, 2, 3] as N[]) testbed('node-crash', n);
      await waitUntil(
        'all three Synced',
        async () => (await Promise.all(([1, 2, 3] as const).map(component))).every((c) => c === 'Primary'),
        300_000,
      );
      restart.push((performance.now() - t0) / 1000);
    } finally {
      await e.close();
    }
    process.stderr.write(
      `  round ${round + 1}: quorum loss → Primary ${quorum.at(-1)?.toFixed(1)} s, whole-cluster crash → all Synced ${restart.at(-1)?.toFixed(1)} s\n`,
    );
  }
  notes.push(
    `quorum loss → Primary again (two nodes killed, the survivor's daemon bootstraps it): median ${median(quorum).toFixed(1)} s (${quorum.map((s) => s.toFixed(1)).join(', ')}); goal <= detection + 5 s, detection here is lostAfterSeconds 5 + witnessStaleSeconds 4 after the view change`,
    `whole-cluster crash (every mariadbd SIGKILLed, daemons up) → all three Synced: median ${median(restart).toFixed(1)} s (${restart.map((s) => s.toFixed(1)).join(', ')})`,
    'files restore of the areas into an empty volume vs aws | zstd -d | tar -x: `npm run bench files`, pair `restore`',
  );
  return {
    title: 'recovery: replacement node, quorum loss, whole-cluster crash',
    pairs,
    figures: {
      'quorum loss to Primary (s)': { ...spread(quorum), perRound: quorum },
      'whole-cluster crash to all Synced (s)': { ...spread(restart), perRound: restart },
    },
    notes,
  };
}
