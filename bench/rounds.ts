import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { table } from '../src/lib/text-table.js';

// Rounds, statistics and reporting shared by every benchmark: each pair (ours against a
// baseline) runs interleaved over several rounds, the order flipping each round, and is reported
// as the median of the per-round ratios with their min–max.

/** What every benchmark is given by `npm run bench`. */
export interface BenchOptions {
  readonly rounds: number;
  /** a small data set, for a developer's loop */
  readonly quick: boolean;
}

/** What one run of one side cost (see `measure` for how each figure is taken). */
export interface Sample {
  readonly wallSeconds: number;
  /** user + sys CPU seconds of the whole process tree */
  readonly cpuSeconds: number;
  /** peak RSS of the largest single process of the tree, bytes */
  readonly peakRss: number;
  /** bytes passed through read/write system calls by the tree (files, pipes, sockets) */
  readonly readBytes: number;
  readonly writtenBytes: number;
  /** bytes the tree made the kernel fetch from / send to a block device (page-cache misses, writeback) */
  readonly diskReadBytes: number;
  readonly diskWrittenBytes: number;
  /** named extra figures in seconds a side reports about itself (e.g. the database's resync wait) */
  readonly extra?: Readonly<Record<string, number>>;
}

export interface Side {
  readonly label: string;
  readonly run: (round: number) => Promise<Sample>;
}

/** Two ways of doing the same thing; a pair without a baseline is a plain series of our runs. */
export interface Pair {
  readonly name: string;
  readonly ours: Side;
  readonly baseline?: Side;
}

export interface Plan {
  readonly pairs: readonly Pair[];
  /** brings every round to the same starting state (fresh prefix, same previous snapshot, …) */
  readonly beforeRound?: (round: number) => Promise<void>;
  readonly afterRound?: (round: number) => Promise<void>;
  /** runs before every measured side (e.g. dropping the page cache) */
  readonly beforeSide?: () => Promise<void> | void;
  /** progress, one line per measured side (default: stderr) */
  readonly log?: (line: string) => void;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface SideResult {
  readonly label: string;
  readonly samples: readonly Sample[];
  readonly wallSeconds: Spread;
  readonly cpuSeconds: Spread;
  readonly peakRss: Spread;
  readonly readBytes: Spread;
  readonly writtenBytes: Spread;
  readonly diskReadBytes: Spread;
  readonly diskWrittenBytes: Spread;
  readonly extra: Readonly<Record<string, Spread>>;
}

export interface PairResult {
  readonly name: string;
  readonly ours: SideResult;
  readonly baseline?: SideResult;
  /** baseline wall time / ours, per round (higher is better for us) */
  readonly ratios: readonly number[];
  readonly ratio?: Spread;
  /** which side ran first in each round */
  readonly firsts: readonly ('ours' | 'baseline')[];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The p-th percentile (nearest rank) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A sample of wall time only (and named extras), for sides that are not one process tree. */
export const timing = (seconds: number, extra?: Record<string, number>): Sample => ({
  wallSeconds: seconds,
  cpuSeconds: 0,
  peakRss: 0,
  readBytes: 0,
  writtenBytes: 0,
  diskReadBytes: 0,
  diskWrittenBytes: 0,
  ...(extra ? { extra } : {}),
});

export function spread(values: readonly number[]): Spread {
  return {
    median: median(values),
    min: values.length ? Math.min(...values) : Number.NaN,
    max: values.length ? Math.max(...values) : Number.NaN,
  };
}

/** Ours first in even rounds, the baseline first in odd ones: neither side always gets the warm or the cold slot. */
export function order(round: number): readonly ['ours' | 'baseline', 'ours' | 'baseline'] {
  return round % 2 === 0 ? ['ours', 'baseline'] : ['baseline', 'ours'];
}

export function summarise(label: string, samples: readonly Sample[]): SideResult {
  const of = (f: (s: Sample) => number): Spread => spread(samples.map(f));
  const names = [...new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})))];
  return {
    label,
    samples,
    wallSeconds: of((s) => s.wallSeconds),
    cpuSeconds: of((s) => s.cpuSeconds),
    peakRss: of((s) => s.peakRss),
    readBytes: of((s) => s.readBytes),
    writtenBytes: of((s) => s.writtenBytes),
    diskReadBytes: of((s) => s.diskReadBytes),
    diskWrittenBytes: of((s) => s.diskWrittenBytes),
    extra: Object.fromEntries(
      names.map((n) => [n, spread(samples.flatMap((s) => (s.extra?.[n] === undefined ? [] : [s.extra[n]])))]),
    ),
  };
}

