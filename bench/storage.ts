import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store } from '../src/storage/s3-store.js';
import { repoRoot, s3Facts, uniqueName } from '../test/helpers/testbed.js';
import { type Measured, mbps, measure, printTable } from './measure.js';

const SIZE = 1024 * 1024 * 1024;
const ROUNDS = 2;

async function dataFile(): Promise<string> {
  const path = join(tmpdir(), 'lifeboat-bench-1gib.bin');
  if (existsSync(path) && statSync(path).size === SIZE) return path;
  const out = createWriteStream(path);
  for (let written = 0; written < SIZE; written += 8 * 1024 * 1024) {
    if (!out.write(randomBytes(8 * 1024 * 1024))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return path;
}

function best(runs: Measured[]): Measured {
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

/** 1 GiB to and from Ceph RGW: our S3 store against `aws s3 cp`, measured in the same run. */
export async function benchStorage(): Promise<void> {
  const facts = s3Facts();
  const file = await dataFile();
  const prefix = uniqueName('bench-storage');
  const worker = join(repoRoot, 'dist/bench/storage-worker.js');
  const awsEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: facts.accessKeyId,
    AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
    AWS_DEFAULT_REGION: facts.region,
  };
  const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
  const s3url = (key: string): string => `s3://${facts.bucket}/${prefix}/${key}`;
  const runs = { oursPut: [] as Measured[], awsPut: [] as Measured[], oursGet: [] as Measured[], awsGet: [] as Measured[] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.oursPut.push(await measure('node', [worker, 'put', file, `${prefix}/ours`], { rss: 'self' }));
      runs.awsPut.push(
        await measure(aws, ['--endpoint-url', facts.endpoint, 's3', 'cp', '--only-show-errors', file, s3url('aws')], {
          env: awsEnv,
        }),
      );
      // Downloads stream to stdout (discarded), so disk writeback does not decide the result.
      runs.oursGet.push(await measure('node', [worker, 'get', `${prefix}/ours`, '-'], { rss: 'self' }));
      runs.awsGet.push(
        await measure(aws, ['--endpoint-url', facts.endpoint, 's3', 'cp', '--only-show-errors', s3url('aws'), '-'], {
          env: awsEnv,
        }),
      );
    }
  } finally {
    const store = new S3Store({ ...facts, forcePathStyle: true });
    await store.delete([`${prefix}/ours`, `${prefix}/aws`]);
    store.destroy();
  }
  const [op, ap, og, ag] = [best(runs.oursPut), best(runs.awsPut), best(runs.oursGet), best(runs.awsGet)];
  const MB = 1e6;
  printTable(
    `storage: 1 GiB to and from Ceph RGW (best of ${ROUNDS}; upload from a file, download to a pipe; targets: ratio >= 0.9, our peak RSS < 200 MB)`,
    [
      ['direction', 'lifeboat MB/s', 'aws s3 cp MB/s', 'ratio', 'lifeboat peak RSS MB', 'aws peak RSS MB'],
      ['upload', mbps(SIZE, op.seconds), mbps(SIZE, ap.seconds), ap.seconds / op.seconds, op.peakRss / MB, ap.peakRss / MB],
      ['download', mbps(SIZE, og.seconds), mbps(SIZE, ag.seconds), ag.seconds / og.seconds, og.peakRss / MB, ag.peakRss / MB],
    ],
  );
}
