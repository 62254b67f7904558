import { SlotBook } from '../src/coord/index.js';
import { errorMessage, IntegrityError, PermanentError, throwIfAborted, UsageError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import type { Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { planRetention, type RetentionPlan, type RetentionPolicy } from '../src/repo/retention.js';
import { isSnapshotId, snapshotTime } from '../src/repo/snapshot-id.js';
import { verificationStates } from '../src/repo/verification.js';
import { booleanParam, type JobDefinition, paramsObject } from './job.js';
import { packObjects } from './settings.js';

export interface PruneOptions {
  readonly repo: Repository;
  readonly policy: RetentionPolicy;
  readonly now?: () => Date;
  /** compute and report everything, delete nothing */
  readonly dryRun?: boolean;
  /** the last runs failed (run history): nothing is removed */
  readonly recentFailures?: boolean;
  /**
   * When the newest committed snapshot is older than this, snapshots are evidently failing and
   * nothing is removed. Default: no such check.
   */
  readonly maxAgeWithoutSnapshotHours?: number;
  /**
   * Pack keys (relative to the cluster folder, `packs/…`) a snapshot needs for a restore. A pack
   * is deleted only when no remaining snapshot's manifest yields it.
   */
  readonly referencedPacks: (manifest: Manifest) => Promise<Iterable<string>>;
  /**
   * Packs younger than this are never deleted (default 24): a snapshot in progress has uploaded
   * packs its not yet committed manifest will reference.
   */
  readonly packGraceHours?: number;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface KeyError {
  readonly key: string;
  readonly error: string;
}

export interface PackCollection {
  /** null when pack collection ran; otherwise why it did not */
  readonly skipped: string | null;
  /** pack objects found under `packs/` */
  readonly scanned: number;
  /** packs a remaining snapshot references */
  readonly referenced: number;
  /** unreferenced packs kept because they are younger than the grace period */
  readonly young: number;
  /** unreferenced packs past the grace period: deleted, or to be deleted in a dry run */
  readonly unreferenced: readonly string[];
  readonly deletedBytes: number;
}

export interface UnfinishedCollection {
  /** null when the collection ran; otherwise why it did not */
  readonly skipped: string | null;
  /** ids of snapshot folders without a manifest, all of whose objects are past the grace period */
  readonly snapshots: readonly string[];
  /** their objects (file lists, pack indexes, a database object): deleted, or to be deleted in a dry run */
  readonly keys: readonly string[];
}

export interface PruneResult {
  readonly dryRun: boolean;
  /** what stays and goes, and why */
  readonly plan: RetentionPlan;
  /** snapshots that no longer exist (their manifest is gone); empty in a dry run */
  readonly removed: readonly string[];
  /** every key deleted, manifests included; empty in a dry run */
  readonly deleted: readonly string[];
  readonly packs: PackCollection;
  /** what runs that never committed left under `snapshots/` */
  readonly unfinished: UnfinishedCollection;
  /** keys that could not be deleted, and snapshots whose manifest could not be read */
  readonly errors: readonly KeyError[];
  /** nothing failed (a blocked plan is not a failure) */
  readonly ok: boolean;
}

const HOUR_MS = 3_600_000;
const MANIFEST = 'manifest.json';
/** keys per delete request (S3 DeleteObjects takes at most 1000) */
const DELETE_BATCH = 1000;

/**
 * Applies the retention policy to the repository. Snapshots count as verified per their
 * verification records (src/repo/verification.ts); a snapshot whose manifest is damaged counts as
 * unverified. A removed snapshot's manifest is deleted first, so the snapshot stops existing at
 * once; its other objects follow, and a failure there leaves only unlisted leftovers (reported per
 * key). Packs are collected afterwards, only when every remaining manifest could be read.
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const graceHours = options.packGraceHours ?? 24;
  if (!Number.isFinite(graceHours) || graceHours < 0)
    throw new UsageError(`pack grace: expected a non-negative number of hours, got ${graceHours}`);
  const maxAge = options.maxAgeWithoutSnapshotHours;
  if (maxAge !== undefined && (!Number.isFinite(maxAge) || maxAge <= 0))
    throw new UsageError(`max age without snapshot: expected a positive number of hours, got ${maxAge}`);
  const now = (options.now ?? (() => new Date()))();
  const dryRun = options.dryRun ?? false;
  const logger = (options.logger ?? nullLogger).child({ job: 'prune', dryRun });
  const progress = options.progress ?? nullProgress;
  const { repo, signal } = options;
  const errors: KeyError[] = [];

  const ids = await repo.snapshotIds();
  const states = await verificationStates(repo, ids);
  const manifests = await loadManifests(repo, ids, errors, logger);
  throwIfAborted(signal, 'prune');

  const newest = ids.at(-1);
  const ageHours = newest ? (now.getTime() - snapshotTime(newest).getTime()) / HOUR_MS : 0;
  const blockedReason = options.recentFailures
    ? 'recent runs failed: nothing is pruned while runs fail'
    : newest && maxAge !== undefined && ageHours > maxAge
      ? `newest snapshot '${newest}' is ${ageHours.toFixed(1)} h old (limit ${maxAge} h): snapshots are failing`
      : undefined;
  const plan = planRetention(
    ids.map((id) => ({
      id,
      time: snapshotTime(id),
      verified: (states.get(id)?.verified ?? false) && manifests.get(id) !== null,
    })),
    options.policy,
    now,
    blockedReason === undefined ? {} : { blockedReason },
  );
  logger.info('retention planned', { keep: plan.keep.length, remove: plan.remove.length, blocked: plan.blocked });

  const removed: string[] = [];
  const deleted: string[] = [];
  if (!dryRun) {
    progress.phase('prune snapshots', plan.remove.length, 'objects');
    for (const { id, reason } of plan.remove) {
      throwIfAborted(signal, 'prune');
      const gone = await removeSnapshot(repo, id, errors);
      deleted.push(...gone);
      if (gone.includes(`snapshots/${id}/${MANIFEST}`)) {
        removed.push(id);
        logger.info('snapshot removed', { id, reason, objects: gone.length });
      }
      progress.advance(1);
    }
    progress.done();
  }

  const packs = plan.blocked
    ? skippedCollection(`pruning is blocked: ${plan.blocked}`)
    : await collectPacks(options, plan, manifests, now, graceHours, errors, deleted, logger);
  const unfinished = plan.blocked
    ? { skipped: `pruning is blocked: ${plan.blocked}`, snapshots: [], keys: [] }
    : await collectUnfinished(repo, now.getTime() - graceHours * HOUR_MS, dryRun, errors, deleted, logger);
  const result: PruneResult = { dryRun, plan, removed, deleted, packs, unfinished, errors, ok: errors.length === 0 };
  logger.info('prune finished', {
    removed: removed.length,
    deletedKeys: deleted.length,
    packsUnreferenced: packs.unreferenced.length,
    errors: errors.length,
  });
  return result;
}

/** Manifest per id; null when it is damaged (reported in `errors`). Other read errors throw. */
async function loadManifests(
  repo: Repository,
  ids: readonly string[],
  errors: KeyError[],
  logger: Logger,
): Promise<Map<string, Manifest | null>> {
  const manifests = new Map<string, Manifest | null>();
  for (const id of ids) {
    try {
      manifests.set(id, await repo.manifest(id));
    } catch (err) {
      if (!(err instanceof IntegrityError)) throw err;
      manifests.set(id, null);
      errors.push({ key: `snapshots/${id}/${MANIFEST}`, error: err.message });
      logger.warn('damaged manifest: snapshot counts as unverified', { id, error: err.message });
    }
  }
  return manifests;
}

/**
 * Deletes the manifest, then, only once it is gone, every other key under the snapshot's folder
 * (its objects and verification records; shared packs live elsewhere). Returns the keys deleted.
 */
async function removeSnapshot(repo: Repository, id: string, errors: KeyError[]): Promise<string[]> {
  const folder = `snapshots/${id}/`;
  const manifestKey = `${folder}${MANIFEST}`;
  const [first] = await deleteKeys(repo, [manifestKey], errors);
  if (!first) return [];
  const rest: string[] = [];
  try {
    for await (const o of repo.store.list(folder)) if (o.key !== manifestKey) rest.push(o.key);
  } catch (err) {
    errors.push({ key: folder, error: `snapshot '${id}': listing its objects failed: ${errorMessage(err)}` });
    return [manifestKey];
  }
  return [manifestKey, ...(await deleteKeys(repo, rest, errors))];
}

/** Deletes in batches; returns the keys deleted and adds one error per key that was not. */
async function deleteKeys(repo: Repository, keys: readonly string[], errors: KeyError[]): Promise<string[]> {
  const done: string[] = [];
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    let results: { key: string; error?: Error }[];
    try {
      results = await repo.store.delete(batch);
    } catch (err) {
      results = batch.map((key) => ({ key, error: err instanceof Error ? err : new Error(String(err)) }));
    }
    const answered = new Set(results.map((r) => r.key));
    for (const r of results) {
      if (r.error) errors.push({ key: r.key, error: `object '${r.key}': delete failed: ${r.error.message}` });
      else done.push(r.key);
    }
    for (const key of batch)
      if (!answered.has(key)) errors.push({ key, error: `object '${key}': store did not report its deletion` });
  }
  return done;
}

/**
 * Unreferenced packs: those no remaining snapshot references and not modified within the grace
 * period. Remaining = every snapshot listed after the deletions (kept ones, ones whose removal
 * failed, ones committed meanwhile); in a dry run, the plan's kept snapshots. With no snapshot at
 * all, packs are left alone: that state needs a human, not a sweep.
 */
async function collectPacks(
  options: PruneOptions,
  plan: RetentionPlan,
  manifests: ReadonlyMap<string, Manifest | null>,
  now: Date,
  graceHours: number,
  errors: KeyError[],
  deleted: string[],
  logger: Logger,
): Promise<PackCollection> {
  const { repo, dryRun, signal } = options;
  const progress = options.progress ?? nullProgress;
  const ids = dryRun ? plan.keep.map((k) => k.id) : await repo.snapshotIds();
  if (ids.length === 0) return skippedCollection('no snapshot remains: packs are left alone');
  const remaining = new Map<string, Manifest | Error>();
  for (const id of ids) {
    const known = manifests.get(id);
    if (known) remaining.set(id, known);
    else if (known === null) remaining.set(id, new Error('manifest damaged'));
    else remaining.set(id, await repo.manifest(id).catch((err: unknown) => errorOf(err)));
  }
  const referenced = new Set<string>();
  for (const [id, manifest] of remaining) {
    let skip: string | undefined;
    if (manifest instanceof Error) skip = `snapshot '${id}' remains but its manifest cannot be read (${manifest.message})`;
    else {
      try {
        for (const key of await options.referencedPacks(manifest)) referenced.add(key);
      } catch (err) {
        skip = `snapshot '${id}': referenced packs unknown: ${errorMessage(err)}`;
      }
    }
    if (skip) {
      logger.warn('pack collection skipped', { reason: skip });
      return skippedCollection(skip);
    }
  }

  const graceStart = now.getTime() - graceHours * HOUR_MS;
  let scanned = 0;
  let referencedCount = 0;
  let young = 0;
  const unreferenced: { key: string; size: number }[] = [];
  for await (const o of repo.store.list('packs/')) {
    scanned++;
    if (referenced.has(o.key)) referencedCount++;
    else if (o.lastModified.getTime() > graceStart) young++;
    else unreferenced.push({ key: o.key, size: o.size });
  }
  throwIfAborted(signal, 'prune');

  let deletedBytes = 0;
  if (!dryRun && unreferenced.length > 0) {
    progress.phase('prune packs', unreferenced.length, 'objects');
    const sizes = new Map(unreferenced.map((p) => [p.key, p.size]));
    const gone = await deleteKeys(
      repo,
      unreferenced.map((p) => p.key),
      errors,
    );
    progress.advance(gone.length);
    progress.done();
    deleted.push(...gone);
    deletedBytes = gone.reduce((sum, key) => sum + (sizes.get(key) ?? 0), 0);
  }
  logger.info('packs collected', {
    scanned,
    referenced: referencedCount,
    young,
    unreferenced: unreferenced.length,
    deletedBytes,
  });
  return {
    skipped: null,
    scanned,
    referenced: referencedCount,
    young,
    unreferenced: unreferenced.map((p) => p.key),
    deletedBytes,
  };
}

/**
 * Folders under `snapshots/` that have no manifest — runs that failed or were killed before they
 * committed — once both the id's time and every object in them are older than `before` (the pack
 * grace: a run still in progress is younger, and its packs are kept by the same bound).
 */
async function collectUnfinished(
  repo: Repository,
  before: number,
  dryRun: boolean,
  errors: KeyError[],
  deleted: string[],
  logger: Logger,
): Promise<UnfinishedCollection> {
  const folders = new Map<string, { committed: boolean; young: boolean; keys: string[] }>();
  for await (const o of repo.store.list('snapshots/')) {
    const [, id, name] = o.key.split('/');
    if (!id || !name || !isSnapshotId(id)) continue;
    const folder = folders.get(id) ?? { committed: false, young: snapshotTime(id).getTime() > before, keys: [] };
    folders.set(id, folder);
    if (name === MANIFEST) folder.committed = true;
    if (o.lastModified.getTime() > before) folder.young = true;
    folder.keys.push(o.key);
  }
  const unfinished = [...folders].filter(([, f]) => !f.committed && !f.young);
  const keys = unfinished.flatMap(([, f]) => f.keys);
  if (!dryRun && keys.length > 0) deleted.push(...(await deleteKeys(repo, keys, errors)));
  if (unfinished.length > 0)
    logger.info(dryRun ? 'unfinished snapshots to remove' : 'unfinished snapshots removed', {
      snapshots: unfinished.map(([id]) => id),
      objects: keys.length,
    });
  return { skipped: null, snapshots: unfinished.map(([id]) => id), keys };
}

function skippedCollection(reason: string): PackCollection {
  return { skipped: reason, scanned: 0, referenced: 0, young: 0, unreferenced: [], deletedBytes: 0 };
}

function errorOf(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export interface PruneParams {
  /** plan only, delete nothing */
  readonly dryRun: boolean;
  /** prune even when the newest snapshot is older than `alerts.rpoHours` */
  readonly forceWhileFailing: boolean;
}

/** The prune job: once per slot across the cluster. */
export const pruneJob: JobDefinition<PruneParams, PruneResult> = {
  kind: 'prune',
  clusterWide: true,
  scheduleKey: 'prune',
  params(input) {
    const p = paramsObject(input, ['dryRun', 'forceWhileFailing']);
    return { dryRun: booleanParam(p, 'dryRun'), forceWhileFailing: booleanParam(p, 'forceWhileFailing') };
  },
  async run(ctx, params, signal) {
    // Under the lease, nothing is pruned while recent snapshot slots failed anywhere in the cluster.
    const recent = ctx.underLease ? await ctx.useDatabase((sql) => new SlotBook(sql, 'snapshot').recent(2)) : [];
    await ctx.beforeCommit();
    return prune({
      repo: ctx.repo,
      policy: ctx.config.retention,
      dryRun: params.dryRun,
      recentFailures: recent.some((r) => r.state === 'failed'),
      maxAgeWithoutSnapshotHours: params.forceWhileFailing ? undefined : ctx.config.alerts.rpoHours,
      referencedPacks: async (m) => packObjects(m).map((p) => p.key),
      logger: ctx.logger,
      progress: ctx.progress,
      signal,
    });
  },
  settle: (result) => ({
    summary: `removed ${result.removed.length}, blocked: ${result.plan.blocked ?? 'no'}`,
    failure: result.ok ? undefined : new PermanentError(`prune: ${result.errors.length} key(s) could not be deleted`),
  }),
};
