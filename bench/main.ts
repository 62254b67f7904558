import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { benchDb } from './db.js';
import { benchDetect } from './detect.js';
import { benchFiles } from './files.js';
import { benchRecovery } from './recovery.js';
import {
  type BenchOptions,
  type BenchResult,
  cores,
  describeMachine,
  isNoisy,
  machineState,
  type RunFile,
  reportComparison,
  reportPairs,
} from './rounds.js';
import { benchStaging } from './staging.js';
import { benchStorage } from './storage.js';

// `npm run bench [-- [--quick] [--rounds N] [--out FILE] [storage|db|files|staging|detect|recovery …]]` runs the named
// benchmarks (all of them by default) and writes every figure to one JSON file;
// `npm run bench -- --compare A.json B.json` compares two such files.

const benches: Record<string, (options: BenchOptions) => Promise<BenchResult>> = {
  storage: benchStorage,
  db: benchDb,
  files: benchFiles,
  staging: benchStaging,
  detect: benchDetect,
  recovery: benchRecovery,
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    compare: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

if (values.compare) {
  const [a, b] = positionals;
  if (!a || !b || positionals.length !== 2) fail('usage: --compare A.json B.json');
  const read = (path: string): RunFile => JSON.parse(readFileSync(path, 'utf8')) as RunFile;
  console.log(reportComparison(read(a), read(b), a, b));
} else {
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds: expected a whole number >= 1, got '${values.rounds}'`);
  const names = positionals.length ? positionals : Object.keys(benches);
  const unknown = names.filter((n) => !benches[n]);
  if (unknown.length) fail(`unknown benchmark '${unknown.join("', '")}' (known: ${Object.keys(benches).join(', ')})`);
  const out = values.out ?? `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  const options: BenchOptions = { rounds, quick: values.quick };
  const start = machineState();
  console.log(describeMachine('start', start));
  const results: Record<string, BenchResult> = {};
  for (const name of names) {
    const started = performance.now();
    const result = await (benches[name] as (o: BenchOptions) => Promise<BenchResult>)(options);
    results[name] = result;
    const noisyNow = isNoisy([start, machineState()]);
    console.log(reportPairs(result.title, result.pairs, noisyNow));
    for (const note of result.notes ?? []) console.log(`  ${note}`);
    console.log(`  (${name}: ${rounds} rounds in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  const end = machineState();
  console.log(`\n${describeMachine('end', end)}`);
  const run: RunFile = {
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    rounds,
    quick: options.quick,
    cores,
    start,
    end,
    noisy: isNoisy([start, end]),
    benchmarks: results,
  };
  writeFileSync(out, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`figures: ${out}${run.noisy ? ' (noisy: the load was above the core count)' : ''}`);
}
