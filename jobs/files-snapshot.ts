import type { BigIntStats } from 'node:fs';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Codec } from '../src/codec/zstd.js';
import {
  type AreaSpec,
  areaDir,
  type BrickKey,
  ByteBudget,
  type ContentLocation,
  checkPack,
  DEFAULT_FRAME_BYTES,
  DEFAULT_PACK_BYTES,
  FILES_FORMAT,
  type FileEntry,
  type FileListHeader,
  type FileProblem,
  type FilesArea,
  type FilesPart,
  fileListKey,
  filesPartOf,
  indexLocations,
  isPackIndexKey,
  isSameEntryLine,
  linePack,
  loadFileListLines,
  modeString,
  mountStat,
  mountView,
  type PackIndex,
  PackWriter,
  parseEntry,
  type ReadHook,
  type RegularFileEntry,
  readPackIndex,
  readStable,
  SPOOL_CHUNK,
  statFields,
  validateAreas,
  type WalkedEntry,
  WalkThreads,
  walkArea,
  writeFileList,
  writePackIndex,
} from '../src/files/index.js';
import {
  BRICK_INTERNAL,
  type BrickOptions,
  type BrickView,
  chooseBrick,
  defaultGlusterd,
  type Glusterd,
  memoizedGlusterd,
  mountTimesFromBrick,
  stillHealed,
} from '../src/gluster/index.js';
import { errorMessage, IntegrityError, throwIfAborted } from '../src/lib/errors.js';
import { relaxedHeapGrowth } from '../src/lib/heap.js';
import { limiter } from '../src/lib/limit.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import { isoFromNs } from '../src/lib/time.js';
import type { Manifest, ObjectRecord } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { isSnapshotId, snapshotTime } from '../src/repo/snapshot-id.js';

export type { AreaSpec, FileProblem, FilesPart } from '../src/files/index.js';

