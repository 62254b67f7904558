import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import picomatch from 'picomatch';
import { AbortedError, errorMessage, throwIfAborted } from '../lib/errors.js';
import { limiter } from '../lib/limit.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { IsoFormatter } from '../lib/time.js';
import type { AreaSpec, BrickKey, FileProblem } from './types.js';

/** What every view of a walked entry has. */
interface EntryShape {
  /** relative to the area directory, `/`-separated */
  readonly path: string;
  readonly type: 'file' | 'dir' | 'symlink';
  /** `st_mode` permission bits */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: number;
  /** symlinks only */
  readonly target?: string;
}

/**
 * What lstat showed of one entry of the walked directory, in list form: the mount's view when the
 * mount was walked, a brick's own (inodes, server-side times) when a brick was (see brickEntry).
 */
export interface WalkedEntry extends EntryShape {
  /** as `isoFromNs` writes it */
  readonly mtime: string;
  /** status change time, as `isoFromNs` writes it (not kept in lists) */
  readonly ctime: string;
  /** decimal inode number */
  readonly inode: string;
}

/** An entry as the mount shows it, which is what a file list records. */
export interface MountEntry extends EntryShape {
  /** the mount's mtime, as `isoFromNs` writes it */
  readonly mtime: string;
  /**
   * the mount's inode number, decimal; lists keep it for files only, so a directory or symlink
   * whose mount view came from the previous list has `''`
   */
  readonly inode: string;
  /** the brick's ctime and inode, when the entry was walked on a brick */
  readonly brick?: BrickKey;
}

/**
 * An entry walked on a Gluster brick: type, mode, owner, size and target are what the mount shows
 * (Gluster stores them natively), the times and inode are not; `brick` keys the entry's change
 * detection. mountView turns it into a MountEntry.
 */
export interface BrickEntry extends EntryShape {
  readonly brick: BrickKey;
}

/** A brick walk's entry as a BrickEntry: its ctime and inode become the brick key. */
export function brickEntry(w: WalkedEntry): BrickEntry {
  const { mtime: _brickMtime, ctime, inode, ...rest } = w;
  return { ...rest, brick: { ctime, inode } };
}

