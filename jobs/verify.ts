import { createHash } from 'node:crypto';
import {
  AbortedError,
  errorMessage,
  IntegrityError,
  LifeboatError,
  NotFoundError,
  throwIfAborted,
  UsageError,
} from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import type { Manifest, ObjectRecord } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { recordVerification, type VerifiedObject } from '../src/repo/verification.js';
import { type JobDefinition, paramsObject } from './job.js';
import { packObjects } from './settings.js';

export interface VerifySnapshotsOptions {
  readonly repo: Repository;
  readonly now?: () => Date;
  /**
   * Share (0..1) of the objects of snapshots other than the newest that is read back (default
   * 0.1); 1 reads everything. The newest snapshot with a readable manifest is always read
   * completely.
   */
  readonly readDataSubset?: number;
  /**
   * Chooses the sample: an object is read when sha256(seed, key) falls below the share, so the
   * same seed picks the same objects, and an object shared by snapshots is read once or not at
   * all. Default: the UTC date of `now`, so daily runs sample different objects.
   */
  readonly seed?: string;
  /**
   * Objects outside `manifest.objects` that restoring the snapshot reads (e.g. packs written by
   * earlier snapshots); they are checked like the snapshot's own. Default: none.
   */
  readonly referencedObjects?: (manifest: Manifest) => Promise<Iterable<ObjectRecord>>;
  /** check this one snapshot only, completely (`lifeboat verify <id>`); default: all of them */
  readonly only?: string;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

/**
 * - `ok`: every object read matched its checksums (`sampled` tells whether that was all of them);
 * - `damaged`: the manifest or an object is corrupt or missing;
 * - `inconclusive`: some objects could not be read (network, permissions) and none was damaged;
 * - `not-sampled`: the manifest is intact and no object was picked by the sample.
 * Only `ok` and `damaged` are recorded: a transient failure to read is no evidence either way.
 */
export type SnapshotCheckStatus = 'ok' | 'damaged' | 'inconclusive' | 'not-sampled';

export interface SnapshotCheck {
  readonly id: string;
  readonly status: SnapshotCheckStatus;
  /** false when every object of the snapshot was read */
  readonly sampled: boolean;
  /** objects the snapshot consists of (its own and referenced ones) */
  readonly total: number;
  /** the objects read, in manifest order; for an unreadable manifest, the manifest itself */
  readonly objects: readonly VerifiedObject[];
  /** key of the stored verification record, null when none was written */
  readonly record: string | null;
  /** why the record could not be written */
  readonly recordError?: string;
}

export interface VerifySnapshotsResult {
  /** every check completed, found no damage and was recorded */
  readonly ok: boolean;
  readonly readDataSubset: number;
  readonly seed: string;
  /** newest first */
  readonly snapshots: readonly SnapshotCheck[];
  /** ids of damaged snapshots, newest first */
  readonly damaged: readonly string[];
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly damage: boolean; readonly error: string };

/**
 * Re-reads the newest committed snapshot with a readable manifest completely and a deterministic
 * sample of the other snapshots' objects, checking stored and content checksums as the bytes
 * stream (as a restore would), and records the outcome next to each snapshot. Every manifest is
 * read and checked. Never stops at the first problem; only cancellation (AbortedError) ends it
 * early, recording nothing further.
 */
export async function verifySnapshots(options: VerifySnapshotsOptions): Promise<VerifySnapshotsResult> {
  const subset = options.readDataSubset ?? 0.1;
  if (!Number.isFinite(subset) || subset < 0 || subset > 1)
    throw new UsageError(`read-data-subset: expected a share between 0 and 1, got ${subset}`);
  const now = options.now ?? (() => new Date());
  const seed = options.seed ?? now().toISOString().slice(0, 10);
  const logger = (options.logger ?? nullLogger).child({ job: 'verify' });
  const { repo, signal } = options;
  /** outcome per object read in this run, keyed by key and stored checksum: shared packs are read once */
  const seen = new Map<string, Outcome>();

  const ids = options.only === undefined ? (await repo.snapshotIds()).reverse() : [options.only];
  logger.info('verification started', { snapshots: ids.length, readDataSubset: subset, seed });
  const checks: SnapshotCheck[] = [];
  let fullDone = false;
  for (const id of ids) {
    throwIfAborted(signal, 'verify');
    const loaded = await loadObjects(options, id);
    let check: Omit<SnapshotCheck, 'record'>;
    if ('failure' in loaded) {
      const { damage, ...object } = loaded.failure;
      check = { id, status: damage ? 'damaged' : 'inconclusive', sampled: false, total: 0, objects: [object] };
    } else {
      check = await checkObjects(options, id, loaded.objects, !fullDone, seed, subset, seen, logger);
      fullDone = true;
    }
    checks.push(await record(options, check, now(), logger));
  }

  const damaged = checks.filter((c) => c.status === 'damaged').map((c) => c.id);
  const inconclusive = checks.filter((c) => c.status === 'inconclusive').map((c) => c.id);
  const ok = damaged.length === 0 && inconclusive.length === 0 && checks.every((c) => c.recordError === undefined);
  logger[ok ? 'info' : 'warn']('verification finished', { snapshots: checks.length, damaged, inconclusive });
  return { ok, readDataSubset: subset, seed, snapshots: checks, damaged };
}

/** Reads back all (`full`) or the sampled share of a snapshot's objects. */
async function checkObjects(
  options: VerifySnapshotsOptions,
  id: string,
  objects: readonly ObjectRecord[],
  full: boolean,
  seed: string,
  subset: number,
  seen: Map<string, Outcome>,
  logger: Logger,
): Promise<Omit<SnapshotCheck, 'record'>> {
  const progress = options.progress ?? nullProgress;
  const picked = objects.filter((o) => full || picks(seed, o.key, subset));
  progress.phase(
    `verify ${id}`,
    picked.reduce((sum, o) => sum + o.stored.size, 0),
    'bytes',
  );
  const results: VerifiedObject[] = [];
  let damaged = false;
  for (const object of picked) {
    throwIfAborted(options.signal, 'verify');
    const memo = `${object.key}\n${object.stored.sha256}`;
    let outcome = seen.get(memo);
    if (outcome) progress.advance(object.stored.size);
    else {
      outcome = await readBack(options.repo, object, progress, options.signal);
      seen.set(memo, outcome);
    }
    if (outcome.ok) results.push({ key: object.key, ok: true });
    else {
      damaged ||= outcome.damage;
      results.push({ key: object.key, ok: false, error: outcome.error });
      logger.warn('object check failed', { id, key: object.key, damage: outcome.damage, error: outcome.error });
    }
  }
  progress.done();
  const status: SnapshotCheckStatus = damaged
    ? 'damaged'
    : results.some((r) => !r.ok)
      ? 'inconclusive'
      : picked.length === 0 && objects.length > 0
        ? 'not-sampled'
        : 'ok';
  return { id, status, sampled: picked.length < objects.length, total: objects.length, objects: results };
}

/** The objects of a snapshot (own first, then referenced, each key once), or why they are unknown. */
async function loadObjects(
  options: VerifySnapshotsOptions,
  id: string,
): Promise<{ objects: ObjectRecord[] } | { failure: VerifiedObject & { damage: boolean } }> {
  const key = `snapshots/${id}/manifest.json`;
  try {
    const manifest = await options.repo.manifest(id);
    const byKey = new Map<string, ObjectRecord>();
    for (const o of manifest.objects) if (!byKey.has(o.key)) byKey.set(o.key, o);
    for (const o of (await options.referencedObjects?.(manifest)) ?? []) if (!byKey.has(o.key)) byKey.set(o.key, o);
    return { objects: [...byKey.values()] };
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    throwIfAborted(options.signal, 'verify');
    const outcome = classify(err);
    return { failure: { key, ok: false, error: outcome.error, damage: outcome.damage } };
  }
}

/**
 * Streams one object through the repository's checking reader. A failure that is not clearly
 * damage is retried once with a fresh stream before it counts.
 */
async function readBack(repo: Repository, record: ObjectRecord, progress: Progress, signal?: AbortSignal): Promise<Outcome> {
  let outcome: Outcome = { ok: true };
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const stream = await repo.openObject(record, { progress, signal });
      for await (const _ of stream) {
        // the checking happens as the bytes pass
      }
      return { ok: true };
    } catch (err) {
      throwIfAborted(signal, 'verify');
      if (err instanceof AbortedError) throw err;
      outcome = classify(err);
      if (outcome.ok || outcome.damage) return outcome;
    }
  }
  return outcome;
}