export interface SnapshotFilesOptions {
  readonly repo: Repository;
  readonly snapshotId: string;
  /** directory the areas' paths are relative to (the Magento root on the Gluster mount) */
  readonly root: string;
  readonly areas: readonly AreaSpec[];
  /**
   * the previous committed snapshot: its file lists are the stat cache and its packs the dedup
   * base. A promise lets Gluster be asked while the caller still looks for it; its rejection fails the run.
   */
  readonly previous?: Manifest | Promise<Manifest | undefined>;
  /** files read at once (default 16: FUSE reads are latency bound) */
  readonly concurrency?: number;
  /** raw size at which a pack is closed (default 128 MiB) */
  readonly packBytes?: number;
  /** raw size at which a frame is cut (default 4 MiB) */
  readonly frameBytes?: number;
  readonly compressionLevel?: number;
  /** zstd implementation of the packs (default: the repository's) */
  readonly codec?: Codec;
  /** where files larger than a frame are copied while being read (default: the OS temp dir) */
  readonly tmpDir?: string;
  /** bytes of file content held in memory at once by the readers (default 8 MiB) */
  readonly memoryBytes?: number;
  /** reads of a file that keeps changing before it is stored flagged (default 3) */
  readonly attempts?: number;
  /**
   * `auto` (default) walks and reads a local Gluster brick instead of the mount when the volume
   * allows it (see chooseBrick), taking mtimes and inodes from the mount; `mount` never does
   */
  readonly source?: 'auto' | 'mount';
  /** how bricks are found (test seam: the gluster CLI) */
  readonly brickOptions?: Omit<BrickOptions, 'signal'>;
  /** test seam: runs between reading a file and re-checking its stat */
  readonly readHook?: ReadHook;
  /**
   * packs left by runs that never committed and started less than this many hours ago (default
   * 12) are reused once read back whole and matched with their recorded sha256. Keep it below
   * prune's pack grace (24 h), which is what keeps such packs in the bucket meanwhile.
   */
  readonly reuseLeftoverHours?: number;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface FilesSnapshotStats {
  readonly files: number;
  readonly dirs: number;
  readonly symlinks: number;
  /** total size of all regular files in the snapshot */
  readonly bytes: number;
  /** files whose size, mtime and inode matched the previous list: not read */
  readonly reusedFiles: number;
  readonly readFiles: number;
  readonly readBytes: number;
  /** files read whose content was already stored (earlier snapshot or this run) */
  readonly dedupedFiles: number;
  /** new content blobs packed, and their content bytes */
  readonly newBlobs: number;
  readonly newBytes: number;
  readonly packs: number;
  /** stored bytes of the new packs */
  readonly packBytes: number;
  /** stored bytes of the file lists */
  readonly listBytes: number;
  /** everything this run uploaded: packs and lists */
  readonly uploadedBytes: number;
  readonly changedDuringBackup: number;
  readonly vanished: number;
  /** sockets, FIFOs and devices, not backed up */
  readonly special: number;
  /** areas walked and read from a local brick rather than the mount */
  readonly brickAreas: number;
  /** lstat calls through the mount for entries a brick walk found new or changed */
  readonly mountStats: number;
  /** entries a brick walk found new or changed whose mount mtime and inode came from Gluster's xattrs on the brick */
  readonly mountFromXattrs: number;
  /** packs of runs that never committed: referenced by this run after a check, or refused by the check */
  readonly leftoverPacks: { readonly reused: number; readonly refused: number };
  readonly seconds: number;
}

export interface SnapshotFilesResult {
  /** goes into `manifest.parts.files` */
  readonly part: FilesPart;
  /** new packs and the file lists: go into `manifest.objects` */
  readonly objects: ObjectRecord[];
  readonly status: 'complete' | 'partial';
  readonly problems: FileProblem[];
  readonly stats: FilesSnapshotStats;
}

const MAX_PROBLEMS_IN_PART = 100;
/** brick ctimes this close to the start of a run (or later) are not trusted as change keys */
const RACY_MS = 2000;
const MiB = 1024 * 1024;
/** threads walking local bricks: two keep a disk's queue busy (measured: a third adds nothing) */
const WALK_THREADS = 2;

interface Previous {
  /** each area's list, unparsed: most lines are written again as they are */
  readonly byArea: Map<string, PreviousList>;
  readonly packs: Map<string, ObjectRecord>;
  /** where content is stored already (the first line of the lists pointing at it), by sha256 */
  readonly blob: (sha256: string) => ContentLocation | undefined;
}

interface PreviousList {
  readonly key: string;
  /** the brick the list was keyed by */
  readonly brick?: string;
  /** entry lines by path */
  readonly lines: Map<string, string>;
}

/** A content blob of this run: known from before, or waiting for its frame to be written. */
interface Blob {
  location?: ContentLocation;
}

/** A file read by this run; its content location is known once its frame is written. */
interface PendingFile {
  readonly kind: 'pending';
  readonly file: Omit<RegularFileEntry, 'pack' | 'frame' | 'entry'>;
  readonly blob?: Blob;
}

interface AreaState {
  readonly spec: AreaSpec;
  /** the area directory on the mount */
  readonly mountDir: string;
  /** set when the area is walked and read from a local brick */
  readonly brick?: BrickView;
  /** the area directory's own metadata, through the mount (before the walk, as every directory's) */
  readonly root: FileListHeader['root'];
  /**
   * in walk order; a string is a previous list's line written again as it is; a slot stays
   * empty when its entry vanished or could not be read
   */
  readonly entries: (FileEntry | PendingFile | string | undefined)[];
  /** what the reused lines hold (their files also count in `reused`) */
  readonly lineTotals: { files: number; dirs: number; symlinks: number; bytes: number };
  readonly problems: FileProblem[];
  vanished: number;
  changed: number;
}

/**
 * Backs up file areas incrementally into the repository: walks each area, reuses the previous
 * snapshot's content for files whose size, mtime and inode are unchanged, reads the others
 * (parallel, each checked for changes while read), stores new content once in shared packs and
 * writes one file list per area. Unreadable files make the result `partial`, never a silent
 * success. Commits nothing: the caller puts `part` and `objects` into the manifest it commits.
 * When the run fails, the packs it wrote are deleted (best effort).
 */
export async function snapshotFiles(options: SnapshotFilesOptions): Promise<SnapshotFilesResult> {
  Promise.resolve(options.previous).catch(() => {}); // awaited in loadPrevious, or dropped when the areas are invalid
  validateAreas(options.areas);
  const started = new Date();
  const logger = (options.logger ?? nullLogger).child({ job: 'files-snapshot', snapshot: options.snapshotId });
  const progress = options.progress ?? nullProgress;
  const signal = options.signal;
  const concurrency = options.concurrency ?? 16;
  const frameBytes = options.frameBytes ?? DEFAULT_FRAME_BYTES;
  const repo = options.repo;

  const spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'lifeboat-files-'));
  let ended = false;
  // an incremental run's scan keeps the previous lists: long-lived data, not streamed garbage (not
  // relaxed for a first run: the limit V8 sets meanwhile lasts into the reads, +20 MB peak RSS)
  let unrelax = (): void => {};
  const relax = (): void => {
    if (!ended) unrelax = relaxedHeapGrowth();
  };

  // Gluster is asked first (its answers gate the walks); the previous lists download meanwhile
  const glusterd =
    options.brickOptions?.glusterd ??
    defaultGlusterd({
      onFallback: (what, err) =>
        logger.debug("no usable answer on glusterd's socket; asking the gluster CLI", {
          question: what,
          error: errorMessage(err),
        }),
    });
  const gluster = memoizedGlusterd(glusterd);
  const choices = options.areas.map((spec) => {
    const mountDir = areaDir(options.root, spec);
    return { spec, mountDir, brick: brickFor(mountDir, spec, options, gluster, logger) };
  });
  for (const c of choices) c.brick.catch(() => {}); // awaited below
  const loading = loadPrevious(repo, options.previous, logger, signal, relax);
  loading.catch(() => {}); // awaited below
  const leftovers = loadLeftovers(repo, options, logger);
  leftovers.catch(() => {}); // awaited below
  // brick walks run on threads, started with the first brick walk and closed after the walks
  let threads: WalkThreads | undefined;
  const walkThreads = (): WalkThreads => {
    threads ??= new WalkThreads(WALK_THREADS);
    return threads;
  };
  let closing: Promise<ObjectRecord[]> | undefined;
  /** packs of this run whose index is stored */
  const indexed = new Set<string>();
  const packer = new PackWriter({
    store: repo.store,
    codec: options.codec ?? repo.codec,
    packBytes: options.packBytes ?? DEFAULT_PACK_BYTES,
    frameBytes,
    ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
    // each complete pack is indexed next to this run, so a next run can reuse it if this one never commits
    onPack: async (index) => {
      try {
        await writePackIndex(repo.store, repo.codec, options.snapshotId, index, signal);
        indexed.add(index.pack.key);
      } catch (err) {
        logger.warn('could not write a pack index: the pack cannot be reused if this run fails', {
          pack: index.pack.key,
          error: errorMessage(err),
        });
      }
    },
    ...(signal ? { signal } : {}),
  });
  /** this run's content blobs, and the previous lists' ones once looked up */
  const blobs = new Map<string, Blob>();
  // A brick key taken within the file system's timestamp granularity of the run is not kept (a
  // same-size write in the same tick would not move it): such entries are looked at again next
  // time, as git does with racily clean index entries.
  const racyFrom = isoFromNs(BigInt(started.getTime() - RACY_MS) * 1_000_000n);
  /** packs the lists point into, each with the first file found in it */
  const used = new Map<string, string>();
  const counts = { reused: 0, read: 0, readBytes: 0, deduped: 0, special: 0, mountStats: 0, fromXattrs: 0 };
  const lists: ObjectRecord[] = [];

  try {
    // 1. walk every area (stat only) and compare it with the previous list, so the read phase
    // knows its total. Areas go at once (a walk waits mostly on the file system).
    progress.phase('scan', undefined, 'files');
    const toRead: { state: AreaState; walked: WalkedEntry; slot: number }[] = [];
    const states = await Promise.all(
      choices.map(async ({ spec, mountDir, brick: choice }) => {
        const brick = await choice;
        if (ended) throw new Error('files snapshot: ended before this area was walked');
        const top = await lstat(mountDir, { bigint: true }).catch(() => undefined); // a missing area is the walk's problem
        // 2. an entry whose previous line still holds keeps that line (looked up batch by batch:
        // a brick walk's batches come while its threads go on)
        const kept = new Map<WalkedEntry, string>();
        let comparing = Promise.resolve();
        const compare = (batch: readonly WalkedEntry[]): void => {
          comparing = comparing.then(async () => {
            const previous = await loading;
            const list = previous.byArea.get(spec.name);
            if (!list || (brick && list.brick !== brick.id)) return;
            for (const w of batch) {
              const line = list.lines.get(w.path);
              if (line !== undefined && reusableLine(line, w, brick ? racyFrom : undefined, previous.packs)) kept.set(w, line);
            }
          });
          comparing.catch(() => {}); // awaited after the walk
        };
        const walk = await walkArea(options.root, spec, {
          concurrency,
          logger,
          onEntries: compare,
          ...(brick
            ? {
                dir: brick.dir,
                threads: walkThreads(),
                ...(brick.atBrickRoot ? { ignoreTop: BRICK_INTERNAL } : {}),
              }
            : {}),
          ...(signal ? { signal } : {}),
        });
        progress.advance(walk.entries.length);
        counts.special += walk.special;
        const state: AreaState = {
          spec,
          mountDir,
          ...(brick ? { brick } : {}),
          root: top?.isDirectory() ? meta(statFields(top)) : undefined,
          entries: [],
          lineTotals: { files: 0, dirs: 0, symlinks: 0, bytes: 0 },
          problems: [...walk.problems],
          vanished: walk.vanished,
          changed: 0,
        };
        await comparing;
        const previous = await loading;
        const list = previous.byArea.get(spec.name);
        const sameBrick = brick !== undefined && list?.brick === brick.id;
        // the others (new or changed, or on a brick without a comparable key) get the mount's view
        // and are compared field by field; what is not reusable then is read
        const rest: WalkedEntry[] = [];
        const slots: number[] = [];
        for (const w of walk.entries) {
          const line = kept.get(w);
          if (line !== undefined) {
            keepLine(state, line, w);
            continue;
          }
          rest.push(w);
          slots.push(state.entries.length);
          state.entries.push(undefined);
        }
        const before = new Map<string, FileEntry>();
        for (const w of rest) {
          const e = list && previousEntry(list, w.path);
          if (e) before.set(w.path, e);
        }
        const viewed = brick ? await withMountView(state, brick, rest, sameBrick ? before : undefined) : rest;
        viewed.forEach((w, i) => {
          const slot = slots[i] as number;
          if (!w) return; // vanished since the walk: its slot stays empty
          if (w.type === 'dir') state.entries[slot] = { path: w.path, type: 'dir', ...meta(w), ...brickKey(w) };
          else if (w.type === 'symlink')
            state.entries[slot] = { path: w.path, type: 'symlink', ...meta(w), target: w.target ?? '', ...brickKey(w) };
          else {
            const reused = reusable(before.get(w.path), w, previous);
            if (reused) {
              counts.reused++;
              state.entries[slot] = reused;
            } else toRead.push({ state, walked: w, slot });
          }
        });
        return state;
      }),
    );
    progress.done();
    await threads?.close(); // their heaps are not kept through the reads
    const previous = await loading;
    const left = await leftovers;

    /** Keeps a previous line as it is (reusableLine said it holds). */
    function keepLine(state: AreaState, line: string, w: WalkedEntry): void {
      state.entries.push(line);
      const totals = state.lineTotals;
      if (w.type === 'dir') totals.dirs++;
      else if (w.type === 'symlink') totals.symlinks++;
      else {
        totals.files++;
        totals.bytes += w.size;
        counts.reused++;
        const pack = linePack(line);
        if (pack !== undefined && !used.has(pack)) used.set(pack, w.path);
      }
    }

    /** Content the previous lists point at, noted among this run's blobs once looked up. */
    function storedBlob(sha256: string): Blob | undefined {
      const location = previous.blob(sha256);
      if (!location) return undefined;
      const blob = { location };
      blobs.set(sha256, blob);
      return blob;
    }

    let unreadableEntries = 0;
    /** The previous entry at `path`, parsed; a line that does not parse is skipped (its file is read again). */
    function previousEntry(list: PreviousList, path: string): FileEntry | undefined {
      const line = list.lines.get(path);
      if (line === undefined) return undefined;
      try {
        return parseEntry(line, list.key, 0);
      } catch (err) {
        if (++unreadableEntries <= 10)
          logger.warn('previous file list entry unreadable; the file will be read again', {
            list: list.key,
            path,
            error: errorMessage(err),
            ...(unreadableEntries === 10 ? { note: 'further ones are not logged' } : {}),
          });
        return undefined;
      }
    }

    /**
     * A brick's walk with the mount's mtimes and inodes: from the previous entries (of the same
     * brick) where the brick saw no change. Aligned with `walked`: undefined where an entry vanished.
     */
    async function withMountView(
      state: AreaState,
      brick: BrickView,
      walked: WalkedEntry[],
      before: ReadonlyMap<string, FileEntry> | undefined,
    ): Promise<(WalkedEntry | undefined)[]> {
      const view = await mountView(walked, {
        area: state.spec.name,
        mountDir: state.mountDir,
        ...(brick.mdata
          ? {
              brickDir: brick.dir,
              fromBrick: (paths) =>
                mountTimesFromBrick(paths, {
                  ...options.brickOptions,
                  ...(signal ? { signal } : {}),
                  onError: (err) =>
                    logger.warn('cannot read Gluster xattrs on the brick; looking entries up through the mount', {
                      area: state.spec.name,
                      error: errorMessage(err),
                    }),
                }),
            }
          : {}),
        ...(before ? { previous: before } : {}),
        concurrency,
        ...(signal ? { signal } : {}),
      });
      state.vanished += view.vanished;
      state.problems.push(...view.problems);
      counts.mountStats += view.statted;
      counts.fromXattrs += view.fromBrick;
      return view.entries;
    }
    const readTotal = toRead.reduce((sum, r) => sum + r.walked.size, 0);
    logger.info('files scanned', { areas: states.length, toRead: toRead.length, readBytes: readTotal, reused: counts.reused });
    unrelax();
    progress.phase('read', readTotal, 'bytes');
    const budget = new ByteBudget(options.memoryBytes ?? 8 * MiB);
    const limit = limiter(concurrency);
    let failed: unknown;
    const tasks = toRead.map((job) =>
      limit(async () => {
        if (failed !== undefined) return;
        try {
          await readOne(job);
        } catch (err) {
          failed ??= err;
          packer.abort(err as Error);
        }
      }),
    );
    async function readOne(job: (typeof toRead)[number]): Promise<void> {
      // files read into memory reserve their size until the packer holds their bytes;
      // large files stream through a spool: a few chunks of theirs are in memory at once
      const release = await budget.acquire(job.walked.size <= frameBytes ? job.walked.size : 4 * SPOOL_CHUNK);
      try {
        await readAndPack(job);
      } finally {
        release();
      }
    }
    async function readAndPack({ state, walked, slot }: (typeof toRead)[number]): Promise<void> {
      throwIfAborted(signal, 'files snapshot');
      const abs = join(state.brick?.dir ?? state.mountDir, ...walked.path.split('/'));
      const outcome = await readStable(abs, {
        memoryLimit: frameBytes,
        spoolDir,
        path: walked.path,
        ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
        ...(options.readHook ? { hook: options.readHook } : {}),
        ...(signal ? { signal } : {}),
      });
      progress.advance(walked.size);
      if (outcome.kind === 'vanished') {
        state.vanished++;
        return;
      }
      if (outcome.kind === 'error') {
        state.problems.push(fileProblem(state, walked.path, outcome.code, outcome.message));
        return;
      }
      counts.read++;
      counts.readBytes += outcome.size;
      let stat = statFields(outcome.stat);
      let changed = outcome.changed;
      let brick: BrickKey | undefined;
      if (state.brick && walked.brick) {
        const brickNow = { ctime: stat.ctime, inode: stat.inode };
        if (brickNow.ctime === walked.brick.ctime && brickNow.inode === walked.brick.inode && outcome.size === walked.size) {
          // unchanged on the brick since the walk: the mount's mtime and inode looked up after the walk hold
          stat = { ...stat, mtime: walked.mtime, inode: walked.inode };
          brick = brickNow;
        }
      }
      if (state.brick && !brick) {
        // changed on the brick since the walk, so being written now: the mount's mtime and inode
        // (taken after the read) may not belong to the bytes read. Stored flagged, so the next run
        // reads it again instead of trusting them.
        let onMount: BigIntStats | undefined;
        try {
          onMount = await mountStat(state.mountDir, walked.path);
        } catch (err) {
          if (outcome.spool) await rm(outcome.spool, { force: true });
          const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
          state.problems.push(fileProblem(state, walked.path, code, errorMessage(err)));
          return;
        }
        if (!onMount) {
          if (outcome.spool) await rm(outcome.spool, { force: true });
          state.vanished++;
          return;
        }
        counts.mountStats++;
        changed = true;
        const mount = statFields(onMount);
        stat = { ...stat, mtime: mount.mtime, inode: mount.inode };
      }
      if (changed) {
        state.changed++;
        logger.warn(
          outcome.changed
            ? 'file kept changing while it was read; stored the last read, flagged changedDuringBackup'
            : 'file changed on the brick between the walk and its read; stored flagged changedDuringBackup',
          { area: state.spec.name, path: walked.path, attempts: outcome.attempts },
        );
      }
      const file: PendingFile['file'] = {
        path: walked.path,
        type: 'file',
        ...meta(stat),
        size: outcome.size,
        inode: stat.inode,
        sha256: outcome.sha256,
        ...(changed ? { changedDuringBackup: true as const } : {}),
        ...(brick ? { brick } : {}),
      };
      if (outcome.size === 0) {
        state.entries[slot] = { kind: 'pending', file };
        return;
      }
      let blob = blobs.get(outcome.sha256) ?? storedBlob(outcome.sha256);
      if (!blob) {
        const location = await left.locate(outcome.sha256);
        blob = blobs.get(outcome.sha256); // another reader of the same content may have been quicker
        if (!blob && location) {
          blob = { location };
          blobs.set(outcome.sha256, blob);
        }
      }
      if (blob) {
        counts.deduped++;
        state.entries[slot] = { kind: 'pending', file, blob };
        if (outcome.spool) await rm(outcome.spool, { force: true });
        return;
      }
      blob = {};
      blobs.set(outcome.sha256, blob);
      state.entries[slot] = { kind: 'pending', file, blob };
      const target = blob;
      const sink = (location: ContentLocation): void => {
        target.location = location;
      };
      if (outcome.data) await packer.addBuffer(outcome.sha256, outcome.data, sink);
      else if (outcome.spool) {
        const spool = outcome.spool;
        await packer.addFile(outcome.sha256, outcome.size, spool, sink, () => {
          rm(spool, { force: true }).catch(() => {});
        });
      }
    }
    await Promise.all(tasks);
    if (failed !== undefined) throw failed;
    toRead.length = 0;
    // Gluster is asked again now that every read is done; the last pack and the lists are written
    // meanwhile, and a list is written again in the rare case the answer flags its files
    const healed = healedAfterReads(states, glusterd, options.signal);
    healed.catch(() => {}); // awaited below
    // every content location is known once the packer is flushed; the lists are written while the
    // last pack finishes uploading
    await packer.flush();
    const closed = packer.close();
    closing = closed;
    closed.catch(() => {}); // awaited below
    progress.done();

    // 3. one list per area
    const writeList = async (state: AreaState): Promise<{ record: ObjectRecord; summary: FilesArea }> => {
      const present = state.entries.filter((e) => e !== undefined);
      // entries are resolved as the list streams out: the whole list never exists twice in memory
      function* resolved(): Generator<FileEntry | string> {
        for (const e of present) yield typeof e === 'string' ? e : withoutRacyKey(resolveEntry(e, used), racyFrom);
      }
      const key = fileListKey(options.snapshotId, state.spec.name);
      const record = await writeFileList(
        repo,
        key,
        {
          format: FILES_FORMAT,
          area: state.spec.name,
          path: state.spec.path,
          include: [...(state.spec.include ?? ['**'])],
          exclude: [...(state.spec.exclude ?? [])],
          snapshot: options.snapshotId,
          entries: present.length,
          ...(state.brick ? { brick: state.brick.id } : {}),
          ...(state.root ? { root: state.root } : {}),
        },
        resolved(),
        {
          ...(options.compressionLevel === undefined ? {} : { compressionLevel: options.compressionLevel }),
          ...(signal ? { signal } : {}),
        },
      );
      return { record, summary: summarize(state, present, key) };
    };
    progress.phase('lists', states.length, 'objects');
    // the lists are written in parallel (each is a compressor process and an upload)
    const written = await Promise.allSettled(
      states.map(async (state) => {
        const list = await writeList(state);
        progress.advance(1);
        return list;
      }),
    );
    for (const w of written) if (w.status === 'fulfilled') lists.push(w.value.record);
    const failedList = written.find((w) => w.status === 'rejected');
    if (failedList) throw failedList.reason;
    const summaries = written.flatMap((w) => (w.status === 'fulfilled' ? [w.value.summary] : []));
    const unhealed = await healed;
    for (const [i, state] of states.entries()) {
      const problem = unhealed.get(state);
      if (problem === undefined) continue;
      flagReadFiles(state, problem, logger);
      const again = await writeList(state); // same key: replaces the list written above
      lists[lists.findIndex((l) => l.key === again.record.key)] = again.record;
      summaries[i] = again.summary;
    }
    for (const state of states) state.entries.length = 0;
    const packs = await closed;
    progress.done();
    const referenced = referencedPacks(used, packs, previous, left.records);

    const problems = states.flatMap((state) => state.problems);
    for (const p of problems.slice(0, 20))
      logger.warn('file not backed up', { area: p.area, path: p.path, code: p.code, error: p.message });
    const status = problems.length > 0 ? 'partial' : 'complete';
    const finished = new Date();
    const part: FilesPart = {
      format: FILES_FORMAT,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      status,
      areas: summaries,
      packs: [...referenced.values()].sort((a, b) => (a.key < b.key ? -1 : 1)),
      problems: problems.slice(0, MAX_PROBLEMS_IN_PART),
      problemCount: problems.length,
    };
    const packStats = packer.stats;
    const listBytes = lists.reduce((sum, l) => sum + l.stored.size, 0);
    const stats: FilesSnapshotStats = {
      files: summaries.reduce((s, a) => s + a.files, 0),
      dirs: summaries.reduce((s, a) => s + a.dirs, 0),
      symlinks: summaries.reduce((s, a) => s + a.symlinks, 0),
      bytes: summaries.reduce((s, a) => s + a.bytes, 0),
      reusedFiles: counts.reused,
      readFiles: counts.read,
      readBytes: counts.readBytes,
      dedupedFiles: counts.deduped,
      newBlobs: packStats.blobs,
      newBytes: packStats.contentBytes,
      packs: packs.length,
      packBytes: packStats.storedBytes,
      listBytes,
      uploadedBytes: packStats.storedBytes + listBytes,
      changedDuringBackup: summaries.reduce((s, a) => s + a.changedDuringBackup, 0),
      vanished: summaries.reduce((s, a) => s + a.vanished, 0),
      special: counts.special,
      brickAreas: states.filter((state) => state.brick).length,
      mountStats: counts.mountStats,
      mountFromXattrs: counts.fromXattrs,
      leftoverPacks: left.counts,
      seconds: (finished.getTime() - started.getTime()) / 1000,
    };
    if (status === 'partial') {
      logger.warn('files snapshot partial: some files were not backed up', {
        problems: problems.length,
        byCode: countBy(problems.map((p) => p.code)),
      });
    }
    logger.info('files snapshot written', { ...stats, status });
    return { part, objects: [...packs, ...lists], status, problems, stats };
  } catch (err) {
    packer.abort(err instanceof Error ? err : new Error(errorMessage(err)));
    await closing?.catch(() => {}); // the last pack's upload ends (or is recorded) before the clean-up
    // indexed packs stay for the next run to reuse (prune collects them once past its grace)
    const kept = packer.written.filter((p) => indexed.has(p.key));
    if (kept.length > 0) logger.info('packs of the failed run kept for reuse by the next one', { packs: kept.length });
    const orphans = [...packer.written.filter((p) => !indexed.has(p.key)).map((p) => p.key), ...lists.map((l) => l.key)];
    if (orphans.length > 0) {
      await repo.store.delete(orphans).catch((cleanup: unknown) => {
        logger.warn('could not delete objects of a failed files snapshot', {
          count: orphans.length,
          error: errorMessage(cleanup),
        });
      });
    }
    throw err;
  } finally {
    unrelax();
    ended = true;
    await threads?.close();
    await rm(spoolDir, { recursive: true, force: true });
  }
}

