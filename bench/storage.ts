import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store } from '../src/storage/s3-store.js';
import { repoRoot, s3Facts, uniqueName } from '../test/helpers/testbed.js';
import { measure, sample } from './measure.js';
import { type BenchOptions, type BenchResult, runRounds } from './rounds.js';

async function dataFile(size: number): Promise<string> {
  const path = join(tmpdir(), `lifeboat-bench-${size / 2 ** 20}mib.bin`);
  if (existsSync(path) && statSync(path).size === size) return path;
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += 8 * 1024 * 1024) {
    if (!out.write(randomBytes(8 * 1024 * 1024))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return path;
}

/** 1 GiB (quick: 32 MiB) of random data to and from Ceph RGW: our S3 store against `aws s3 cp`. */
export async function benchStorage(options: BenchOptions): Promise<BenchResult> {
  const size = (options.quick ? 32 : 1024) * 2 ** 20;
  const facts = s3Facts();
  const file = await dataFile(size);
  const prefix = uniqueName('bench-storage');
  const worker = join(repoRoot, 'dist/bench/storage-worker.js');
  const awsEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: facts.accessKeyId,
    AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
    AWS_DEFAULT_REGION: facts.region,
  };
  const aws = existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
  const awsCp = (from: string, to: string) => async () =>
    sample(await measure(aws, ['--endpoint-url', facts.endpoint, 's3', 'cp', '--only-show-errors', from, to], { env: awsEnv }));
  const ours =
    (...args: string[]) =>
    async () =>
      sample(await measure(process.execPath, [worker, ...args]));
  const s3url = (key: string): string => `s3://${facts.bucket}/${prefix}/${key}`;
  try {
    // The source file stays in the page cache (it is read once per side and round); downloads
    // stream to stdout (discarded), so disk writeback does not decide the result.
    const pairs = await runRounds(
      {
        pairs: [
          {
            name: 'upload',
            ours: { label: 'lifeboat', run: ours('put', file, `${prefix}/ours`) },
            baseline: { label: 'aws s3 cp', run: awsCp(file, s3url('aws')) },
          },
          {
            name: 'download',
            ours: { label: 'lifeboat', run: ours('get', `${prefix}/ours`, '-') },
            baseline: { label: 'aws s3 cp', run: awsCp(s3url('aws'), '-') },
          },
        ],
      },
      options.rounds,
    );
    return {
      title: `storage: ${size / 2 ** 20} MiB to and from Ceph RGW (upload from a file, download to a pipe; targets: ratio >= 0.9, our peak RSS < 200 MB)`,
      pairs,
    };
  } finally {
    const store = new S3Store({ ...facts, forcePathStyle: true });
    await store.delete([`${prefix}/ours`, `${prefix}/aws`]);
    store.destroy();
  }
}
