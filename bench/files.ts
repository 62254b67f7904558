import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilesSnapshotStats } from '../jobs/files-snapshot.js';
import { HEAP_FLAGS } from '../src/lib/heap.js';
import { S3Store } from '../src/storage/s3-store.js';
import { need, repoRoot, s3Facts, uniqueName } from '../test/helpers/testbed.js';
import { generateMedia, mutateMedia } from '../test/testbed/datagen/generate-media.js';
import { AREAS, type WorkerJob, type WorkerResult } from './files-worker.js';
import { dropCaches, measure, measureShell, sample } from './measure.js';
import { type BenchOptions, type BenchResult, runRounds, type Sample } from './rounds.js';

// `npm run bench files`: file snapshots of a ~1.2 GB Magento tree (quick: ~200 times smaller: file creation through FUSE decides a restore's time) on the
// Gluster FUSE mount into Ceph RGW, against `tar | zstd -T0 | aws s3 cp -` and back, and against
// restic (a peer: deduplicating, incremental) on the same store. Our side runs in a worker process
// (files-worker.ts, bundled) so its start-up is what `lifeboat snapshot` pays. The page cache is
// dropped before every measured side.

const FULL_TREE = { smallFiles: 20_000, largeFiles: 200, staticFiles: 2_000, seed: 11 };
const QUICK_TREE = { smallFiles: 80, largeFiles: 1, staticFiles: 10, seed: 11 };
/**
 * Which 1 % of the images change (and so how many bytes the second snapshot reads: a few of the
 * 200 large files or none) follows this seed: fixed, so that runs on a fresh tree compare.
 */
const MUTATION_SEED = 4242;
const MB = 1e6;

/** The benchmark tree, generated once under the mount and reused by later runs. */
async function ensureTree(mount: string, quick: boolean): Promise<string> {
  const tree = quick ? QUICK_TREE : FULL_TREE;
  const shape = `${tree.smallFiles}-${tree.largeFiles}-${tree.staticFiles}-${tree.seed}`;
  const root = join(mount, quick ? `bench-media-quick-${shape}` : 'bench-media');
  const done = `${root}.${shape}.done`;
  if (existsSync(done)) return root;
  console.log(`bench files: generating the tree under ${root} (once; slow through FUSE)`);
  const g = await generateMedia({ root, ...tree });
  console.log(`bench files: ${g.files} files, ${(g.bytes / MB).toFixed(0)} MB in ${g.seconds} s`);
  writeFileSync(done, JSON.stringify(g));
  return root;
}

