import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What a writer saw, in ms, each commit's latency counted from its scheduled time. */
export interface WriterLatency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly commits: number;
}

const entry = fileURLToPath(new URL('./writer-process.js', import.meta.url));

/**
 * A writer on node `n` committing one INSERT into `table` (created if missing, emptied at the end)
 * every `periodMs` until stopped; resolves once its first statement went through. A commit's
 * latency counts from its scheduled time, not from when a stalled writer got round to sending it:
 * a node that blocks writes for 10 s shows ~1 000 late commits at 100/s, not one slow one (a closed
 * loop hides a stall in its p99: "coordinated omission"). At a fixed rate it also leaves the
 * machine's other work its share of the cores, so it measures that work's effect on commits, not
 * a contest for the CPU. It runs in a process of its own: nothing the benchmark does in its own
 * event loop (a synchronous testbed command) can delay the writer's commits or hide a stall.
 */
export async function pacedWriter(n: 1 | 2 | 3, table: string, periodMs = 10): Promise<{ stop: () => Promise<WriterLatency> }> {
  const child = spawn(process.execPath, [entry, String(n), table, String(periodMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (out.startsWith('ready\n')) resolve();
    });
    exited.then((code) => reject(new Error(`bench writer on n${n}: exited with ${code} before its first commit`)), reject);
  });
  return {
    stop: async () => {
      child.stdin.end();
      const code = await exited;
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('{')) throw new Error(`bench writer on n${n}: exited with ${code}`);
      return JSON.parse(last) as WriterLatency;
    },
  };
}
