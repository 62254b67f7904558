import { spawn } from 'node:child_process';

export interface Measured {
  readonly seconds: number;
  /** peak resident set size of the measured process, in bytes */
  readonly peakRss: number;
}

/**
 * Runs a command under GNU time and measures its wall time and peak RSS (the largest process of
 * the command's tree), so the benchmark driver's own memory does not count.
 */
export function measure(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-v', command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-6000);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${command} ${args.join(' ')}: exit ${code}: ${stderr}`));
        return;
      }
      resolve({ seconds, peakRss: peakRssOf(stderr) });
    });
  });
}

function peakRssOf(stderr: string): number {
  const time = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  return time?.[1] ? Number(time[1]) * 1024 : Number.NaN;
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