export async function benchFiles(options: BenchOptions): Promise<BenchResult> {
  const mount = need('GLUSTER_MOUNT');
  const root = await ensureTree(mount, options.quick);
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
  const tarKey = (round: number): string => `s3://${facts.bucket}/${prefix}/tar-${round}/tree.tar.zst`;
  const ourPrefix = (round: number): string => `${prefix}/ours-${round}`;
  const ourTarget = (round: number): string => join(mount, `${prefix}-ours-${round}`);
  const tarTarget = (round: number): string => join(mount, `${prefix}-tar-${round}`);
  const resticTarget = (round: number): string => join(mount, `${prefix}-restic-${round}`);
  const restic = resticRepo(facts, prefix, work);
  const workerBin = join(repoRoot, 'dist/bundle/files-worker.js');
  let step = 0;
  let lastStats: { first?: FilesSnapshotStats; second?: FilesSnapshotStats } = {};
  const firstIds: string[] = [];
  // our runs of the round, which the restic pairs compare with too (each is measured once)
  const oursFirst: Sample[] = [];
  const oursRestore: Sample[] = [];
  const asAbove = (samples: Sample[]) => ({ label: 'lifeboat (as above)', run: async (r: number) => samples[r] as Sample });
  const ours = async (job: Omit<WorkerJob, 's3'>): Promise<{ sample: Sample; result: WorkerResult }> => {
    step++;
    const jobFile = join(work, `job-${step}.json`);
    const resultFile = join(work, `result-${step}.json`);
    writeFileSync(jobFile, JSON.stringify({ ...job, s3: { ...facts, forcePathStyle: true } } satisfies WorkerJob));
    // with the V8 flags the `lifeboat` executable runs with
    const m = await measure(process.execPath, [...HEAP_FLAGS, workerBin, jobFile, resultFile]);
    const result = JSON.parse(readFileSync(resultFile, 'utf8')) as WorkerResult;
    // the job alone, as the daemon runs it in-process (the process adds start-up, imports, the commit)
    return { sample: sample(m, result.stats ? { 'snapshot job': result.stats.seconds } : undefined), result };
  };
  const firstSnapshot = async (round: number): Promise<Sample> => {
    const r = await ours({ op: 'snapshot', prefix: ourPrefix(round), root });
    if (r.result.id) firstIds[round] = r.result.id;
    lastStats = { ...lastStats, ...(r.result.stats ? { first: r.result.stats } : {}) };
    oursFirst[round] = r.sample;
    return r.sample;
  };
  const restore = async (round: number): Promise<Sample> => {
    const r = await ours({
      op: 'restore',
      prefix: ourPrefix(round),
      root,
      target: ourTarget(round),
      ...(firstIds[round] ? { snapshot: firstIds[round] } : {}),
    });
    oursRestore[round] = r.sample;
    return r.sample;
  };

  try {
    const full = await runRounds(
      {
        pairs: [
          {
            name: 'first snapshot',
            ours: { label: 'lifeboat', run: firstSnapshot },
            baseline: {
              label: 'tar | zstd | aws',
              run: async (r) =>
                sample(
                  await measureShell(`cd '${root}' && tar -cf - pub app var | zstd -q -T0 -3 | ${aws} - '${tarKey(r)}'`, awsEnv),
                ),
            },
          },
          {
            name: 'first snapshot vs restic',
            ours: asAbove(oursFirst),
            baseline: {
              label: 'restic backup',
              run: async (r) => sample(await restic.run(`round-${r}`, `cd '${root}' && restic backup -q pub app var`)),
            },
          },
          {
            name: 'restore',
            ours: { label: 'lifeboat', run: restore },
            baseline: {
              label: 'aws | zstd -d | tar -x',
              run: async (r) =>
                sample(
                  await measureShell(
                    `mkdir -p '${tarTarget(r)}' && ${aws} '${tarKey(r)}' - | zstd -q -dc | tar -x -C '${tarTarget(r)}'`,
                    awsEnv,
                  ),
                ),
            },
          },
          {
            name: 'restore vs restic',
            ours: asAbove(oursRestore),
            baseline: {
              label: 'restic restore',
              run: async (r) => sample(await restic.run(`round-${r}`, `restic restore -q latest --target '${resticTarget(r)}'`)),
            },
          },
        ],
        beforeRound: (round) => restic.init(`round-${round}`),
        beforeSide: dropCaches,
        // the testbed's Ceph keeps objects in RAM and holds only a few GB: each round's objects go,
        // except the last round's snapshots, the previous ones of every second snapshot below
        afterRound: async (round) => {
          for (const target of [ourTarget(round), tarTarget(round), resticTarget(round)]) {
            rmSync(target, { recursive: true, force: true });
          }
          await deletePrefix(`${prefix}/tar-${round}/`);
          if (round < options.rounds - 1) {
            await deletePrefix(`${ourPrefix(round)}/`);
            await restic.remove(`round-${round}`);
          }
        },
      },
      options.rounds,
    );
    const last = options.rounds - 1;
    const previous = firstIds[last];
    const mutation = await mutateMedia({ root, percent: 1, seed: MUTATION_SEED });
    // every second snapshot starts from the same previous snapshot, so each does the same work;
    // restic's from a copy of the repository its last first backup left
    const [second] = await runRounds(
      {
        pairs: [
          {
            name: `second snapshot after 1 % (${mutation.changed.length}+${mutation.added.length}-${mutation.deleted.length})`,
            ours: {
              label: 'lifeboat',
              run: async () => {
                const r = await ours({
                  op: 'snapshot',
                  prefix: ourPrefix(last),
                  root,
                  ...(previous ? { snapshot: previous } : {}),
                });
                lastStats = { ...lastStats, ...(r.result.stats ? { second: r.result.stats } : {}) };
                return r.sample;
              },
            },
            baseline: {
              label: 'restic backup',
              run: async (r) => sample(await restic.run(`second-${r}`, `cd '${root}' && restic backup -q pub app var`)),
            },
          },
        ],
        beforeRound: (round) => restic.copy(`round-${last}`, `second-${round}`),
        beforeSide: dropCaches,
        afterRound: (round) => restic.remove(`second-${round}`),
      },
      options.rounds,
    );
    const pairs = [...full, ...(second ? [second] : [])];
    const s1 = lastStats.first;
    const s2 = lastStats.second;
    const firstMedian = full[0]?.ours.wallSeconds.median ?? Number.NaN;
    const secondMedian = second?.ours.wallSeconds.median ?? Number.NaN;
    return {
      title:
        `files: ${s1?.files ?? '?'} files, ${((s1?.bytes ?? 0) / MB).toFixed(0)} MB on the Gluster mount <-> Ceph RGW ` +
        '(targets: first snapshot and restore >= 0.8x tar, second <= 5 % of first, peak RSS < 250 MB)',
      pairs,
      notes: [
        'ratio: baseline wall s / lifeboat wall s; "snapshot job": the job alone inside our process (as the daemon runs it)',
        `second snapshot / first (medians of wall time): ${((secondMedian / firstMedian) * 100).toFixed(1)} %` +
          (s2 ? ` (${s2.reusedFiles} files reused, ${s2.readFiles} read, ${s2.mountStats} looked up on the mount)` : ''),
        `areas read from a local brick: ${s1?.brickAreas ?? '?'}/${AREAS.length} (LIFEBOAT_BENCH_FILES_SOURCE=mount reads through FUSE like tar)`,
      ],
    };
  } finally {
    for (let r = 0; r < options.rounds; r++) {
      for (const target of [ourTarget(r), tarTarget(r), resticTarget(r)]) rmSync(target, { recursive: true, force: true });
    }
    rmSync(work, { recursive: true, force: true });
    await deletePrefix(`${prefix}/`);
  }
}

