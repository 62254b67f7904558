import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEAP_FLAGS } from '../src/lib/heap.js';
import { withClusterLock } from '../test/helpers/galera.js';
import { lifeboatBin, lifeboatEnv, removeRepo, testRepo } from '../test/helpers/lifeboat.js';
import { stagingClient } from '../test/helpers/staging.js';
import { need } from '../test/helpers/testbed.js';
import { BASE_DOMAIN } from '../test/testbed/datagen/db-reference.js';
import { ensureData } from './db.js';
import { type Measured, measure, measureShell, onProduction, sample } from './measure.js';
import { type BenchOptions, type BenchResult, type PairResult, runRounds, type Sample, type Spread, spread } from './rounds.js';

/** Every host of the generated shop's base URLs and cookie domains, to its Staging host. */
const HOSTS: Readonly<Record<string, string>> = Object.fromEntries(
  ['', 'www.', 'eu.', 'media.', 'media-fr.', 'static.', 'mg.'].map((h) => [`${h}${BASE_DOMAIN}`, `${h}staging.test`]),
);

/** What a sync's JSON report says about itself (the fields the benchmark shows). */
interface SyncReport {
  readonly switch: { readonly unavailableMs: number };
  readonly phasesMs: Readonly<Record<string, number>>;
  readonly transforms: { readonly durationsMs: Readonly<Record<string, number>> };
}

/** The `connect` calls of an strace log that reached a Production node (its socket or its address). */
function productionConnects(trace: string): string[] {
  const targets = [1, 2, 3].flatMap((n) => [
    `sun_path="${need(`GALERA_NODE${n}_SOCKET`)}"`,
    `inet_addr("${need(`GALERA_NODE${n}_HOST`)}")`,
  ]);
  return trace.split('\n').filter((line) => / connect\(/.test(line) && targets.some((t) => line.includes(t)));
}

const IDLE_MS = 10_000;

/** Per-round figures that are not seconds (Production queries, our process's RSS), printed as their own lines. */
type Figures = Record<string, { readonly perRound: readonly number[] } & Spread>;

function figure(values: readonly number[]): Figures[string] {
  return { perRound: values, ...spread(values) };
}

// The `lifeboat` process's own peak RSS (getrusage of that process alone: the tree's largest
// process may be the scratch mariadbd), written when it exits.
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(process.env.LIFEBOAT_BENCH_RSS, String(process.resourceUsage().maxRSS * 1024)));",
)}`;

/**
 * Production → Staging from a snapshot (issue #15): `lifeboat staging sync --snapshot <id>` with
 * every transform on (default strip, anonymisation with a salt, the host mapping) against
 * `mariadb-dump --single-transaction <node 1> <schema> | mariadb <staging> <schema>`, which loads
 * Production and transforms nothing. ≥ 1 GiB of generated Magento data (quick: ~50 MB), one
 * database snapshot per benchmark run. Each round, ours replaces the Staging schema the previous
 * sync of this run made from the same snapshot (an untimed one precedes the first round); the
 * baseline loads into a schema dropped and re-created before it. The page cache is not dropped.
 */
export async function benchStaging(options: BenchOptions): Promise<BenchResult> {
  const database = options.quick ? 'bench_magento_quick' : 'bench_magento';
  const dataBytes = await ensureData(database, options.quick ? 48 : 1100);
  const live = `${database}_staging`;
  const hand = `${database}_hand`;
  const repo = testRepo('n2', {
    extra: {
      staging: {
        sourceDatabase: database,
        target: {
          socket: need('STAGING_SOCKET'),
          user: need('STAGING_USER'),
          password: need('STAGING_PASSWORD'),
          database: live,
        },
        hosts: HOSTS,
        anonymize: { salt: 'bench-salt-0123' },
      },
    },
  });
  const env = { ...lifeboatEnv(), LIFEBOAT_BENCH_RSS: `${repo.stateDir}.rss` };
  // with the V8 flags the `lifeboat` executable runs with
  const lifeboatArgs = (...args: string[]): string[] => [
    ...HEAP_FLAGS,
    '--import',
    RSS_PROBE,
    lifeboatBin,
    '--config',
    repo.config,
    ...args,
  ];
  const lifeboat = (...args: string[]): Promise<Measured> =>
    measure(process.execPath, lifeboatArgs(...args), { env, stdout: true });
  const staging = await stagingClient();
  const queries = { ours: [] as number[], baseline: [] as number[] };
  const lifeboatRss: number[] = [];
  try {
    const snap = await withClusterLock(() => lifeboat('--json', 'snapshot', '--db-only'));
    const snapshot = (JSON.parse(snap.stdout) as { id: string }).id;
    const syncArgs = ['--json', '--log-level', 'warn', 'staging', 'sync', '--snapshot', snapshot];
    // Untimed, under strace: every round then replaces a Staging synced from the same snapshot, and
    // the trace shows whether the sync's process tree connected to Production at all.
    console.log(`bench staging: an untimed sync into Staging's ${live} (traced) before the rounds`);
    const trace = `${repo.stateDir}.connect.trace`;
    await measure(
      'strace',
      ['-f', '--seccomp-bpf', '-qq', '-e', 'trace=connect', '-o', trace, process.execPath, ...lifeboatArgs(...syncArgs)],
      { env },
    );
    const connects = productionConnects(readFileSync(trace, 'utf8'));
    // what other clients of a shared testbed send meanwhile, for reading the Questions figures
    const idle = await onProduction(() => sleep(IDLE_MS));
    const background = idle.queries / (IDLE_MS / 1000);
    const ours = async (): Promise<Sample> => {
      const { result: m, queries: q } = await onProduction(() => lifeboat(...syncArgs));
      queries.ours.push(q);
      lifeboatRss.push(Number(readFileSync(env.LIFEBOAT_BENCH_RSS, 'utf8')));
      const report = JSON.parse(m.stdout) as SyncReport;
      return sample(m, {
        ...Object.fromEntries(Object.entries(report.phasesMs).map(([phase, ms]) => [`phase ${phase}`, ms / 1000])),
        // which transform the transform phase spends its time in
        ...Object.fromEntries(
          Object.entries(report.transforms.durationsMs).map(([step, ms]) => [`  transform ${step}`, ms / 1000]),
        ),
        'Staging unavailable at the switch': report.switch.unavailableMs / 1000,
      });
    };
    const baseline = async (): Promise<Sample> => {
      await staging.execute(`DROP DATABASE IF EXISTS \`${hand}\``);
      await staging.execute(`CREATE DATABASE \`${hand}\``);
      const { result: m, queries: q } = await onProduction(() =>
        measureShell(
          `MYSQL_PWD="$PROD_PWD" mariadb-dump --single-transaction --socket=${need('GALERA_NODE1_SOCKET')} --user=${need('GALERA_USER')} ${database} | MYSQL_PWD="$STAGING_PWD" mariadb --socket=${need('STAGING_SOCKET')} --user=${need('STAGING_USER')} ${hand}`,
          { ...process.env, PROD_PWD: need('GALERA_PASSWORD'), STAGING_PWD: need('STAGING_PASSWORD') },
        ),
      );
      queries.baseline.push(q);
      return sample(m);
    };
    const pairs = await runRounds(
      {
        pairs: [
          {
            name: 'staging sync',
            ours: { label: 'lifeboat (snapshot, all transforms)', run: ours },
            baseline: { label: 'mariadb-dump | mariadb', run: baseline },
          },
        ],
      },
      options.rounds,
    );
    const figures: Figures = {
      'Production queries, lifeboat': figure(queries.ours),
      'Production queries, mariadb-dump | mariadb': figure(queries.baseline),
      'peak RSS of the lifeboat process, bytes': figure(lifeboatRss),
      'connections to Production, untimed sync': figure([connects.length]),
      'Production queries per second while idle, before the rounds': figure([background]),
    };
    return {
      title: `staging: ${(dataBytes / 2 ** 30).toFixed(2)} GiB of InnoDB data on the node, schema ${database} synced to the testbed's Staging (targets: ratio >= 1.0, stretch >= 2.0; Production queries 0; switch <= 2 s; peak RSS of Lifeboat < 250 MB)`,
      pairs,
      figures,
      notes: notes(pairs, figures, connects, background),
    };
  } finally {
    await staging.execute(`DROP DATABASE IF EXISTS \`${hand}\``).catch(() => {});
    await staging.close();
    await removeRepo(repo);
  }
}

