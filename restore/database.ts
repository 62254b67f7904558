import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeGrastate } from '../src/galera/index.js';
import { run, spawnTransform } from '../src/lib/child-process.js';
import { NotFoundError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import type { DatabasePart, Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { restoreInto } from './target-dir.js';

export interface RestoreDatabaseOptions {
  readonly repo: Repository;
  /** snapshot id or `latest` */
  readonly snapshot: string;
  /** directory to restore into (a datadir for physical snapshots) */
  readonly target: string;
  readonly force?: boolean;
  readonly tools?: { readonly mbstream?: string; readonly backup?: string };
  /** user to own the restored datadir (e.g. `mysql`), when running as root */
  readonly owner?: string;
  /** grastate.dat's safe_to_bootstrap (default true: the directory may start a new cluster; false: it joins one) */
  readonly safeToBootstrap?: boolean;
  /** memory mariadb-backup --prepare may use (default 512M) */
  readonly prepareMemory?: string;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface RestoreDatabaseResult {
  readonly manifest: Manifest;
  readonly database: DatabasePart;
  /** a ready datadir (physical) or the directory holding dump.sql (logical) */
  readonly target: string;
  readonly seconds: number;
}

/**
 * Restores a snapshot's database into an empty directory. Physical: download (verifying sha256 as
 * it streams) → zstd → `mbstream -x` → `mariadb-backup --prepare`, then `grastate.dat` from the
 * snapshot's Galera position with safe_to_bootstrap, so the directory can bootstrap a cluster.
 * Logical: `dump.sql` in the directory, loadable with the `mariadb` client.
 */
export async function restoreDatabase(options: RestoreDatabaseOptions): Promise<RestoreDatabaseResult> {
  const started = performance.now();
  const logger = (options.logger ?? nullLogger).child({ job: 'restore-db' });
  const progress = options.progress ?? nullProgress;
  const manifest = await options.repo.resolve(options.snapshot);
  const database = manifest.parts.database;
  const record = manifest.objects.find((o) => o.key === database?.object);
  if (!database || !record) throw new NotFoundError(`snapshot '${manifest.id}': has no database part`);
  logger.info('restoring database', { id: manifest.id, method: database.method, target: options.target });
  const signal = options.signal ? { signal: options.signal } : {};
  // written aside and moved into place once prepared: a failed restore leaves the target as it was
  await restoreInto(options.target, options.force ?? false, async (dir) => {
    progress.phase('download', record.stored.size, 'bytes');
    // readObject: a stage failing part-way on damaged bytes is reported as the object's damage
    if (database.method === 'logical') {
      await options.repo.readObject(record, (content) => pipeline(content, createWriteStream(join(dir, 'dump.sql')), signal), {
        ...signal,
        progress,
      });
      progress.done();
      return;
    }
    const unpack = spawnTransform(options.tools?.mbstream ?? 'mbstream', ['-x', '-C', dir], { name: 'mbstream', ...signal });
    await options.repo.readObject(record, (content) => pipeline(content, unpack, discard(), signal), { ...signal, progress });
    progress.done();
    progress.phase('prepare');
    await run(
      options.tools?.backup ?? 'mariadb-backup',
      ['--prepare', `--target-dir=${dir}`, `--use-memory=${options.prepareMemory ?? '512M'}`],
      { name: 'mariadb-backup --prepare', failOn: /\[ERROR\]/, ...signal },
    );
    progress.done();
    if (database.galera) {
      // the snapshot's position; marked safe unless the directory is to join a running cluster
      await writeGrastate(dir, { ...database.galera, safeToBootstrap: options.safeToBootstrap ?? true });
    }
    if (options.owner) await run('chown', ['-R', `${options.owner}:${options.owner}`, dir], { name: 'chown' });
  });
  if (database.method === 'physical' && options.owner)
    await run('chown', [`${options.owner}:${options.owner}`, options.target], { name: 'chown' });
  const seconds = (performance.now() - started) / 1000;
  logger.info('database restored', { id: manifest.id, seconds });
  return { manifest, database, target: options.target, seconds };
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}