async function deletePrefix(prefix: string): Promise<void> {
  const s3 = new S3Store({ ...s3Facts(), forcePathStyle: true });
  try {
    const keys: string[] = [];
    for await (const o of s3.list(prefix)) keys.push(o.key);
    await s3.delete(keys);
    await s3.cleanupIncomplete(prefix, new Date());
  } finally {
    s3.destroy();
  }
}

/**
 * restic repositories in the testbed bucket, one per name under `<prefix>/restic-<name>`, each with
 * its own cache directory (restic keeps one by default: its index and trees, so that a second
 * backup need not fetch them). `copy` makes a repository as another is now, cache included.
 */
function resticRepo(facts: ReturnType<typeof s3Facts>, prefix: string, work: string) {
  const url = (name: string): string => `s3:${facts.endpoint}/${facts.bucket}/${prefix}/restic-${name}`;
  const cache = (name: string): string => join(work, `restic-cache-${name}`);
  const env = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    AWS_ACCESS_KEY_ID: facts.accessKeyId,
    AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
    AWS_DEFAULT_REGION: facts.region,
    RESTIC_REPOSITORY: url(name),
    RESTIC_PASSWORD: 'lifeboat-bench',
    RESTIC_CACHE_DIR: cache(name),
  });
  const awsEnv = { ...env('-'), AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: '' };
  return {
    run: (name: string, script: string) => measureShell(script, env(name)),
    init: async (name: string): Promise<void> => {
      execFileSync('restic', ['init', '-q'], { env: env(name), stdio: ['ignore', 'ignore', 'inherit'] });
    },
    copy: async (from: string, to: string): Promise<void> => {
      const s3 = (name: string): string => `s3://${facts.bucket}/${prefix}/restic-${name}/`;
      execFileSync('aws', ['--endpoint-url', facts.endpoint, 's3', 'cp', '--recursive', '--only-show-errors', s3(from), s3(to)], {
        env: awsEnv,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      cpSync(cache(from), cache(to), { recursive: true });
    },
    remove: async (name: string): Promise<void> => {
      rmSync(cache(name), { recursive: true, force: true });
      await deletePrefix(`${prefix}/restic-${name}/`);
    },
  };
}
