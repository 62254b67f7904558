import test from 'ava';
import { snapshotExtra } from '../../bench/db.js';
import {
  compare,
  isNoisy,
  type MachineState,
  median,
  order,
  type Pair,
  type RunFile,
  runRounds,
  type Sample,
  spread,
} from '../../bench/rounds.js';

const quiet = (): void => {};

function sampleOf(wallSeconds: number): Sample {
  return { wallSeconds, cpuSeconds: 1, peakRss: 1, readBytes: 0, writtenBytes: 0, diskReadBytes: 0, diskWrittenBytes: 0 };
}

test('median of an odd count is the middle value, of an even count the mean of the two middle ones', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
  t.deepEqual(spread([1.2, 0.8, 1.0]), { median: 1.0, min: 0.8, max: 1.2 });
});

test('the order of the sides flips every round', (t) => {
  t.deepEqual(
    [0, 1, 2, 3].map((r) => order(r)[0]),
    ['ours', 'baseline', 'ours', 'baseline'],
  );
});

test('runRounds interleaves the sides, prepares each round and each side, and reports per-round ratios', async (t) => {
  const log: string[] = [];
  const times: Record<string, number[]> = { ours: [2, 1, 4], baseline: [2, 2, 2] };
  const side = (label: 'ours' | 'baseline') => ({
    label,
    run: async (round: number) => {
      log.push(`${label}${round}`);
      return sampleOf(times[label]?.[round] ?? Number.NaN);
    },
  });
  const pair: Pair = { name: 'op', ours: side('ours'), baseline: side('baseline') };
  const [result] = await runRounds(
    {
      pairs: [pair],
      beforeRound: async (r) => {
        log.push(`before${r}`);
      },
      afterRound: async (r) => {
        log.push(`after${r}`);
      },
      log: quiet,
      beforeSide: () => {
        log.push('drop');
      },
    },
    3,
  );
  t.deepEqual(log, [
    ...['before0', 'drop', 'ours0', 'drop', 'baseline0', 'after0'],
    ...['before1', 'drop', 'baseline1', 'drop', 'ours1', 'after1'],
    ...['before2', 'drop', 'ours2', 'drop', 'baseline2', 'after2'],
  ]);
  t.deepEqual(result?.ratios, [1, 2, 0.5]);
  t.deepEqual(result?.ratio, { median: 1, min: 0.5, max: 2 });
  t.deepEqual(result?.firsts, ['ours', 'baseline', 'ours']);
  t.deepEqual(result?.ours.wallSeconds, { median: 2, min: 1, max: 4 });
});

test('a pair without a baseline is a series with no ratio', async (t) => {
  const [result] = await runRounds(
    { pairs: [{ name: 'second', ours: { label: 'ours', run: async () => sampleOf(1) } }], log: quiet },
    2,
  );
  t.is(result?.ratio, undefined);
  t.is(result?.ours.samples.length, 2);
});

test('extra figures are summarised per name', async (t) => {
  let n = 0;
  const run = async (): Promise<Sample> => ({ ...sampleOf(1), extra: { 'resync wait': ++n } });
  const [result] = await runRounds({ pairs: [{ name: 'snapshot', ours: { label: 'ours', run } }], log: quiet }, 3);
  t.deepEqual(result?.ours.extra, { 'resync wait': { median: 2, min: 1, max: 3 } });
});

function runFile(ratios: Record<string, [number, number, number]>): RunFile {
  const machine: MachineState = { at: '2026-12-02T00:00:00Z', load: [0, 0, 0], memFreeBytes: 0, memAvailableBytes: 0 };
  const pairs = Object.entries(ratios).map(([name, [m, lo, hi]]) => ({
    name,
    ours: { label: 'ours' } as never,
    ratios: [lo, m, hi],
    ratio: { median: m, min: lo, max: hi },
    firsts: [],
  }));
  return {
    command: '',
    rounds: 3,
    quick: false,
    cores: 2,
    start: machine,
    end: machine,
    noisy: false,
    benchmarks: { db: { title: '', pairs } },
  };
}

test('compare matches pairs by benchmark and operation; they agree when their ranges overlap', (t) => {
  const a = runFile({ snapshot: [1.0, 0.9, 1.1], restore: [1.0, 0.95, 1.05], only: [1, 1, 1] });
  const b = runFile({ snapshot: [1.15, 1.08, 1.2], restore: [1.2, 1.1, 1.3] });
  t.deepEqual(
    compare(a, b).map((c) => [c.key, c.agree]),
    [
      ['db/snapshot', true],
      ['db/restore', false],
      ['db/only', false],
    ],
  );
  t.is(compare(a, b)[2]?.b, undefined);
});

test('a load above the core count marks the numbers noisy', (t) => {
  const at = (load: number): MachineState => ({ at: '', load: [load, 0, 0], memFreeBytes: 0, memAvailableBytes: 0 });
  t.false(isNoisy([at(1.5), at(2)], 2));
  t.true(isNoisy([at(1.5), at(2.5)], 2));
});

test('the snapshot job log gives the desync and resync work as extra figures', (t) => {
  const lines = [
    'not json',
    JSON.stringify({ level: 'info', message: 'snapshot started', timestamp: '2026-12-02T10:00:00.000Z' }),
    JSON.stringify({ level: 'info', message: 'node desynced for snapshot', timestamp: '2026-12-02T10:00:00.250Z' }),
    JSON.stringify({ level: 'info', message: 'node resynced', ms: 420, timestamp: '2026-12-02T10:00:03.000Z' }),
  ];
  t.deepEqual(snapshotExtra(lines.join('\n')), { 'checks + desync': 0.25, 'resync wait': 0.42 });
  t.deepEqual(snapshotExtra(''), {});
});
