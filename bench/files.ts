import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilesSnapshotStats } from '../jobs/files-snapshot.js';
import { HEAP_FLAGS } from '../src/lib/heap.js';
import { S3Store } from '../src/storage/s3-store.js';
import { need, repoRoot, s3Facts, uniqueName } from '../test/helpers/testbed.js';
import { generateMedia, mutateMedia } from '../test/testbed/datagen/generate-media.js';
import { AREAS, type WorkerJob, type WorkerResult } from './files-worker.js';
import { type Measured, mbps, measure, printTable } from './measure.js';

// `npm run bench files`: file snapshots of a ~1 GiB Magento tree on the Gluster FUSE mount into
// Ceph RGW, against `tar | zstd -T0 | aws s3 cp -` and back, in the same run. Our side runs in a
// worker process (files-worker.ts, bundled) so its start-up and peak RSS are measured alone.

/** LIFEBOAT_BENCH_FILES_SMOKE=1 runs the same steps on a tree 40 times smaller (to try the benchmark). */
const SMOKE = process.env.LIFEBOAT_BENCH_FILES_SMOKE === '1';
const TREE = SMOKE
  ? { smallFiles: 500, largeFiles: 5, staticFiles: 50, seed: 11 }
  : { smallFiles: 20_000, largeFiles: 200, staticFiles: 2_000, seed: 11 };
/**
 * Which 1 % of the images change (and so how many bytes the second snapshot reads: a few of the
 * 200 large files or none) follows this seed: fixed, so that runs on a fresh tree compare.
 */
const MUTATION_SEED = 4242;
/** runs of the second snapshot; the median is reported */
const SECOND_RUNS = SMOKE ? 1 : 3;
const MB = 1e6;

function store(): S3Store {
  return new S3Store({ ...s3Facts(), forcePathStyle: true });
}

/** The benchmark tree, generated once under the mount and reused by later runs. */
async function ensureTree(mount: string): Promise<string> {
  const root = join(mount, SMOKE ? 'bench-media-smoke' : 'bench-media');
  const done = `${root}.${TREE.smallFiles}-${TREE.largeFiles}-${TREE.staticFiles}-${TREE.seed}.done`;
  if (existsSync(done)) return root;
  console.log(`bench files: generating the tree under ${root} (once; slow through FUSE)`);
  const g = await generateMedia({ root, ...TREE });
  console.log(`bench files: ${g.files} files, ${(g.bytes / MB).toFixed(0)} MB in ${g.seconds} s`);
  writeFileSync(done, JSON.stringify(g));
  return root;
}

/** Drops the kernel's page cache (when allowed) so every measured read goes through Gluster. */
function dropCaches(): void {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
  } catch {
    // not root: measurements then include whatever is cached
  }
}

