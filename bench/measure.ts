import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeClient } from '../test/helpers/galera.js';
import type { Sample } from './rounds.js';

export interface MeasureOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** keep the command's stdout (default: discarded) */
  readonly stdout?: boolean;
}

export interface Measured extends Sample {
  readonly stdout: string;
  readonly stderr: string;
}

// The command runs as `/usr/bin/time -f … bash -c '"$@"; cat /proc/$$/io'`: GNU time reports the
// user + sys CPU and the largest peak RSS of every process of the tree it waited for (getrusage
// RUSAGE_CHILDREN), and a process's /proc/<pid>/io includes the I/O of the children it has
// reaped, so the bash wrapper's counters cover the whole tree once the command is done.
const WRAP = '"$@"; rc=$?; cat /proc/$$/io > "$LIFEBOAT_BENCH_IO" || exit 99; exit $rc';
const KEEP = 2 * 1024 * 1024;

/** Runs a command to completion and measures it and all its descendants. */
export function measure(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-measure-'));
  const timeFile = join(dir, 'time');
  const ioFile = join(dir, 'io');
  return new Promise<Measured>((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, 'bash', '-c', WRAP, 'bash', command, ...args], {
      stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'],
      env: { ...(options.env ?? process.env), LIFEBOAT_BENCH_IO: ioFile },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout = (stdout + d.toString()).slice(-KEEP);
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-KEEP);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr.slice(-4000)}`));
        return;
      }
      try {
        const [user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()?.split(' ').map(Number) ?? [];
        const io = readFileSync(ioFile, 'utf8');
        const field = (name: string): number => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? Number.NaN);
        resolve({
          wallSeconds,
          cpuSeconds: (user ?? Number.NaN) + (sys ?? Number.NaN),
          peakRss: (rssKb ?? Number.NaN) * 1024,
          readBytes: field('rchar'),
          writtenBytes: field('wchar'),
          diskReadBytes: field('read_bytes'),
          diskWrittenBytes: field('write_bytes'),
          stdout,
          stderr,
        });
      } catch (err) {
        reject(err);
      }
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** The figures of a measured run, without its output (what the rounds keep). */
export function sample(m: Measured, extra?: Readonly<Record<string, number>>): Sample {
  const { stdout: _o, stderr: _e, ...figures } = m;
  return extra ? { ...figures, extra } : figures;
}

/** `bash -o pipefail -c script`, measured */
export function measureShell(script: string, env?: NodeJS.ProcessEnv): Promise<Measured> {
  return measure('bash', ['-o', 'pipefail', '-c', `set -eu; ${script}`], env ? { env } : {});
}

/** Drops the kernel's page cache (when allowed) so every measured read goes to the storage. */
export function dropCaches(): void {
  // written back first, so the previous side's dirty pages are not flushed during the next one
  execFileSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    // not root: measurements then include whatever is cached
  }
}

/** Statements Production's three nodes have been sent so far (`Questions`, summed). */
async function productionQuestions(): Promise<number> {
  let sum = 0;
  for (const n of [1, 2, 3] as const) {
    const c = await nodeClient(n);
    try {
      const [row] = await c.query<{ v: string }>(
        "SELECT variable_value AS v FROM information_schema.global_status WHERE variable_name = 'QUESTIONS'",
      );
      sum += Number(row?.v ?? Number.NaN);
    } finally {
      await c.close();
    }
  }
  return sum;
}

/**
 * Runs `work` and returns the statements Production received meanwhile, less what reading the
 * counters costs (taken from two reads back to back just before).
 */
export async function onProduction<T>(work: () => Promise<T>): Promise<{ result: T; queries: number }> {
  const first = await productionQuestions();
  const before = await productionQuestions();
  const result = await work();
  const after = await productionQuestions();
  return { result, queries: after - before - (before - first) };
}