/** A mount walk's entry as a MountEntry: it is the mount's view already (its ctime is not used). */
export function mountEntry(w: WalkedEntry): MountEntry {
  return w;
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
  /** directories listed at once (default 16); each stats its entries with up to 8 calls in flight (not with `threads`) */
  readonly concurrency?: number;
  /** walk this directory instead of the area's (a brick holding the same tree) */
  readonly dir?: string;
  /**
   * the directory is on a local disk (a brick): it is walked with blocking calls on these worker
   * threads, several times cheaper than a promise per call and off the main thread. Never for a
   * network mount, whose calls must be many in flight.
   */
  readonly threads?: WalkThreads;
  /** names skipped in the walked directory itself (a brick root's Gluster internals); no `g` or `y` flag */
  readonly ignoreTop?: RegExp;
  /**
   * receives every entry of the result exactly once, as the same object, before `walkArea`
   * resolves: in batches as threads finish them (one batch after the walk otherwise), unordered,
   * and with directories the include globs then drop. Never called after the walk failed; a throw
   * fails the walk with it. It holds up the walk while it runs.
   */
  readonly onEntries?: (entries: readonly WalkedEntry[]) => void;
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

/** The list form of an lstat (`times`: a walk's own formatter). */
export function statFields(
  stat: BigIntStats,
  times: IsoFormatter = new IsoFormatter(),
): Pick<WalkedEntry, 'mode' | 'uid' | 'gid' | 'size' | 'mtime' | 'ctime' | 'inode'> {
  return {
    mode: Number(stat.mode & 0o7777n),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    size: Number(stat.size),
    mtime: times.format(stat.mtimeNs),
    ctime: times.format(stat.ctimeNs),
    // unsigned, as `stat -c %i` prints it: Node's BigIntStats are signed 64-bit
    inode: BigInt.asUintN(64, stat.ino).toString(),
  };
}

/**
 * Lists an area: regular files, directories (empty ones too) and symlinks selected by its globs,
 * with their lstat. Excluded directories are not descended into; a directory is kept when the
 * include globs match it or anything below it. Unreadable directories become problems; entries
 * removed while walking are counted as vanished. Never throws for a single entry; throws
 * AbortedError when `signal` fires, and the threads' error when they fail or are closed.
 */
export async function walkArea(root: string, area: AreaSpec, options: WalkOptions = {}): Promise<WalkResult> {
  const logger = options.logger ?? nullLogger;
  const base = options.dir ?? areaDir(root, area);
  const what = `area '${area.name}'`;
  const top = await lstat(base, { bigint: true }).catch(asError);
  let parts: WalkPart[];
  if (top instanceof Error || !top.isDirectory()) {
    const found = new Collector(area, undefined);
    found.problem('', top instanceof Error ? top : Object.assign(new Error(`'${base}' is not a directory`), { code: 'ENOTDIR' }));
    parts = [found.part([])];
  } else if (options.threads)
    parts = await walkOnThreads(options.threads, { base, area, ignoreTop: options.ignoreTop }, options.signal, options.onEntries);
  else {
    parts = [await walkAsync(base, area, options)];
    options.onEntries?.(parts[0]?.entries ?? []);
  }
  throwIfAborted(options.signal, what);
  const entries: WalkedEntry[] = [];
  const problems: FileProblem[] = [];
  let vanished = 0;
  let special = 0;
  for (const part of parts) {
    for (const e of part.entries) entries.push(e);
    problems.push(...part.problems);
    vanished += part.vanished;
    special += part.specialPaths.length;
    for (const path of part.specialPaths) logger.debug('skipping special file', { area: area.name, path });
  }
  return { entries: keepSelectedDirs(entries, matcher([...(area.include ?? ['**'])])), problems, vanished, special };
}

/** Part of a walk: what was found below some directories, and the subdirectories not walked yet. */
export interface WalkPart {
  readonly entries: WalkedEntry[];
  readonly problems: FileProblem[];
  readonly vanished: number;
  readonly specialPaths: string[];
  readonly subdirs: string[];
}

/** One unit of work for a walk thread. */
export interface WalkJob {
  readonly base: string;
  readonly area: AreaSpec;
  readonly ignoreTop?: RegExp;
  /** the directory to walk, relative to `base` */
  readonly rel: string;
  /** walk everything below `rel`; otherwise only list `rel` and return its subdirectories */
  readonly deep: boolean;
}

/** What a walk keeps, whichever way the file system is asked. */
class Collector {
  readonly entries: WalkedEntry[] = [];
  readonly problems: FileProblem[] = [];
  readonly specialPaths: string[] = [];
  vanished = 0;
  private readonly times = new IsoFormatter();
  private readonly included: (path: string) => boolean;
  private readonly excluded: (path: string) => boolean;

  constructor(
    private readonly area: AreaSpec,
    private readonly ignoreTop: RegExp | undefined,
  ) {
    this.included = matcher([...(area.include ?? ['**'])]);
    const excludeGlobs = [...(area.exclude ?? [])];
    this.excluded = excludeGlobs.length > 0 ? matcher(excludeGlobs) : () => false;
  }

  /** The entries of directory `rel` to look at. */
  children(rel: string, names: readonly string[]): string[] {
    const ignore = this.ignoreTop;
    const kept = !rel && ignore ? names.filter((n) => !ignore.test(n)) : names;
    return kept.map((n) => (rel ? `${rel}/${n}` : n)).filter((path) => !this.excluded(path));
  }

  listFailed(rel: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code;
    if (rel && (code === 'ENOENT' || code === 'ENOTDIR')) this.vanished++;
    else this.problem(rel, err);
  }

  statFailed(path: string, err: unknown): void {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.vanished++;
    else this.problem(path, err);
  }

  /** Records one entry; true when it is a directory to descend into. */
  record(path: string, stat: BigIntStats, target: string | undefined): boolean {
    if (stat.isDirectory()) {
      this.entries.push({ path, type: 'dir', ...statFields(stat, this.times) });
      return true;
    }
    if (stat.isFile()) {
      if (this.included(path)) this.entries.push({ path, type: 'file', ...statFields(stat, this.times) });
    } else if (target !== undefined) {
      if (this.included(path)) this.entries.push({ path, type: 'symlink', ...statFields(stat, this.times), target });
    } else this.specialPaths.push(path);
    return false;
  }

  problem(path: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    const name = this.area.name;
    this.problems.push({ area: name, path, code, message: `area '${name}': '${path || '.'}': ${errorMessage(err)}` });
  }

  part(subdirs: string[]): WalkPart {
    return { entries: this.entries, problems: this.problems, vanished: this.vanished, specialPaths: this.specialPaths, subdirs };
  }
}

/** One promise per call, many in flight: what a network mount needs. */
async function walkAsync(base: string, area: AreaSpec, options: WalkOptions): Promise<WalkPart> {
  const dirs = limiter(options.concurrency ?? 16);
  const found = new Collector(area, options.ignoreTop);

  /** Lists one directory and stats its entries; returns its subdirectories. */
  const list = async (rel: string): Promise<string[]> => {
    throwIfAborted(options.signal, `area '${area.name}'`);
    const abs = rel ? join(base, ...rel.split('/')) : base;
    let names: string[];
    try {
      names = await readdir(abs);
    } catch (err) {
      found.listFailed(rel, err);
      return [];
    }
    const children = found.children(rel, names);
    const subdirs: string[] = [];
    let next = 0;
    const statNext = async (): Promise<void> => {
      while (next < children.length) {
        const path = children[next++] as string;
        const child = join(abs, path.slice(path.lastIndexOf('/') + 1));
        let stat: BigIntStats;
        let target: string | undefined;
        try {
          stat = await lstat(child, { bigint: true });
          if (stat.isSymbolicLink()) target = await readlink(child);
        } catch (err) {
          found.statFailed(path, err);
          continue;
        }
        if (found.record(path, stat, target)) subdirs.push(path);
      }
    };
    await Promise.all(Array.from({ length: Math.min(STATS_PER_DIR, children.length) }, statNext));
    return subdirs;
  };

  const visit = async (rel: string): Promise<void> => {
    const subdirs = await dirs(() => list(rel));
    await Promise.all(subdirs.map(visit));
  };
  await visit('');
  return found.part([]);
}

/** The walk with blocking calls, for a walk thread (walk-thread.ts). */
export function walkJob(job: WalkJob): WalkPart {
  const found = new Collector(job.area, job.ignoreTop);
  const pending = [job.rel];
  const subdirs: string[] = [];
  for (let rel = pending.pop(); rel !== undefined; rel = pending.pop()) {
    const abs = rel ? join(job.base, ...rel.split('/')) : job.base;
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (err) {
      found.listFailed(rel, err);
      continue;
    }
    for (const path of found.children(rel, names)) {
      const child = join(abs, path.slice(path.lastIndexOf('/') + 1));
      let stat: BigIntStats;
      let target: string | undefined;
      try {
        stat = lstatSync(child, { bigint: true });
        if (stat.isSymbolicLink()) target = readlinkSync(child);
      } catch (err) {
        found.statFailed(path, err);
        continue;
      }
      if (found.record(path, stat, target)) (job.deep ? pending : subdirs).push(path);
    }
  }
  return found.part(subdirs);
}

/**
 * Splits the walk into jobs for the threads: directories are listed one job each until there are
 * enough of them to keep every thread busy, then each job walks a whole subtree.
 */
function walkOnThreads(
  threads: WalkThreads,
  job: Omit<WalkJob, 'rel' | 'deep'>,
  signal: AbortSignal | undefined,
  onEntries: WalkOptions['onEntries'],
): Promise<WalkPart[]> {
  const parts: WalkPart[] = [];
  let open = 0;
  const enough = 4 * threads.size;
  let failed = false;
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      failed = true;
      signal?.removeEventListener('abort', onAbort);
      reject(err);
    };
    // jobs already running finish on their thread; the caller closes the threads to stop them
    const onAbort = (): void => fail(new AbortedError(`area '${job.area.name}': aborted`, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    const submit = (rel: string, deep: boolean): void => {
      open++;
      threads.run({ ...job, rel, deep }, signal).then((part) => {
        open--;
        if (failed) return;
        parts.push(part);
        try {
          onEntries?.(part.entries);
        } catch (err) {
          fail(err);
          return;
        }
        const deeper = open + part.subdirs.length >= enough;
        for (const sub of part.subdirs) submit(sub, deeper);
        if (open === 0) {
          signal?.removeEventListener('abort', onAbort);
          resolve(parts);
        }
      }, fail);
    };
    submit('', false);
  });
}