/**
 * Damage: checksum or format mismatch (IntegrityError), a missing object (NotFoundError), or an
 * unclassified decoder error. Anything classified otherwise (retryable, permanent) or carrying a
 * system errno (ECONNRESET, EACCES, …) is a failure to read, not evidence of damage.
 */
function classify(err: unknown): Outcome & { ok: false } {
  const error = errorMessage(err);
  if (err instanceof IntegrityError || err instanceof NotFoundError) return { ok: false, damage: true, error };
  if (err instanceof LifeboatError) return { ok: false, damage: false, error };
  const code = (err as { code?: unknown } | null)?.code;
  return { ok: false, damage: !(typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)), error };
}

/** Deterministic sample membership of `key` for `seed` at share `subset`. */
function picks(seed: string, key: string, subset: number): boolean {
  if (subset >= 1) return true;
  if (subset <= 0) return false;
  const digest = createHash('sha256').update(seed).update('\0').update(key).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48 < subset;
}

/** Writes the record of an `ok` or `damaged` check; a failure to write is reported, not thrown. */
async function record(
  options: VerifySnapshotsOptions,
  check: Omit<SnapshotCheck, 'record'>,
  at: Date,
  logger: Logger,
): Promise<SnapshotCheck> {
  if (check.status !== 'ok' && check.status !== 'damaged') return { ...check, record: null };
  try {
    const key = await recordVerification(
      options.repo,
      { id: check.id, verifiedAt: at.toISOString(), ok: check.status === 'ok', objects: check.objects, sampled: check.sampled },
      options.signal,
    );
    logger.info('snapshot checked', {
      id: check.id,
      status: check.status,
      sampled: check.sampled,
      objects: check.objects.length,
    });
    return { ...check, record: key };
  } catch (err) {
    throwIfAborted(options.signal, 'verify');
    logger.error('could not record verification', { id: check.id, error: errorMessage(err) });
    return { ...check, record: null, recordError: errorMessage(err) };
  }
}

