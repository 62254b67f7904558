import type { BigIntStats, Dirent } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { errorMessage, throwIfAborted } from '../lib/errors.js';
import { limiter } from '../lib/limit.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { isoFromNs } from './meta.js';
import type { AreaSpec, BrickKey, FileProblem } from './types.js';

/** What the walk saw of one entry (lstat, never following symlinks), in list form. */
export interface WalkedEntry {
  /** relative to the area directory, `/`-separated */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** `st_mode` permission bits */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** as `isoFromNs` writes it */
  readonly mtime: string;
  /** status change time, as `isoFromNs` writes it (not kept in lists) */
  readonly ctime: string;
  /** decimal inode number */
  readonly inode: string;
  /** symlinks only */
  readonly target?: string;
  /** set when `mtime` and `inode` are the mount's: what the brick walk showed */
  readonly brick?: BrickKey;
}

export interface WalkResult {
  /** sorted by path */
  readonly entries: WalkedEntry[];
  readonly problems: FileProblem[];
  /** entries that disappeared between listing and stat */
  readonly vanished: number;
  /** sockets, FIFOs and device nodes, which are not backed up */
  readonly special: number;
}

export interface WalkOptions {
  /** directories listed at once (default 16); each stats its entries with up to 8 calls in flight */
  readonly concurrency?: number;
  /** walk this directory instead of the area's (a brick holding the same tree) */
  readonly dir?: string;
  /** names skipped in the walked directory itself (a brick root's Gluster internals) */
  readonly ignoreTop?: (name: string) => boolean;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

/** Calls in flight per directory: its entries are stat'ed right after the listing, while a FUSE
 * client still has their attributes from READDIRPLUS. */
const STATS_PER_DIR = 8;

/** Absolute directory of an area below `root`. */
export function areaDir(root: string, area: AreaSpec): string {
  const rel = area.path.replace(/\/+$/, '');
  return rel === '.' || rel === '' ? root : join(root, ...rel.split('/'));
}

/** The list form of an lstat. */
export function statFields(stat: BigIntStats): Pick<WalkedEntry, 'mode' | 'uid' | 'gid' | 'size' | 'mtime' | 'ctime' | 'inode'> {
  return {
    mode: Number(stat.mode & 0o7777n),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    size: Number(stat.size),
    mtime: isoFromNs(stat.mtimeNs),
    ctime: isoFromNs(stat.ctimeNs),
    // unsigned, as `stat -c %i` prints it: Node's BigIntStats are signed 64-bit
    inode: BigInt.asUintN(64, stat.ino).toString(),
  };
}

/**
 * Lists an area: regular files, directories (empty ones too) and symlinks selected by its globs,
 * with their lstat. Excluded directories are not descended into; a directory is kept when the
 * include globs match it or anything below it. Unreadable directories become problems; entries
 * removed while walking are counted as vanished. Never throws for a single entry.
 */
export async function walkArea(root: string, area: AreaSpec, options: WalkOptions = {}): Promise<WalkResult> {
  const logger = options.logger ?? nullLogger;
  const dirs = limiter(options.concurrency ?? 16);
  const included = matcher([...(area.include ?? ['**'])]);
  const excludeGlobs = [...(area.exclude ?? [])];
  const excluded = excludeGlobs.length > 0 ? matcher(excludeGlobs) : () => false;
  const base = options.dir ?? areaDir(root, area);
  const ignoreTop = options.ignoreTop;
  const entries: WalkedEntry[] = [];
  const problems: FileProblem[] = [];
  let vanished = 0;
  let special = 0;

  const problem = (path: string, err: unknown): void => {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    problems.push({ area: area.name, path, code, message: `area '${area.name}': '${path || '.'}': ${errorMessage(err)}` });
  };

  /** Lists one directory and stats its entries; returns its subdirectories. */
  const list = async (rel: string): Promise<string[]> => {
    throwIfAborted(options.signal, `area '${area.name}'`);
    const abs = rel ? join(base, ...rel.split('/')) : base;
    let names: Dirent[];
    try {
      names = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (rel && (code === 'ENOENT' || code === 'ENOTDIR')) vanished++;
      else problem(rel, err);
      return [];
    }
    if (!rel && ignoreTop) names = names.filter((d) => !ignoreTop(d.name));
    const children = names.map((d) => (rel ? `${rel}/${d.name}` : d.name)).filter((path) => !excluded(path));
    const subdirs: string[] = [];
    let next = 0;
    const statNext = async (): Promise<void> => {
      while (next < children.length) {
        const path = children[next++] as string;
        const sub = await visitEntry(path, join(abs, path.slice(path.lastIndexOf('/') + 1)));
        if (sub) subdirs.push(path);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATS_PER_DIR, children.length) }, statNext));
    return subdirs;
  };

  /** Records one entry; true when it is a directory to descend into. */
  const visitEntry = async (path: string, abs: string): Promise<boolean> => {
    let stat: BigIntStats;
    let target: string | undefined;
    try {
      stat = await lstat(abs, { bigint: true });
      if (stat.isSymbolicLink()) target = await readlink(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') vanished++;
      else problem(path, err);
      return false;
    }
    if (stat.isDirectory()) {
      entries.push({ path, type: 'dir', ...statFields(stat) });
      return true;
    }
    if (stat.isFile()) {
      if (included(path)) entries.push({ path, type: 'file', ...statFields(stat) });
    } else if (target !== undefined) {
      if (included(path)) entries.push({ path, type: 'symlink', ...statFields(stat), target });
    } else {
      special++;
      logger.debug('skipping special file', { area: area.name, path });
    }
    return false;
  };

  const visit = async (rel: string): Promise<void> => {
    const subdirs = await dirs(() => list(rel));
    await Promise.all(subdirs.map(visit));
  };

  try {
    const top = await lstat(base, { bigint: true });
    if (!top.isDirectory()) throw Object.assign(new Error(`'${base}' is not a directory`), { code: 'ENOTDIR' });
  } catch (err) {
    problem('', err);
    return { entries: [], problems, vanished, special };
  }
  await visit('');
  throwIfAborted(options.signal, `area '${area.name}'`);
  return { entries: keepSelectedDirs(entries, included), problems, vanished, special };
}

/**
 * A picomatch test (dot files included) under which line breaks in names are ordinary characters:
 * picomatch's `*` and `**` never match them, which would silently drop such files.
 */
function matcher(globs: string[]): (path: string) => boolean {
  const test = picomatch(globs, { dot: true });
  return (path) => test(path.replace(/[\n\r\u2028\u2029]/g, '\u0001'));
}

/** Drops directories that neither match the include globs nor contain a selected entry. */
function keepSelectedDirs(entries: WalkedEntry[], included: (path: string) => boolean): WalkedEntry[] {
  const needed = new Set<string>();
  for (const e of entries) {
    if (e.type === 'dir' && !included(e.path)) continue;
    for (let i = e.path.lastIndexOf('/'); i > 0; i = e.path.lastIndexOf('/', i - 1)) {
      const parent = e.path.slice(0, i);
      if (needed.has(parent)) break;
      needed.add(parent);
    }
    if (e.type === 'dir') needed.add(e.path);
  }
  return entries
    .filter((e) => e.type !== 'dir' || needed.has(e.path))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