/** Runs every pair of the plan for `rounds` rounds, interleaved, and summarises them. */
export async function runRounds(plan: Plan, rounds: number): Promise<PairResult[]> {
  const samples = plan.pairs.map(() => ({ ours: [] as Sample[], baseline: [] as Sample[] }));
  const firsts: ('ours' | 'baseline')[] = [];
  const log = plan.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  for (let round = 0; round < rounds; round++) {
    await plan.beforeRound?.(round);
    try {
      for (const [i, pair] of plan.pairs.entries()) {
        for (const which of order(round)) {
          const side = which === 'ours' ? pair.ours : pair.baseline;
          if (!side) continue;
          await plan.beforeSide?.();
          const sample = await side.run(round);
          samples[i]?.[which].push(sample);
          log(`  round ${round + 1}/${rounds} ${pair.name}: ${side.label} ${sample.wallSeconds.toFixed(2)} s`);
        }
      }
      firsts.push(order(round)[0]);
    } finally {
      await plan.afterRound?.(round);
    }
  }
  return plan.pairs.map((pair, i) => pairResult(pair, samples[i]?.ours ?? [], samples[i]?.baseline ?? [], firsts));
}

export function pairResult(
  pair: Pair,
  ours: readonly Sample[],
  baseline: readonly Sample[],
  firsts: readonly ('ours' | 'baseline')[],
): PairResult {
  const ratios = pair.baseline ? ours.map((o, r) => (baseline[r]?.wallSeconds ?? Number.NaN) / o.wallSeconds) : [];
  return {
    name: pair.name,
    ours: summarise(pair.ours.label, ours),
    ...(pair.baseline ? { baseline: summarise(pair.baseline.label, baseline), ratio: spread(ratios) } : {}),
    ratios,
    firsts: pair.baseline ? firsts : [],
  };
}

// ---- the machine ----

export interface MachineState {
  readonly at: string;
  /** 1, 5 and 15 minute load averages */
  readonly load: readonly number[];
  readonly memFreeBytes: number;
  readonly memAvailableBytes: number;
}

export function machineState(): MachineState {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1] ?? Number.NaN) * 1024;
  return { at: new Date().toISOString(), load: loadavg(), memFreeBytes: kb('MemFree'), memAvailableBytes: kb('MemAvailable') };
}

export const cores = availableParallelism();

/** Numbers taken while the 1-minute load was above the core count are marked noisy. */
export function isNoisy(states: readonly MachineState[], coreCount = cores): boolean {
  return states.some((s) => (s.load[0] ?? 0) > coreCount);
}

export function describeMachine(label: string, s: MachineState): string {
  const warn = (s.load[0] ?? 0) > cores ? `  WARNING: load above the ${cores} cores, numbers are noisy` : '';
  return (
    `${label}: ${s.at} load ${s.load.map((l) => l.toFixed(2)).join(' ')} (${cores} cores), ` +
    `memory free ${(s.memFreeBytes / 2 ** 20).toFixed(0)} MiB, available ${(s.memAvailableBytes / 2 ** 20).toFixed(0)} MiB${warn}`
  );
}

// ---- reporting ----

const MB = 1e6;

