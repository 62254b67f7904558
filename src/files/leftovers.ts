import { errorMessage, throwIfAborted } from '../lib/errors.js';
import { limiter } from '../lib/limit.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { settleAll } from '../lib/settle.js';
import type { ObjectRecord } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { isSnapshotId, snapshotTime } from '../repo/snapshot-id.js';
import { checkPack, indexLocations, isPackIndexKey, readPackIndex } from './pack-index.js';
import type { ContentLocation, PackIndex } from './types.js';

export interface Leftovers {
  /** where content is in a leftover pack, once that pack passed its check; undefined otherwise */
  readonly locate: (sha256: string) => Promise<ContentLocation | undefined>;
  /** the leftover packs that passed their check */
  readonly records: ReadonlyMap<string, ObjectRecord>;
  readonly counts: { reused: number; refused: number };
}

export interface FindLeftoversOptions {
  /** the run looking: its own folder is not a leftover, and `hours` count back from its time */
  readonly snapshotId: string;
  readonly hours: number;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/**
 * The packs runs that never committed left with an index (within `hours` before `snapshotId`). A pack
 * is checked the first time content in it is wanted: read back whole, its size and sha256 must
 * be those its index records; a pack that fails is never used. Leftovers that cannot be listed
 * or read are skipped with a warning: their content is stored again.
 */
export async function findLeftovers(repo: Repository, options: FindLeftoversOptions): Promise<Leftovers> {
  const { signal } = options;
  const logger = options.logger ?? nullLogger;
  const records = new Map<string, ObjectRecord>();
  const counts = { reused: 0, refused: 0 };
  const none: Leftovers = { locate: async () => undefined, records, counts };
  if (!(options.hours > 0)) return none;
  let indexes: Map<string, PackIndex>;
  try {
    indexes = await readLeftoverIndexes(repo, options, logger);
  } catch (err) {
    throwIfAborted(signal, 'files snapshot');
    logger.warn('could not look for packs of failed runs; their content is stored again', { error: errorMessage(err) });
    return none;
  }
  if (indexes.size === 0) return none;
  const locations = new Map<string, ContentLocation>();
  for (const index of indexes.values())
    for (const [sha256, location] of indexLocations(index)) if (!locations.has(sha256)) locations.set(sha256, location);
  logger.info('packs of failed runs found', { packs: indexes.size, blobs: locations.size });
  const checks = new Map<string, Promise<boolean>>();
  const checkLimit = limiter(2);
  const passes = (pack: string): Promise<boolean> => {
    let check = checks.get(pack);
    if (!check) {
      const record = (indexes.get(pack) as PackIndex).pack;
      check = checkLimit(async () => {
        const problem = await checkPack(repo.store, record, signal);
        if (problem === undefined) {
          records.set(pack, record);
          counts.reused++;
          logger.info('reusing a pack of a failed run', { pack, bytes: record.stored.size });
          return true;
        }
        counts.refused++;
        logger.warn('pack of a failed run refused; its content is stored again', { pack, problem });
        return false;
      });
      checks.set(pack, check);
    }
    return check;
  };
  return {
    locate: async (sha256) => {
      const location = locations.get(sha256);
      return location && (await passes(location.pack)) ? location : undefined;
    },
    records,
    counts,
  };
}

/** The pack indexes in the folders of runs that never committed, by pack key; unreadable ones are skipped with a warning. */
async function readLeftoverIndexes(
  repo: Repository,
  options: FindLeftoversOptions,
  logger: Logger,
): Promise<Map<string, PackIndex>> {
  const from = snapshotTime(options.snapshotId).getTime() - options.hours * 3_600_000;
  const folders = new Map<string, { committed: boolean; indexes: string[] }>();
  for await (const o of repo.store.list('snapshots/')) {
    const [, id, name] = o.key.split('/');
    if (!id || !name || id === options.snapshotId || !isSnapshotId(id) || snapshotTime(id).getTime() < from) continue;
    const folder = folders.get(id) ?? { committed: false, indexes: [] };
    folders.set(id, folder);
    if (name === 'manifest.json') folder.committed = true;
    else if (isPackIndexKey(o.key)) folder.indexes.push(o.key);
  }
  const keys = [...folders.values()].filter((f) => !f.committed).flatMap((f) => f.indexes);
  const indexes = new Map<string, PackIndex>();
  const limit = limiter(8);
  await settleAll(
    keys.map((key) =>
      limit(async () => {
        try {
          const index = await readPackIndex(repo.store, repo.codec, key, options.signal);
          indexes.set(index.pack.key, index);
        } catch (err) {
          throwIfAborted(options.signal, 'files snapshot');
          logger.warn('pack index of a failed run unreadable; its pack is not reused', { index: key, error: errorMessage(err) });
        }
      }),
    ),
  );
  return indexes;
}