function meta(w: Pick<WalkedEntry, 'mode' | 'uid' | 'gid' | 'mtime'>): { mode: string; uid: number; gid: number; mtime: string } {
  return { mode: modeString(w.mode), uid: w.uid, gid: w.gid, mtime: w.mtime };
}

/** A file left out of the snapshot: the run ends `partial`. */
function fileProblem(state: AreaState, path: string, code: string, detail: string): FileProblem {
  return { area: state.spec.name, path, code, message: `area '${state.spec.name}': file '${path}': ${detail}` };
}

function withoutRacyKey(e: FileEntry, racyFrom: string): FileEntry {
  if (!e.brick || e.brick.ctime < racyFrom) return e;
  const { brick: _racy, ...rest } = e;
  return rest as FileEntry;
}

/**
 * Asks each volume read from a brick whether it is still fully healed; the answer maps each area
 * read from an unhealed volume to the reason. A write may have missed the brick during the run.
 */
async function healedAfterReads(
  states: readonly AreaState[],
  glusterd: Glusterd,
  signal: AbortSignal | undefined,
): Promise<Map<AreaState, string>> {
  const verdicts = new Map<string, Promise<string | undefined>>();
  const unhealed = new Map<AreaState, string>();
  for (const state of states) {
    const view = state.brick;
    if (!view) continue;
    let verdict = verdicts.get(view.volume);
    if (!verdict) {
      verdict = stillHealed(view, { glusterd, ...(signal ? { signal } : {}) });
      verdicts.set(view.volume, verdict);
    }
    const problem = await verdict;
    if (problem !== undefined) unhealed.set(state, problem);
  }
  return unhealed;
}

