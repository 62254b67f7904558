import { IntegrityError, NotFoundError, UsageError } from '../lib/errors.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';
import type { Manifest } from './manifest.js';
import { isSnapshotId } from './snapshot-id.js';

/**
 * Verification results live next to the snapshot they describe, one immutable object per check:
 * `snapshots/<id>/verify-<YYYY-MM-DDTHH-MM-SSZ>.json` (plain JSON, so stock tools can read them).
 * The manifest is never rewritten; a snapshot's verified state is derived from its records.
 *
 * A snapshot is VERIFIED when it has a full (not sampled) passing record and no failing record
 * newer than that one. A sampled pass reads only part of the objects, so it cannot make a
 * snapshot verified, but a sampled failure does revoke it. Records that cannot be parsed are
 * ignored: they are evidence neither way.
 */

export const VERIFY_FORMAT = 'lifeboat-verify/1';

export interface VerifiedObject {
  readonly key: string;
  readonly ok: boolean;
  readonly error?: string;
}

export interface VerificationRecord {
  readonly format: typeof VERIFY_FORMAT;
  /** the snapshot checked */
  readonly id: string;
  /** ISO 8601 UTC time of the check */
  readonly verifiedAt: string;
  /** every object read matched both recorded checksums (and the manifest was intact) */
  readonly ok: boolean;
  /** the objects read, each with its outcome */
  readonly objects: readonly VerifiedObject[];
  /** true when only a share of the snapshot's objects was read */
  readonly sampled: boolean;
}

export interface VerificationState {
  readonly verified: boolean;
  /** time of the full passing check that makes the snapshot verified; null when not verified */
  readonly verifiedAt: string | null;
  /** time of the newest check of any kind; null when never checked */
  readonly checkedAt: string | null;
}

/** What this module needs of a Repository. */
export interface VerificationRepo {
  /** the cluster folder: keys are relative to it */
  readonly store: ObjectStore;
}

const PREFIX = 'verify-';

/** How far back `newestVerified` looks (each snapshot looked at costs a manifest read). */
export const VERIFIED_LOOKBACK = 50;

/**
 * The newest of the last `VERIFIED_LOOKBACK` snapshots that `lifeboat verify` read back whole and
 * that `accept`s; null when there is none. What a restore-like operation (a Staging sync, a
 * recovery) should start from by default: the newest snapshot may be the damaged one.
 */
export async function newestVerified(
  repo: VerificationRepo & { snapshotIds(): Promise<string[]>; manifest(id: string): Promise<Manifest> },
  accept: (manifest: Manifest) => boolean = () => true,
): Promise<Manifest | null> {
  const ids = (await repo.snapshotIds()).slice(-VERIFIED_LOOKBACK).reverse();
  const states = await verificationStates(repo, ids);
  for (const id of ids) {
    if (!states.get(id)?.verified) continue;
    const manifest = await repo.manifest(id);
    if (accept(manifest)) return manifest;
  }
  return null;
}

/** Key of the record of a check of snapshot `id` made at `at`. */
export function verificationKey(id: string, at: Date): string {
  if (!isSnapshotId(id)) throw new UsageError(`snapshot id '${id}': expected YYYY-MM-DDTHH-MM-SSZ-xxxxxx`);
  if (Number.isNaN(at.getTime())) throw new UsageError(`snapshot '${id}': invalid verification time`);
  return `snapshots/${id}/${PREFIX}${at.toISOString().slice(0, 19).replaceAll(':', '-')}Z.json`;
}

/**
 * Stores a verification record next to its snapshot and returns its key. A second record of the
 * same snapshot within the same second replaces the first.
 */
export async function recordVerification(
  repo: VerificationRepo,
  result: Omit<VerificationRecord, 'format'>,
  signal?: AbortSignal,
): Promise<string> {
  const key = verificationKey(result.id, new Date(result.verifiedAt));
  const record: VerificationRecord = {
    format: VERIFY_FORMAT,
    id: result.id,
    verifiedAt: result.verifiedAt,
    ok: result.ok,
    objects: result.objects,
    sampled: result.sampled,
  };
  await repo.store.put(key, Buffer.from(`${JSON.stringify(record, null, 2)}\n`), { signal });
  return key;
}

