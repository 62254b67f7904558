import { pipeline } from 'node:stream/promises';
import type { Codec } from '../codec/zstd.js';
import { errorMessage, IntegrityError, NotFoundError } from '../lib/errors.js';
import { HashCounter } from '../lib/hashing.js';
import type { ObjectRecord } from '../repo/manifest.js';
import type { ObjectStore } from '../storage/object-store.js';
import { compressChunks } from './pack-writer.js';
import type { ContentLocation, PackIndex } from './types.js';

/**
 * A pack index records, next to the run that wrote a pack, the pack's checksums and where each
 * blob in it is, so that a later run can reuse the pack when this run never commits. Written
 * right after the pack is complete, under `snapshots/<id>/pack-<pack id>.json.zst`; ignored once
 * the snapshot has a manifest (its packs are in `parts.files.packs` then).
 */
export const PACK_INDEX_FORMAT = 'lifeboat-pack-index/1';

/** `snapshots/<id>/pack-<pack id>.json.zst` */
export function packIndexKey(snapshotId: string, packKey: string): string {
  const id = packKey.slice(packKey.lastIndexOf('/') + 1).replace(/\.tar\.zst$/, '');
  return `snapshots/${snapshotId}/pack-${id}.json.zst`;
}

export function isPackIndexKey(key: string): boolean {
  return /^snapshots\/[^/]+\/pack-[0-9a-f]+\.json\.zst$/.test(key);
}

export async function writePackIndex(
  store: ObjectStore,
  codec: Codec,
  snapshotId: string,
  index: PackIndex,
  signal?: AbortSignal,
): Promise<void> {
  const json = Buffer.from(`${JSON.stringify({ format: PACK_INDEX_FORMAT, ...index })}\n`);
  const body = Buffer.concat(await compressChunks(codec, 3, [json]));
  await store.put(packIndexKey(snapshotId, index.pack.key), body, { signal });
}

/** Reads and checks a pack index; anything malformed is an IntegrityError naming the key. */
export async function readPackIndex(store: ObjectStore, codec: Codec, key: string, signal?: AbortSignal): Promise<PackIndex> {
  const chunks: Buffer[] = [];
  const source = await store.get(key, { signal });
  await pipeline(source, codec.decompress(), async (raw: AsyncIterable<Buffer>) => {
    for await (const chunk of raw) chunks.push(chunk);
  });
  const bad = (why: string): IntegrityError => new IntegrityError(`pack index '${key}': ${why}`);
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw bad('not JSON');
  }
  if (v.format !== PACK_INDEX_FORMAT) throw bad(`unknown format '${String(v.format)}'`);
  const pack = v.pack as ObjectRecord | undefined;
  if (
    typeof pack?.key !== 'string' ||
    !/^packs\/[0-9a-f]{2}\/[0-9a-f]+\.tar\.zst$/.test(pack.key) ||
    !Number.isSafeInteger(pack.stored?.size) ||
    typeof pack.stored.sha256 !== 'string' ||
    !Number.isSafeInteger(pack.raw?.size) ||
    typeof pack.raw?.sha256 !== 'string'
  )
    throw bad('malformed pack record');
  if (!Array.isArray(v.blobs)) throw bad('no blobs');
  for (const b of v.blobs as unknown[]) {
    const [sha256, offset, length, entry] = b as [unknown, number, number, number];
    if (
      !Array.isArray(b) ||
      typeof sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(sha256) ||
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      !Number.isSafeInteger(entry) ||
      offset < 0 ||
      length <= 0 ||
      entry < 0 ||
      offset + length > pack.stored.size
    )
      throw bad('malformed blob location');
  }
  return { pack, blobs: v.blobs as PackIndex['blobs'] };
}

/** Where the blobs of an index are. */
export function indexLocations(index: PackIndex): Map<string, ContentLocation> {
  const out = new Map<string, ContentLocation>();
  for (const [sha256, offset, length, entry] of index.blobs)
    out.set(sha256, { pack: index.pack.key, frame: { offset, length }, entry });
  return out;
}

/**
 * Reads a whole pack and compares its size and sha256 with the record: undefined when they
 * match, else why not (missing, shorter, different bytes, unreadable).
 */
export async function checkPack(store: ObjectStore, record: ObjectRecord, signal?: AbortSignal): Promise<string | undefined> {
  const counter = new HashCounter();
  try {
    const source = await store.get(record.key, { signal });
    await pipeline(source, counter, async (bytes: AsyncIterable<Buffer>) => {
      for await (const _ of bytes) {
        // counted and hashed as they pass
      }
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    return err instanceof NotFoundError ? 'missing' : `unreadable: ${errorMessage(err)}`;
  }
  const got = counter.digest();
  if (got.size !== record.stored.size) return `${got.size} bytes, ${record.stored.size} recorded`;
  if (got.sha256 !== record.stored.sha256)
    return `sha256 ${got.sha256.slice(0, 12)}… differs from recorded ${record.stored.sha256.slice(0, 12)}…`;
  return undefined;
}