export async function benchFiles(): Promise<void> {
  const mount = need('GLUSTER_MOUNT');
  const root = await ensureTree(mount);
  const facts = s3Facts();
  const prefix = uniqueName('bench-files');
  const work = join(tmpdir(), prefix);
  mkdirSync(work, { recursive: true });
  const awsEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: facts.accessKeyId,
    AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
    AWS_DEFAULT_REGION: facts.region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
  const aws = `aws --endpoint-url ${facts.endpoint} s3 cp --only-show-errors`;
  const tarKey = `s3://${facts.bucket}/${prefix}/tar/tree.tar.zst`;
  const workerBin = join(repoRoot, 'dist/bundle/files-worker.js');
  const ourTarget = join(mount, `${prefix}-ours`);
  const tarTarget = join(mount, `${prefix}-tar`);
  let step = 0;
  const ours = async (job: Omit<WorkerJob, 's3'>): Promise<Measured & WorkerResult> => {
    step++;
    const jobFile = join(work, `job-${step}.json`);
    const resultFile = join(work, `result-${step}.json`);
    writeFileSync(jobFile, JSON.stringify({ ...job, s3: { ...facts, forcePathStyle: true } } satisfies WorkerJob));
    // with the V8 flags the `lifeboat` executable runs with
    const m = await measure(process.execPath, [...HEAP_FLAGS, workerBin, jobFile, resultFile], { rss: 'self' });
    return { ...m, ...(JSON.parse(readFileSync(resultFile, 'utf8')) as WorkerResult) };
  };
  const sh = (script: string): Promise<Measured> => measure('bash', ['-c', `set -euo pipefail; ${script}`], { env: awsEnv });

  try {
    // the baseline first, its object deleted before ours are written: the testbed's Ceph keeps
    // objects in RAM and holds only a few GB
    dropCaches();
    const tarUp = await sh(`cd '${root}' && tar -cf - pub app var | zstd -q -T0 -3 | ${aws} - '${tarKey}'`);
    dropCaches();
    const tarDown = await sh(`mkdir -p '${tarTarget}' && ${aws} '${tarKey}' - | zstd -q -dc | tar -x -C '${tarTarget}'`);
    await deletePrefix(`${prefix}/tar/`);
    rmSync(tarTarget, { recursive: true, force: true });
    dropCaches();
    const first = await ours({ op: 'snapshot', prefix, root });
    const mutation = await mutateMedia({ root, percent: 1, seed: MUTATION_SEED });
    // the second snapshot is short and its time noisy: it runs several times, from the same
    // previous snapshot (so each does the same work), and the median counts
    const seconds: (Measured & WorkerResult)[] = [];
    for (let i = 0; i < SECOND_RUNS; i++) {
      dropCaches();
      seconds.push(await ours({ op: 'snapshot', prefix, root, ...(first.id ? { snapshot: first.id } : {}) }));
    }
    const second = medianBy(seconds, (r) => r.seconds);
    const secondJob = medianBy(seconds, (r) => (r.stats as FilesSnapshotStats).seconds);
    dropCaches();
    const restore = await ours({ op: 'restore', prefix, root, target: ourTarget, ...(second.id ? { snapshot: second.id } : {}) });

    const s1 = first.stats as FilesSnapshotStats;
    const s2 = second.stats as FilesSnapshotStats;
    const s2job = secondJob.stats as FilesSnapshotStats;
    const secondRss = Math.max(...seconds.map((r) => r.peakRss));
    const bytes = s1.bytes;
    printTable(
      `files: ${s1.files} files, ${(bytes / MB).toFixed(0)} MB on the Gluster mount <-> Ceph RGW ` +
        `(targets: first snapshot and restore >= 0.8x tar, second <= 5 % of first, peak RSS < 250 MB)`,
      [
        ['operation', 'lifeboat s', 'baseline s', 'ratio', 'lifeboat MB/s', 'files/s', 'peak RSS MB', 'uploaded MB'],
        [
          'first snapshot',
          first.seconds,
          tarUp.seconds,
          tarUp.seconds / first.seconds,
          mbps(bytes, first.seconds),
          s1.files / first.seconds,
          first.peakRss / MB,
          s1.uploadedBytes / MB,
        ],
        ...(
          [
            [
              `after 1 % (${mutation.changed.length}+${mutation.added.length}-${mutation.deleted.length})`,
              second.seconds,
              first.seconds,
            ],
            ['after 1 %, job time', s2job.seconds, s1.seconds],
          ] as [string, number, number][]
        ).map(([label, t2, t1]) => [
          label,
          t2,
          t1,
          t2 / t1,
          mbps(s2.readBytes, t2),
          s2.files / t2,
          secondRss / MB,
          s2.uploadedBytes / MB,
        ]),
        [
          'restore (all areas)',
          restore.seconds,
          tarDown.seconds,
          tarDown.seconds / restore.seconds,
          mbps(restore.restored?.bytes ?? 0, restore.seconds),
          (restore.restored?.files ?? 0) / restore.seconds,
          restore.peakRss / MB,
          0,
        ],
      ],
    );
    console.log(
      `  times are wall time of the whole process, as \`lifeboat snapshot\` runs; "job time" is the snapshot ` +
        `alone (${s1.seconds.toFixed(2)} s and ${s2job.seconds.toFixed(2)} s), as the daemon runs it in-process ` +
        `(the process adds Node start-up, imports, reading the previous manifest and the commit)`,
    );
    console.log(
      `  ratio: baseline time / lifeboat time for snapshot and restore (higher is better); ` +
        `second snapshot: its time / the first one's (${s2.reusedFiles} files reused, ${s2.readFiles} read, ` +
        `${s2.mountStats} looked up on the mount); areas read from a local brick: ${s1.brickAreas}/${AREAS.length} ` +
        `(LIFEBOAT_BENCH_FILES_SOURCE=mount reads through FUSE like tar)`,
    );
    console.log(
      `  second snapshot: median of ${SECOND_RUNS} runs from the same previous snapshot; process ` +
        `${seconds.map((r) => r.seconds.toFixed(2)).join(' / ')} s, job ` +
        `${seconds.map((r) => (r.stats as FilesSnapshotStats).seconds.toFixed(2)).join(' / ')} s; peak RSS is the highest`,
    );
  } finally {
    rmSync(ourTarget, { recursive: true, force: true });
    rmSync(tarTarget, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
    await deletePrefix(`${prefix}/`);
  }
}

/** The run with the median value (the upper one of an even count). */
function medianBy<T>(runs: readonly T[], value: (run: T) => number): T {
  const sorted = [...runs].sort((a, b) => value(a) - value(b));
  return sorted[Math.floor(sorted.length / 2)] as T;
}

async function deletePrefix(prefix: string): Promise<void> {
  const s3 = store();
  try {
    const keys: string[] = [];
    for await (const o of s3.list(prefix)) keys.push(o.key);
    await s3.delete(keys);
    await s3.cleanupIncomplete(prefix, new Date());
  } finally {
    s3.destroy();
  }
}