export function formatSpread(s: Spread | undefined, scale = 1, digits = 2): string {
  if (!s || Number.isNaN(s.median)) return '-';
  const f = (v: number): string => (v / scale).toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

/** One benchmark's pairs: ratios first, then every side's costs (median and min–max over rounds). */
export function reportPairs(title: string, pairs: readonly PairResult[], noisy: boolean): string {
  const ratioRows = pairs
    .filter((p) => p.ratio)
    .map((p) => [
      p.name,
      `${p.ours.label} vs ${p.baseline?.label}`,
      formatSpread(p.ratio),
      p.ratios.map((r) => r.toFixed(2)).join(' '),
    ]);
  const sideRows = pairs.flatMap((p) =>
    [p.ours, ...(p.baseline ? [p.baseline] : [])].flatMap((s) => [
      [
        p.name,
        s.label,
        formatSpread(s.wallSeconds),
        formatSpread(s.cpuSeconds),
        formatSpread(s.peakRss, MB, 0),
        formatSpread(s.readBytes, MB, 0),
        formatSpread(s.writtenBytes, MB, 0),
        formatSpread(s.diskReadBytes, MB, 0),
        formatSpread(s.diskWrittenBytes, MB, 0),
      ],
      ...Object.entries(s.extra).map(([name, v]) => [p.name, `  of which ${name}`, formatSpread(v), '', '', '', '', '', '']),
    ]),
  );
  return [
    `\n${title}${noisy ? '  [noisy]' : ''}`,
    ratioRows.length
      ? table([['operation', 'sides', 'ratio median (min–max)', 'per round (baseline s / ours s)'], ...ratioRows])
      : '',
    '',
    table([
      ['operation', 'side', 'wall s', 'cpu s', 'peak RSS MB', 'read MB', 'written MB', 'disk read MB', 'disk written MB'],
      ...sideRows,
    ]),
  ].join('\n');
}

// ---- one run's figures, and two runs compared ----

export interface BenchResult {
  readonly title: string;
  readonly pairs: readonly PairResult[];
  /** per-round figures that are not seconds (counts, bytes), with their spread; the notes print them */
  readonly figures?: Readonly<Record<string, Spread & { readonly perRound: readonly number[] }>>;
  readonly notes?: readonly string[];
}

export interface RunFile {
  readonly command: string;
  readonly rounds: number;
  readonly quick: boolean;
  readonly cores: number;
  readonly start: MachineState;
  readonly end: MachineState;
  readonly noisy: boolean;
  readonly benchmarks: Readonly<Record<string, BenchResult>>;
}

export interface Comparison {
  readonly key: string;
  readonly a?: Spread;
  readonly b?: Spread;
  /** both runs measured it and their min–max ranges overlap */
  readonly agree: boolean;
}

/** Every pair's ratio in either run, matched by `<benchmark>/<operation>`. */
export function compare(a: RunFile, b: RunFile): Comparison[] {
  const ratios = (run: RunFile): Map<string, Spread> =>
    new Map(
      Object.entries(run.benchmarks).flatMap(([bench, r]) =>
        r.pairs.flatMap((p) => (p.ratio ? [[`${bench}/${p.name}`, p.ratio] as const] : [])),
      ),
    );
  const ra = ratios(a);
  const rb = ratios(b);
  const keys = [...new Set([...ra.keys(), ...rb.keys()])];
  return keys.map((key) => {
    const x = ra.get(key);
    const y = rb.get(key);
    return { key, ...(x ? { a: x } : {}), ...(y ? { b: y } : {}), agree: !!x && !!y && x.min <= y.max && y.min <= x.max };
  });
}

export function reportComparison(a: RunFile, b: RunFile, nameA: string, nameB: string): string {
  const head = (run: RunFile, name: string): string =>
    `${name}: ${run.start.at}, ${run.rounds} rounds${run.quick ? ', quick' : ''}${run.noisy ? ', noisy' : ''}`;
  const rows = compare(a, b).map((c) => [c.key, formatSpread(c.a), formatSpread(c.b), c.agree ? 'yes' : c.a && c.b ? 'NO' : '-']);
  return [
    head(a, `A ${nameA}`),
    head(b, `B ${nameB}`),
    table([['operation', 'A ratio median (min–max)', 'B ratio median (min–max)', 'agree (ranges overlap)'], ...rows]),
  ].join('\n');
}