interface WalkTask {
  readonly job: WalkJob;
  readonly resolve: (part: WalkPart) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Worker threads running walk jobs (walkJob, in walk-thread.ts), newest first, so that a small
 * walk started late is not queued behind a large one. They keep the process alive until `close`.
 */
export class WalkThreads {
  readonly size: number;
  private readonly slots: { readonly worker: Worker; task?: WalkTask | undefined }[] = [];
  private readonly queue: WalkTask[] = [];
  private broken: Error | undefined;

  constructor(size = 2) {
    this.size = size;
    for (let i = 0; i < size; i++) {
      const slot: (typeof this.slots)[number] = { worker: new Worker(new URL('./walk-thread.js', import.meta.url)) };
      slot.worker.on('message', (part: WalkPart) => {
        const task = slot.task;
        slot.task = undefined;
        task?.resolve(part);
        this.dispatch();
      });
      slot.worker.on('error', (err) => this.fail(err, slot));
      slot.worker.on('messageerror', (err) => this.fail(err, slot));
      slot.worker.on('exit', (code) => this.fail(new Error(`walk thread exited with code ${code}`), slot));
      this.slots.push(slot);
    }
  }

  /** Runs one job on the next free thread; a job still queued when `signal` fires is dropped. */
  run(job: WalkJob, signal?: AbortSignal): Promise<WalkPart> {
    const aborted = (): AbortedError => new AbortedError(`area '${job.area.name}': aborted`, { cause: signal?.reason });
    if (signal?.aborted) return Promise.reject(aborted());
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const at = this.queue.indexOf(task);
        if (at >= 0) this.queue.splice(at, 1);
        reject(aborted());
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      const task: WalkTask = {
        job,
        resolve: (part) => {
          done();
          resolve(part);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Ends the threads; jobs not done fail. */
  async close(): Promise<void> {
    this.fail(new Error('walk threads closed'), undefined);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task) continue;
      const task = this.queue.pop();
      if (!task) return;
      slot.task = task;
      slot.worker.postMessage(task.job);
    }
  }

  private fail(err: Error, slot: { task?: WalkTask | undefined } | undefined): void {
    this.broken ??= err;
    slot?.task?.reject(err);
    if (slot) slot.task = undefined;
    for (const waiting of this.queue.splice(0)) waiting.reject(err);
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * A picomatch test (dot files included) under which line breaks in names are ordinary characters:
 * picomatch's `*` and `**` never match them, which would silently drop such files.
 */
function matcher(globs: string[]): (path: string) => boolean {
  if (globs.length === 1 && globs[0] === '**') return () => true; // the default include, asked per entry
  const key = globs.join('\0');
  const known = matchers.get(key);
  if (known) return known;
  const test = picomatch(globs, { dot: true });
  const match = (path: string): boolean => test(path.replace(/[\n\r\u2028\u2029]/g, '\u0001'));
  if (matchers.size < 64) matchers.set(key, match);
  return match;
}

/** compiled globs by their text: a walk thread gets the same area's globs with every job */
const matchers = new Map<string, (path: string) => boolean>();

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
