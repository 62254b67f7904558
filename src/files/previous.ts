import { errorMessage, IntegrityError, throwIfAborted } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { Manifest, ObjectRecord } from '../repo/manifest.js';
import type { Repository } from '../repo/repository.js';
import { openFileList } from './file-list.js';
import { modeString } from './meta.js';
import { filesPartOf } from './part.js';
import type { ContentLocation, FileEntry, RegularFileEntry } from './types.js';
import type { MountEntry } from './walk.js';

/** The previous snapshot as the next one's stat cache and dedup base. */
export interface PreviousSnapshot {
  /** the area's list; undefined when there was none or it could not be read (its files are read again) */
  area(name: string): PreviousArea | undefined;
  /** a pack the previous snapshot references */
  pack(key: string): ObjectRecord | undefined;
  /** where content is stored already: the first unflagged entry pointing at it, in area order */
  blobFor(sha256: string): ContentLocation | undefined;
}

export interface PreviousArea {
  /** the brick its entries' brick keys come from (`<volume id>:<brick>`); undefined when read through the mount */
  readonly brick: string | undefined;
  /** the entry listed at `path` */
  entry(path: string): FileEntry | undefined;
  /**
   * The entry to list for the file the mount shows as `now` when its content need not be read
   * again: the previous entry's content (size, mtime and inode unchanged, not flagged, its pack
   * still referenced) with `now`'s metadata and brick key. Undefined: read it.
   */
  lookup(now: MountEntry): RegularFileEntry | undefined;
}

export const noPrevious: PreviousSnapshot = {
  area: () => undefined,
  pack: () => undefined,
  blobFor: () => undefined,
};

/**
 * The previous snapshot's lists (all areas, for dedup) and pack records. A list that cannot be
 * read is skipped with a warning: its area's files are then read again rather than trusted.
 */
export async function loadPrevious(
  repo: Repository,
  manifest: Manifest | undefined,
  options: { readonly logger?: Logger; readonly signal?: AbortSignal } = {},
): Promise<PreviousSnapshot> {
  const part = manifest ? filesPartOf(manifest) : undefined;
  if (!manifest || !part) return noPrevious;
  const logger = options.logger ?? nullLogger;
  const lists = await Promise.all(
    part.areas.map(async (area) => {
      try {
        const record = manifest.objects.find((o) => o.key === area.list);
        if (!record) throw new IntegrityError(`snapshot '${manifest.id}': file list '${area.list}' has no object record`);
        const list = await openFileList(repo, record, options.signal);
        const entries: FileEntry[] = [];
        for await (const e of list.entries) entries.push(e);
        return [area.name, list.header.brick, entries] as const;
      } catch (err) {
        throwIfAborted(options.signal, 'files snapshot');
        logger.warn('previous file list unreadable; its files will be read again', {
          snapshot: manifest.id,
          area: area.name,
          error: errorMessage(err),
        });
        return undefined;
      }
    }),
  );
  return previousSnapshot(
    lists.filter((l) => l !== undefined),
    part.packs,
  );
}

/** The previous snapshot of these lists (area name, the brick its keys come from, entries) and packs. */
export function previousSnapshot(
  lists: Iterable<readonly [area: string, brick: string | undefined, entries: Iterable<FileEntry>]>,
  packRecords: readonly ObjectRecord[],
): PreviousSnapshot {
  const packs = new Map(packRecords.map((p) => [p.key, p]));
  const areas = new Map<string, ReturnType<typeof previousArea>>();
  for (const [name, brick, entries] of lists) {
    const byPath = new Map<string, FileEntry>();
    for (const e of entries) byPath.set(e.path, e);
    areas.set(name, previousArea(brick, byPath, packs));
  }
  let blobs: Map<string, ContentLocation> | undefined; // indexed on the first lookup: most runs read few files
  return {
    area: (name) => areas.get(name),
    pack: (key) => packs.get(key),
    blobFor: (sha256) => {
      blobs ??= blobIndex(areas.values(), packs);
      return blobs.get(sha256);
    },
  };
}

function previousArea(
  brick: string | undefined,
  entries: ReadonlyMap<string, FileEntry>,
  packs: ReadonlyMap<string, ObjectRecord>,
): PreviousArea & { readonly entries: ReadonlyMap<string, FileEntry> } {
  return {
    brick,
    entries,
    entry: (path) => entries.get(path),
    lookup: (now) => reusable(entries.get(now.path), now, packs),
  };
}

/** The previous entry with `now`'s metadata, when size, mtime and inode (the mount's) prove the content unchanged. */
function reusable(
  before: FileEntry | undefined,
  now: MountEntry,
  packs: ReadonlyMap<string, ObjectRecord>,
): RegularFileEntry | undefined {
  if (now.type !== 'file' || before?.type !== 'file' || before.changedDuringBackup) return undefined;
  if (before.size !== now.size || before.mtime !== now.mtime || before.inode !== now.inode) return undefined;
  if (before.size > 0 && (before.pack === undefined || !packs.has(before.pack))) return undefined;
  const mode = modeString(now.mode);
  const sameBrick = before.brick?.ctime === now.brick?.ctime && before.brick?.inode === now.brick?.inode;
  if (sameBrick && before.mode === mode && before.uid === now.uid && before.gid === now.gid) return before; // the common case
  const { brick: _old, ...content } = before;
  return { ...content, mode, uid: now.uid, gid: now.gid, brick: now.brick };
}

/** Where each content is stored, by sha256: the first entry pointing at it into a recorded pack (flagged ones left out). */
function blobIndex(
  areas: Iterable<{ readonly entries: ReadonlyMap<string, FileEntry> }>,
  packs: ReadonlyMap<string, ObjectRecord>,
): Map<string, ContentLocation> {
  const index = new Map<string, ContentLocation>();
  for (const area of areas) {
    for (const e of area.entries.values()) {
      if (e.type !== 'file' || e.changedDuringBackup || e.pack === undefined || !e.frame || e.entry === undefined) continue;
      if (!packs.has(e.pack) || index.has(e.sha256)) continue;
      index.set(e.sha256, { pack: e.pack, frame: e.frame, entry: e.entry });
    }
  }
  return index;
}