function notes(pairs: readonly PairResult[], figures: Figures, connects: readonly string[], background: number): string[] {
  const pair = pairs[0];
  const count = (f: Figures[string] | undefined): string =>
    f ? `${f.median} (${f.min}–${f.max}; per round ${f.perRound.join(' ')})` : '-';
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const ratio = pair?.ratio?.median ?? Number.NaN;
  const queries = figures['Production queries, lifeboat'];
  const unavailable = pair?.ours.extra['Staging unavailable at the switch'];
  const rss = figures['peak RSS of the lifeboat process, bytes'];
  return [
    'ratio: baseline wall s / lifeboat wall s (the issue\'s "sync time <= 1.0x the baseline" is ratio >= 1.0); "of which" lines: the phases of our sync and the switch\'s unavailability, from its report',
    `Production queries during our sync (Questions over the 3 nodes, less the counters' own reads): ${count(queries)}; during the baseline: ${count(figures['Production queries, mariadb-dump | mariadb'])}`,
    `  (Questions counts every client's statements: with nothing of the benchmark running, Production received ${background.toFixed(1)}/s over ${IDLE_MS / 1000} s before the rounds, ~${(background * (pair?.ours.wallSeconds.median ?? Number.NaN)).toFixed(0)} in our median wall time; the strace line below is the sync's own)`,
    `connections to Production by the untimed sync before the rounds (strace of its process tree's connect calls): ${connects.length}${connects.length ? `: ${connects.slice(0, 3).join('; ')}` : ''}`,
    `peak RSS of the lifeboat process alone: ${rss ? `${(rss.median / 1e6).toFixed(0)} MB (${(rss.min / 1e6).toFixed(0)}–${(rss.max / 1e6).toFixed(0)})` : '-'} (the table's peak RSS is the tree's largest process, e.g. the scratch mariadbd)`,
    `targets: ratio >= 1.0 ${met(ratio >= 1)} (stretch >= 2.0 ${met(ratio >= 2)}); Production queries 0 ${met(queries?.max === 0)}; switch <= 2 s ${met((unavailable?.max ?? Number.NaN) <= 2)}; peak RSS < 250 MB ${met((rss?.max ?? Number.NaN) < 250e6)}`,
    'not measured: a live-source sync (and Production write latency during it): not benchmarked yet',
  ];
}
