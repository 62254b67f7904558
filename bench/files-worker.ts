import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FilesSnapshotStats, snapshotFiles } from '../jobs/files-snapshot.js';
import { restoreFiles } from '../restore/files.js';
import { detectCodec } from '../src/codec/zstd.js';
import type { AreaSpec } from '../src/files/index.js';
import { MANIFEST_FORMAT, type Manifest } from '../src/repo/manifest.js';
import { Repository } from '../src/repo/repository.js';
import { newSnapshotId } from '../src/repo/snapshot-id.js';
import { withPrefix } from '../src/storage/decorators.js';
import { S3Store, type S3StoreOptions } from '../src/storage/s3-store.js';

// Our side of `npm run bench files`: one measured operation per process, started as
// `node <HEAP_FLAGS> dist/bundle/files-worker.js <job.json> <result.json>`: bundled and alone, as
// the `lifeboat` executable runs, so its start-up and peak RSS are what a `lifeboat snapshot` pays.

/** `mount` makes our side read through FUSE as tar does; default: a clean local brick when there is one */
const SOURCE = process.env.LIFEBOAT_BENCH_FILES_SOURCE === 'mount' ? 'mount' : 'auto';
/** The whole generated tree is backed up (no excludes) so both sides copy the same files. */
export const AREAS: readonly AreaSpec[] = [
  { name: 'pub/media', path: 'pub/media' },
  { name: 'pub/static', path: 'pub/static' },
  { name: 'app/etc', path: 'app/etc' },
  { name: 'var', path: 'var' },
];
const CLUSTER = 'bench';

export interface WorkerJob {
  readonly s3: S3StoreOptions;
  readonly op: 'snapshot' | 'restore';
  readonly prefix: string;
  readonly root: string;
  /** snapshot: id of the previous snapshot; restore: the snapshot to restore */
  readonly snapshot?: string;
  readonly target?: string;
}

export interface WorkerResult {
  readonly id?: string;
  readonly stats?: FilesSnapshotStats;
  readonly status?: string;
  readonly restored?: { files: number; bytes: number };
}

/** One measured operation in this process: a snapshot (committed) or a restore of every area. */
export async function worker(jobFile: string, resultFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as WorkerJob;
  const s3 = new S3Store(job.s3);
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [jobFile, resultFile] = process.argv.slice(2);
  if (!jobFile || !resultFile) throw new Error('usage: files-worker.js <job.json> <result.json>');
  await worker(jobFile, resultFile);
}