/** The files an area read from a brick that was not healed afterwards: flagged changedDuringBackup, so the next run reads them again. */
function flagReadFiles(state: AreaState, problem: string, logger: Logger): void {
  let flagged = 0;
  state.entries.forEach((e, i) => {
    if (typeof e === 'object' && 'kind' in e && !e.file.changedDuringBackup) {
      state.entries[i] = { ...e, file: { ...e.file, changedDuringBackup: true } };
      flagged++;
    }
  });
  state.changed += flagged;
  logger.warn('the volume was not fully healed after reading its brick; files read are flagged changedDuringBackup', {
    area: state.spec.name,
    volume: state.brick?.volume,
    reason: problem,
    flagged,
  });
}

function brickKey(w: WalkedEntry): { brick?: BrickKey } {
  return w.brick ? { brick: w.brick } : {};
}

/** The previous entry with fresh metadata, when size, mtime and inode (the mount's) prove the content unchanged. */
function reusable(before: FileEntry | undefined, w: WalkedEntry, previous: Previous): RegularFileEntry | undefined {
  if (before?.type !== 'file' || before.changedDuringBackup) return undefined;
  if (before.size !== w.size || before.mtime !== w.mtime || before.inode !== w.inode) return undefined;
  if (before.size > 0 && (before.pack === undefined || !previous.packs.has(before.pack))) return undefined;
  const fresh = meta(w);
  const sameBrick =
    before.brick === w.brick || (before.brick?.ctime === w.brick?.ctime && before.brick?.inode === w.brick?.inode);
  if (
    sameBrick &&
    before.mode === fresh.mode &&
    before.uid === fresh.uid &&
    before.gid === fresh.gid &&
    before.mtime === fresh.mtime
  )
    return before; // the common case: nothing to copy
  const { brick: _old, ...rest } = before;
  return { ...rest, ...fresh, ...brickKey(w) };
}

