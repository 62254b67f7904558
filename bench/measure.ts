import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  readonly seconds: number;
  /** peak resident set size in bytes (see `measure`) */
  readonly peakRss: number;
}

export interface MeasureOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * `self`: peak RSS of the command's own process (its kernel VmHWM, polled), used for Lifeboat so
   * that the tools it runs (mariadb-backup, zstd) do not count; `tree` (default): the largest
   * process of the command's tree, from GNU time, used for baselines.
   */
  readonly rss?: 'self' | 'tree';
}

/** Runs a command to completion and measures its wall time and peak RSS. */
export function measure(command: string, args: readonly string[], options: MeasureOptions = {}): Promise<Measured> {
  const self = options.rss === 'self';
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = self
      ? spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env })
      : spawn('/usr/bin/time', ['-v', command, ...args], {
          stdio: ['ignore', 'ignore', 'pipe'],
          env: options.env ?? process.env,
        });
    let stderr = '';
    let hwm = 0;
    const poll = self
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m?.[1]) hwm = Math.max(hwm, Number(m[1]) * 1024);
          } catch {
            // exited
          }
        }, 25)
      : undefined;
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-6000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr}`));
        return;
      }
      const time = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
      resolve({ seconds, peakRss: self ? hwm : time?.[1] ? Number(time[1]) * 1024 : Number.NaN });
    });
  });
}

export function mbps(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds;
}

export function printTable(title: string, rows: readonly (readonly (string | number)[])[]): void {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(2) : c)));
  const widths = text[0]?.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length))) ?? [];
  console.log(`\n${title}`);
  for (const r of text) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
}
