import type { Repository } from '../src/repo/repository.js';
import { getBuffer } from '../src/storage/object-store.js';

/** One Staging sync as `lifeboat staging status` shows it, stored as JSON in the object store. */
export interface StagingSyncRecord {
  readonly format: 'lifeboat-staging-sync/1';
  /** Staging's schema */
  readonly target: string;
  readonly node: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly ok: boolean;
  /** the snapshot it copied (null when it failed before choosing one) */
  readonly snapshot: string | null;
  readonly error: string | null;
  /** the sync's report when it succeeded */
  readonly report: unknown;
}

const prefix = (target: string): string => `staging/${encodeURIComponent(target)}/`;

/** Stores a sync's record under `staging/<target>/<finishedAt>.json` (the time sorts); returns its key. */
export async function recordStagingSync(repo: Repository, record: Omit<StagingSyncRecord, 'format'>): Promise<string> {
  const key = `${prefix(record.target)}${record.finishedAt.replaceAll(':', '-')}.json`;
  const full: StagingSyncRecord = { format: 'lifeboat-staging-sync/1', ...record };
  await repo.store.put(key, Buffer.from(`${JSON.stringify(full, null, 2)}\n`));
  return key;
}

/** The newest sync of `target` and the newest successful one (the same record when the last one succeeded). */
export async function stagingSyncHistory(
  repo: Repository,
  target: string,
): Promise<{ last: StagingSyncRecord | null; lastSucceeded: StagingSyncRecord | null }> {
  const keys: string[] = [];
  for await (const o of repo.store.list(prefix(target))) if (o.key.endsWith('.json')) keys.push(o.key);
  keys.sort().reverse();
  let last: StagingSyncRecord | null = null;
  for (const key of keys) {
    const record = JSON.parse((await getBuffer(repo.store, key)).toString('utf8')) as StagingSyncRecord;
    last ??= record;
    if (record.ok) return { last, lastSucceeded: record };
  }
  return { last, lastSucceeded: null };
}
