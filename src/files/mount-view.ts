import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, throwIfAborted } from '../lib/errors.js';
import { limiter } from '../lib/limit.js';
import type { FileEntry, FileProblem } from './types.js';
import { type BrickEntry, type MountEntry, statFields } from './walk.js';

/** lstat calls in flight per listed directory */
const STATS_PER_DIR = 8;
/** children of one directory to look up from which listing it first pays off */
const PRIME_FROM = 4;

export interface MountViewOptions {
  readonly area: string;
  /** the area directory on the mount */
  readonly mountDir: string;
  /** the previous snapshot's entry at a path, only when its list was keyed by the same brick */
  readonly previous?: (path: string) => FileEntry | undefined;
  /**
   * the mount's mtime and inode of brick paths (absolute, below `brickDir`) as Gluster keeps them
   * on the brick; entries it does not answer are looked up through the mount
   */
  readonly fromBrick?: (
    paths: readonly string[],
  ) => Promise<ReadonlyMap<string, { readonly mtime: string; readonly inode: string }>>;
  /** the area directory on the brick (with `fromBrick`) */
  readonly brickDir?: string;
  /** mount directories looked into at once (default 16) */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
}

export interface MountViewResult {
  /**
   * the walked entries with the mount's mtime and inode and their brick key, aligned with the
   * walk: undefined where an entry vanished or could not be looked up
   */
  readonly entries: (MountEntry | undefined)[];
  /** entries whose brick stat had changed (or were new) and were looked up through the mount */
  readonly statted: number;
  /** entries whose brick stat had changed (or were new) and whose mount view came from the brick's xattrs */
  readonly fromBrick: number;
  readonly vanished: number;
  readonly problems: FileProblem[];
}

/**
 * Turns the walk of a brick into what the mount shows. A brick keeps its own inode numbers and
 * server-side times, so each entry's brick ctime and inode become its `brick` key, and the mount's
 * mtime and inode are taken from the previous snapshot when the key is unchanged there (same
 * brick, same type and size), else from Gluster's xattrs on the brick (`fromBrick`), else from one
 * lstat through the mount. Modes and owners are the brick's, which Gluster stores natively.
 */
export async function mountView(walked: readonly BrickEntry[], options: MountViewOptions): Promise<MountViewResult> {
  const out: (MountEntry | undefined)[] = new Array(walked.length);
  const rest = fromPrevious(walked, out, options.previous);
  const fromBrick =
    options.fromBrick && options.brickDir ? await fromXattrs(walked, out, rest, options.fromBrick, options.brickDir) : 0;
  const mount = await throughMount(walked, out, rest, options);
  return { entries: out, fromBrick, ...mount };
}

/** Fills in the entries whose brick key is unchanged since the previous snapshot; the others by parent directory. */
function fromPrevious(
  walked: readonly BrickEntry[],
  out: (MountEntry | undefined)[],
  previous: MountViewOptions['previous'],
): Map<string, number[]> {
  const byParent = new Map<string, number[]>();
  walked.forEach((w, i) => {
    const before = previous?.(w.path);
    if (
      before?.brick &&
      before.type === w.type &&
      !(before.type === 'file' && before.changedDuringBackup) &&
      before.brick.ctime === w.brick.ctime &&
      before.brick.inode === w.brick.inode &&
      (before.type !== 'file' || before.size === w.size)
    ) {
      out[i] = { ...w, mtime: before.mtime, inode: before.type === 'file' ? before.inode : '' };
      return;
    }
    const slash = w.path.lastIndexOf('/');
    const parent = slash < 0 ? '' : w.path.slice(0, slash);
    const list = byParent.get(parent);
    if (list) list.push(i);
    else byParent.set(parent, [i]);
  });
  return byParent;
}

/** Fills in the entries Gluster's xattrs on the brick answer for, and drops them from `byParent`; returns how many. */
async function fromXattrs(
  walked: readonly BrickEntry[],
  out: (MountEntry | undefined)[],
  byParent: Map<string, number[]>,
  fromBrick: NonNullable<MountViewOptions['fromBrick']>,
  brickDir: string,
): Promise<number> {
  if (byParent.size === 0) return 0;
  const pathOf = (i: number): string => join(brickDir, ...(walked[i] as BrickEntry).path.split('/'));
  const times = await fromBrick([...byParent.values()].flat().map(pathOf));
  let found = 0;
  for (const [parent, indexes] of byParent) {
    const rest = indexes.filter((i) => {
      const t = times.get(pathOf(i));
      if (!t) return true;
      out[i] = { ...(walked[i] as BrickEntry), mtime: t.mtime, inode: t.inode };
      found++;
      return false;
    });
    if (rest.length > 0) byParent.set(parent, rest);
    else byParent.delete(parent);
  }
  return found;
}

/**
 * Fills in the remaining entries with one lstat each through the mount. A lookup alone costs a
 * round trip to every brick; listing the parent first (READDIRPLUS) leaves the children's
 * attributes in the FUSE cache, making their lstats ~10x cheaper when several children of one
 * directory are needed.
 */
async function throughMount(
  walked: readonly BrickEntry[],
  out: (MountEntry | undefined)[],
  byParent: ReadonlyMap<string, readonly number[]>,
  options: MountViewOptions,
): Promise<Pick<MountViewResult, 'statted' | 'vanished' | 'problems'>> {
  const dirs = limiter(options.concurrency ?? 16);
  const problems: FileProblem[] = [];
  let statted = 0;
  let vanished = 0;
  const lookUp = async (i: number): Promise<void> => {
    const w = walked[i] as BrickEntry;
    statted++;
    let stat: BigIntStats;
    try {
      stat = await lstat(join(options.mountDir, ...w.path.split('/')), { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (code === 'ENOENT' || code === 'ENOTDIR') vanished++;
      else
        problems.push({
          area: options.area,
          path: w.path,
          code,
          message: `area '${options.area}': '${w.path}': ${errorMessage(err)}`,
        });
      return;
    }
    const type = stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : stat.isSymbolicLink() ? 'symlink' : 'other';
    if (type !== w.type) {
      vanished++; // replaced by something else between the brick walk and this lstat
      return;
    }
    const { mtime, inode } = statFields(stat);
    out[i] = { ...w, mtime, inode };
  };
  const lookups = [...byParent].map(([parent, indexes]) =>
    dirs(async () => {
      throwIfAborted(options.signal, `area '${options.area}'`);
      // only primes the cache: a directory that cannot be listed shows in its children's lstats
      if (indexes.length >= PRIME_FROM)
        await readdir(parent ? join(options.mountDir, ...parent.split('/')) : options.mountDir).catch(() => {});
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < indexes.length) await lookUp(indexes[next++] as number);
      };
      await Promise.all(Array.from({ length: Math.min(STATS_PER_DIR, indexes.length) }, worker));
    }),
  );
  await Promise.all(lookups);
  return { statted, vanished, problems };
}

/** The mount's mtime and inode of one file after its content was read from the brick (undefined: gone). */
export async function mountStat(mountDir: string, path: string): Promise<BigIntStats | undefined> {
  try {
    const stat = await lstat(join(mountDir, ...path.split('/')), { bigint: true });
    return stat.isFile() ? stat : undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
