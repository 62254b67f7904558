import { setTimeout as sleep } from 'node:timers/promises';
import { nodeClient } from '../test/helpers/galera.js';
import { percentile } from './rounds.js';
import type { WriterLatency } from './writer.js';

// A paced writer in a process of its own (see `pacedWriter`): argv node, table, period in ms. It
// commits until its stdin ends, then prints its WriterLatency as JSON on stdout.

const [n, table, period] = process.argv.slice(2);
const node = Number(n);
const periodMs = Number(period);
if (!(node === 1 || node === 2 || node === 3) || !table || !(periodMs > 0)) {
  process.stderr.write('usage: writer-process.js <1|2|3> <db.table> <period ms>\n');
  process.exit(2);
}
let going = true;
process.stdin.on('end', () => {
  going = false;
});
process.stdin.resume();

const latencies: number[] = [];
const c = await nodeClient(node);
try {
  await c.execute(`CREATE TABLE IF NOT EXISTS ${table} (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB`);
  process.stdout.write('ready\n');
  let scheduled = performance.now();
  while (going) {
    await c.execute(`INSERT INTO ${table} (v) VALUES (1)`, [], { timeoutMs: 120_000 });
    latencies.push(performance.now() - scheduled);
    scheduled += periodMs;
    const wait = scheduled - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await c.execute(`TRUNCATE TABLE ${table}`);
} finally {
  await c.close();
}
const result: WriterLatency = {
  p50: percentile(latencies, 50),
  p99: percentile(latencies, 99),
  max: Math.max(...latencies),
  commits: latencies.length,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