export interface VerifyParams {
  /** one snapshot (an id or a prefix that resolves to one), read completely; default all */
  readonly snapshot?: string;
  /** see `VerifySnapshotsOptions.readDataSubset` */
  readonly readDataSubset?: number;
}

/** The verify job: once per slot across the cluster (`lifeboat verify <id>` and `verify-all` run it too). */
export const verifyJob: JobDefinition<VerifyParams, VerifySnapshotsResult> = {
  kind: 'verify',
  clusterWide: true,
  scheduleKey: 'verify',
  params(input) {
    const p = paramsObject(input, ['snapshot', 'readDataSubset']);
    if (p.snapshot !== undefined && typeof p.snapshot !== 'string')
      throw new UsageError("request body: 'snapshot' must be a snapshot id");
    if (p.readDataSubset !== undefined && typeof p.readDataSubset !== 'number') {
      throw new UsageError("request body: 'readDataSubset' must be a number from 0 to 1");
    }
    return { snapshot: p.snapshot, readDataSubset: p.readDataSubset };
  },
  async run(ctx, params, signal) {
    return verifySnapshots({
      repo: ctx.repo,
      only: params.snapshot === undefined ? undefined : (await ctx.repo.resolve(params.snapshot)).id,
      readDataSubset: params.readDataSubset,
      referencedObjects: async (m) => packObjects(m),
      logger: ctx.logger,
      progress: ctx.progress,
      signal,
    });
  },
  settle: (result) => ({
    summary: `checked ${result.snapshots.length}`,
    failure: result.ok ? undefined : new IntegrityError(`verify: damage found in ${result.damaged.length} snapshot(s)`),
  }),
};
