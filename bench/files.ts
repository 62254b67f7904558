import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FilesSnapshotStats, snapshotFiles } from '../jobs/files-snapshot.js';
import { restoreFiles } from '../restore/files.js';
import { detectCodec } from '../src/codec/zstd.js';
import type { AreaSpec } from '../src/files/index.js';
import { HEAP_FLAGS } from '../src/lib/heap.js';
import { MANIFEST_FORMAT, type Manifest } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { newSnapshotId } from '../src/repo/snapshot-id.js';
import { withPrefix } from '../src/storage/decorators.js';
import { S3Store } from '../src/storage/s3-store.js';
import { need, s3Facts, uniqueName } from '../test/helpers/testbed.js';
import { generateMedia, mutateMedia } from '../test/testbed/datagen/generate-media.js';
import { type Measured, mbps, measure, printTable } from './measure.js';

// `npm run bench files`: file snapshots of a ~1 GiB Magento tree on the Gluster FUSE mount into
// Ceph RGW, against `tar | zstd -T0 | aws s3 cp -` and back, in the same run. Our side runs in a
// worker process (this file with `worker …`) so its peak RSS can be measured alone.

/** LIFEBOAT_BENCH_FILES_SMOKE=1 runs the same steps on a tree 40 times smaller (to try the benchmark). */
const SMOKE = process.env.LIFEBOAT_BENCH_FILES_SMOKE === '1';
const TREE = SMOKE
  ? { smallFiles: 500, largeFiles: 5, staticFiles: 50, seed: 11 }
  : { smallFiles: 20_000, largeFiles: 200, staticFiles: 2_000, seed: 11 };
/** `mount` makes our side read through FUSE as tar does; default: a clean local brick when there is one */
const SOURCE = process.env.LIFEBOAT_BENCH_FILES_SOURCE === 'mount' ? 'mount' : 'auto';
/** The whole generated tree is backed up (no excludes) so both sides copy the same files. */
const AREAS: readonly AreaSpec[] = [
  { name: 'pub/media', path: 'pub/media' },
  { name: 'pub/static', path: 'pub/static' },
  { name: 'app/etc', path: 'app/etc' },
  { name: 'var', path: 'var' },
];
const CLUSTER = 'bench';
/** runs of the second snapshot; the median is reported */
const SECOND_RUNS = SMOKE ? 1 : 3;
const MB = 1e6;

interface WorkerJob {
  readonly op: 'snapshot' | 'restore';
  readonly prefix: string;
  readonly root: string;
  /** snapshot: id of the previous snapshot; restore: the snapshot to restore */
  readonly snapshot?: string;
  readonly target?: string;
}

interface WorkerResult {
  readonly id?: string;
  readonly stats?: FilesSnapshotStats;
  readonly status?: string;
  readonly restored?: { files: number; bytes: number };
}

function store(): S3Store {
  return new S3Store({ ...s3Facts(), forcePathStyle: true });
}

/** One measured operation in this process: a snapshot (committed) or a restore of every area. */
async function worker(jobFile: string, resultFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as WorkerJob;
  const s3 = store();
  try {
    const repo = new Repository(withPrefix(s3, job.prefix), CLUSTER, await detectCodec());
    let result: WorkerResult;
    if (job.op === 'snapshot') {
      const id = newSnapshotId();
      const started = new Date().toISOString();
      const run = await snapshotFiles({
        repo,
        snapshotId: id,
        root: job.root,
        areas: AREAS,
        source: SOURCE,
        // read while Gluster is asked, as `lifeboat snapshot` does
        ...(job.snapshot ? { previous: repo.manifest(job.snapshot) } : {}),
      });
      const manifest: Manifest = {
        format: MANIFEST_FORMAT,
        id,
        cluster: CLUSTER,
        node: 'bench',
        tool: { name: 'lifeboat', version: 'bench' },
        startedAt: started,
        finishedAt: new Date().toISOString(),
        parts: { files: run.part },
        objects: run.objects,
      };
      await repo.commit(manifest);
      result = { id, stats: run.stats, status: run.status };
    } else {
      const manifest = await repo.manifest(job.snapshot as string);
      let files = 0;
      let bytes = 0;
      for (const area of AREAS) {
        const r = await restoreFiles({ repo, manifest, area: area.name, target: join(job.target as string, area.path) });
        files += r.files;
        bytes += r.bytes;
      }
      result = { restored: { files, bytes } };
    }
    writeFileSync(resultFile, JSON.stringify(result));
  } finally {
    s3.destroy();
  }
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
  const self = fileURLToPath(import.meta.url);
  const ourTarget = join(mount, `${prefix}-ours`);
  const tarTarget = join(mount, `${prefix}-tar`);
  let step = 0;
  const ours = async (job: WorkerJob): Promise<Measured & WorkerResult> => {
    step++;
    const jobFile = join(work, `job-${step}.json`);
    const resultFile = join(work, `result-${step}.json`);
    writeFileSync(jobFile, JSON.stringify(job));
    // with the V8 flags the `lifeboat` executable runs with
    const m = await measure(process.execPath, [...HEAP_FLAGS, self, 'worker', jobFile, resultFile], { rss: 'self' });
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
    const mutation = await mutateMedia({ root, percent: 1, seed: Date.now() % 100_000 });
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

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'worker') {
  const [jobFile, resultFile] = process.argv.slice(3);
  if (!jobFile || !resultFile) throw new Error('usage: files.js worker <job.json> <result.json>');
  await worker(jobFile, resultFile);
}