/** The newest readable verification record of a snapshot, or null when it was never checked. */
export async function latestVerification(repo: VerificationRepo, id: string): Promise<VerificationRecord | null> {
  const keys = await recordKeys(repo, `snapshots/${id}/${PREFIX}`);
  for (const key of keys.reverse()) {
    const record = await readRecord(repo, key, id);
    if (record) return record;
  }
  return null;
}

/** Verified state of one snapshot, for listings. */
export async function verificationState(repo: VerificationRepo, id: string): Promise<VerificationState> {
  return stateFrom(repo, id, await recordKeys(repo, `snapshots/${id}/${PREFIX}`));
}

/**
 * Verified state of many snapshots with one listing of `snapshots/`; every id asked for is in the
 * result (never checked: not verified).
 */
export async function verificationStates(
  repo: VerificationRepo,
  ids: readonly string[],
): Promise<Map<string, VerificationState>> {
  const wanted = new Set(ids);
  const keysById = new Map<string, string[]>(ids.map((id) => [id, []]));
  for await (const o of repo.store.list('snapshots/')) {
    const [, id, name] = o.key.split('/');
    if (id && wanted.has(id) && name?.startsWith(PREFIX) && name.endsWith('.json')) keysById.get(id)?.push(o.key);
  }
  const states = new Map<string, VerificationState>();
  for (const [id, keys] of keysById) states.set(id, await stateFrom(repo, id, keys.sort()));
  return states;
}

/** Parses a stored record; damage is an IntegrityError naming the record. */
export function parseVerification(data: Buffer, key: string): VerificationRecord {
  let value: Partial<VerificationRecord>;
  try {
    value = JSON.parse(data.toString('utf8')) as Partial<VerificationRecord>;
  } catch {
    throw new IntegrityError(`verification record '${key}': not valid JSON`);
  }
  const bad = (why: string): IntegrityError => new IntegrityError(`verification record '${key}': ${why}`);
  if (value?.format !== VERIFY_FORMAT) throw bad(`unknown format '${String(value?.format)}'`);
  if (typeof value.id !== 'string' || !isSnapshotId(value.id)) throw bad('has no valid snapshot id');
  if (typeof value.verifiedAt !== 'string' || Number.isNaN(Date.parse(value.verifiedAt))) throw bad('has no valid time');
  if (typeof value.ok !== 'boolean' || typeof value.sampled !== 'boolean') throw bad('lacks ok or sampled');
  if (!Array.isArray(value.objects) || value.objects.some((o) => typeof o?.key !== 'string' || typeof o.ok !== 'boolean'))
    throw bad('has a malformed object list');
  return value as VerificationRecord;
}

/** Keys of records under `prefix`, oldest first (the time in the key sorts). */
async function recordKeys(repo: VerificationRepo, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of repo.store.list(prefix)) if (o.key.endsWith('.json')) keys.push(o.key);
  return keys.sort();
}

/** Walks records newest first until one decides the state. */
async function stateFrom(repo: VerificationRepo, id: string, keysOldestFirst: readonly string[]): Promise<VerificationState> {
  let checkedAt: string | null = null;
  for (const key of [...keysOldestFirst].reverse()) {
    const record = await readRecord(repo, key, id);
    if (!record) continue;
    checkedAt ??= record.verifiedAt;
    if (!record.ok) return { verified: false, verifiedAt: null, checkedAt };
    if (!record.sampled) return { verified: true, verifiedAt: record.verifiedAt, checkedAt };
  }
  return { verified: false, verifiedAt: null, checkedAt };
}

/** A record, or null when it vanished or is unreadable as a record of `id`. */
async function readRecord(repo: VerificationRepo, key: string, id: string): Promise<VerificationRecord | null> {
  try {
    const record = parseVerification(await getBuffer(repo.store, key), key);
    return record.id === id ? record : null;
  } catch (err) {
    if (err instanceof IntegrityError || err instanceof NotFoundError) return null;
    throw err;
  }
}