/** The local brick to read an area from, or undefined to read the mount (logged with the reason). */
async function brickFor(
  mountDir: string,
  spec: AreaSpec,
  options: SnapshotFilesOptions,
  glusterd: Glusterd,
  logger: Logger,
): Promise<BrickView | undefined> {
  if (options.source === 'mount') return undefined;
  const choice = await chooseBrick(mountDir, {
    ...options.brickOptions,
    glusterd,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  throwIfAborted(options.signal, 'files snapshot');
  if (choice.kind === 'brick') {
    logger.info('reading area from the local brick', { area: spec.name, brick: choice.view.brick, dir: choice.view.dir });
    return choice.view;
  }
  logger.info('reading area through the mount', { area: spec.name, reason: choice.reason });
  return undefined;
}

/** The entry as listed; `used` collects the packs it points into. */
function resolveEntry(e: FileEntry | PendingFile, used: Map<string, string>): FileEntry {
  if (!('kind' in e)) {
    if (e.type === 'file' && e.pack !== undefined && !used.has(e.pack)) used.set(e.pack, e.path);
    return e;
  }
  if (!e.blob) return e.file;
  const location = e.blob.location;
  if (!location) throw new IntegrityError(`file '${e.file.path}': content was never written to a pack`);
  if (!used.has(location.pack)) used.set(location.pack, e.file.path);
  return { ...e.file, pack: location.pack, frame: location.frame, entry: location.entry };
}

/** The packs of the snapshot: this run's, and the previous snapshot's that the lists point into. */
function referencedPacks(
  used: ReadonlyMap<string, string>,
  written: readonly ObjectRecord[],
  previous: Previous,
  leftover: ReadonlyMap<string, ObjectRecord>,
): Map<string, ObjectRecord> {
  const referenced = new Map(written.map((p) => [p.key, p]));
  for (const [pack, path] of used) {
    if (referenced.has(pack)) continue;
    const record = previous.packs.get(pack) ?? leftover.get(pack);
    if (!record) throw new IntegrityError(`file '${path}': pack '${pack}' is not recorded in this or the previous snapshot`);
    referenced.set(pack, record);
  }
  return referenced;
}

function summarize(state: AreaState, present: readonly (FileEntry | PendingFile | string)[], list: string): FilesArea {
  let { files, dirs, symlinks, bytes } = state.lineTotals;
  for (const p of present) {
    if (typeof p === 'string') continue; // in lineTotals
    const e = 'kind' in p ? p.file : p;
    if (e.type === 'file') {
      files++;
      bytes += e.size;
    } else if (e.type === 'dir') dirs++;
    else symlinks++;
  }
  return {
    name: state.spec.name,
    path: state.spec.path,
    include: [...(state.spec.include ?? ['**'])],
    exclude: [...(state.spec.exclude ?? [])],
    list,
    files,
    dirs,
    symlinks,
    bytes,
    changedDuringBackup: state.changed,
    vanished: state.vanished,
    problems: state.problems.length,
    source: state.brick ? `brick ${state.brick.brick}` : 'mount',
  };
}

/**
 * The previous snapshot's lists (all areas, for dedup) and pack records. A list that cannot be
 * read is skipped with a warning: its area's files are then read again rather than trusted.
 */
async function loadPrevious(
  repo: Repository,
  previousManifest: SnapshotFilesOptions['previous'],
  logger: Logger,
  signal: AbortSignal | undefined,
  /** called once there is a previous files part, before its lists load */
  onFound: () => void,
): Promise<Previous> {
  const byArea = new Map<string, PreviousList>();
  const packs = new Map<string, ObjectRecord>();
  const manifest = await previousManifest;
  const part = manifest ? filesPartOf(manifest) : undefined;
  if (!manifest || !part) return { byArea, packs, blob: () => undefined };
  onFound();
  for (const p of part.packs) packs.set(p.key, p);
  const loaded = await Promise.all(
    part.areas.map(async (area) => {
      const record = manifest.objects.find((o) => o.key === area.list);
      try {
        if (!record) throw new IntegrityError(`snapshot '${manifest.id}': file list '${area.list}' has no object record`);
        return { area, key: record.key, ...(await loadFileListLines(repo, record, signal)) };
      } catch (err) {
        throwIfAborted(signal, 'files snapshot');
        logger.warn('previous file list unreadable; its files will be read again', {
          snapshot: manifest.id,
          area: area.name,
          error: errorMessage(err),
        });
        return undefined;
      }
    }),
  );
  for (const list of loaded) {
    if (list)
      byArea.set(list.area.name, {
        key: list.key,
        ...(list.header.brick ? { brick: list.header.brick } : {}),
        lines: list.lines,
      });
  }
  // indexed on the first lookup (most runs read few files), in area order: the first line wins
  let index: Map<string, string> | undefined;
  const blob = (sha256: string): ContentLocation | undefined => {
    index ??= blobIndex(byArea, packs);
    const line = index.get(sha256);
    if (line === undefined) return undefined;
    let e: FileEntry;
    try {
      e = parseEntry(line, `snapshot '${manifest.id}'`, 0);
    } catch {
      return undefined; // that content is stored again
    }
    if (e.type !== 'file' || e.pack === undefined || !e.frame || e.entry === undefined || !packs.has(e.pack)) return undefined;
    return { pack: e.pack, frame: e.frame, entry: e.entry };
  };
  return { byArea, packs, blob };
}

interface Leftovers {
  /** where content is in a leftover pack, once that pack passed its check; undefined otherwise */
  readonly locate: (sha256: string) => Promise<ContentLocation | undefined>;
  /** the leftover packs that passed their check */
  readonly records: ReadonlyMap<string, ObjectRecord>;
  readonly counts: { reused: number; refused: number };
}

/**
 * The packs runs that never committed left with an index (within `reuseLeftoverHours`). A pack
 * is checked the first time content in it is wanted: read back whole, its size and sha256 must
 * be those its index records; a pack that fails is never used. Leftovers that cannot be listed
 * or read are skipped with a warning: their content is stored again.
 */
async function loadLeftovers(repo: Repository, options: SnapshotFilesOptions, logger: Logger): Promise<Leftovers> {
  const { signal } = options;
  const records = new Map<string, ObjectRecord>();
  const counts = { reused: 0, refused: 0 };
  const none: Leftovers = { locate: async () => undefined, records, counts };
  const hours = options.reuseLeftoverHours ?? 12;
  if (!(hours > 0)) return none;
  const from = snapshotTime(options.snapshotId).getTime() - hours * 3_600_000;
  const locations = new Map<string, ContentLocation>();
  const indexes = new Map<string, PackIndex>();
  try {
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
    const limit = limiter(8);
    await Promise.all(
      keys.map((key) =>
        limit(async () => {
          try {
            const index = await readPackIndex(repo.store, repo.codec, key, signal);
            indexes.set(index.pack.key, index);
          } catch (err) {
            throwIfAborted(signal, 'files snapshot');
            logger.warn('pack index of a failed run unreadable; its pack is not reused', {
              index: key,
              error: errorMessage(err),
            });
          }
        }),
      ),
    );
  } catch (err) {
    throwIfAborted(signal, 'files snapshot');
    logger.warn('could not look for packs of failed runs; their content is stored again', { error: errorMessage(err) });
    return none;
  }
  if (indexes.size === 0) return none;
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

/** The first line of the lists pointing at each stored content in a recorded pack, by sha256 (flagged lines left out). */
function blobIndex(byArea: ReadonlyMap<string, PreviousList>, packs: ReadonlyMap<string, ObjectRecord>): Map<string, string> {
  const index = new Map<string, string>();
  for (const list of byArea.values()) {
    for (const line of list.lines.values()) {
      const at = line.indexOf(',"sha256":"');
      if (at < 0 || line.includes(',"changedDuringBackup":true', at)) continue;
      const pack = linePack(line);
      if (pack === undefined || !packs.has(pack)) continue;
      const sha256 = line.slice(at + 11, at + 75);
      if (!index.has(sha256)) index.set(sha256, line);
    }
  }
  return index;
}

/**
 * True when the previous line of `w` can be written again as it is: same type, mode, owner, size
 * (and target) and, on a brick, the same brick key (`racyFrom` given: a key that recent is not
 * trusted), else the same mtime and inode; not flagged; its pack still referenced.
 */
function reusableLine(
  line: string,
  w: WalkedEntry,
  racyFrom: string | undefined,
  packs: ReadonlyMap<string, ObjectRecord>,
): boolean {
  if (racyFrom !== undefined && w.ctime >= racyFrom) return false;
  const same = isSameEntryLine(line, {
    path: w.path,
    type: w.type,
    mode: modeString(w.mode),
    uid: w.uid,
    gid: w.gid,
    ...(w.type === 'file' ? { size: w.size } : {}),
    ...(w.type === 'symlink' ? { target: w.target ?? '' } : {}),
    ...(racyFrom !== undefined ? { brick: { ctime: w.ctime, inode: w.inode } } : { mtime: w.mtime, inode: w.inode }),
  });
  if (!same || w.type !== 'file') return same;
  const pack = linePack(line);
  return pack === undefined ? w.size === 0 : packs.has(pack);
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
