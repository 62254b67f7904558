import type { BigIntStats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Codec } from '../src/codec/zstd.js';
import {
  type AreaSpec,
  areaDir,
  type Blob,
  type BrickKey,
  ByteBudget,
  brickEntry,
  ContentStore,
  DEFAULT_FRAME_BYTES,
  DEFAULT_PACK_BYTES,
  FILES_FORMAT,
  type FileContent,
  type FileEntry,
  type FileListHeader,
  type FileProblem,
  type FilesArea,
  type FilesPart,
  fileListKey,
  findLeftovers,
  type Leftovers,
  loadPrevious,
  type MountEntry,
  modeString,
  mountEntry,
  mountStat,
  mountView,
  PackWriter,
  type PreviousArea,
  type PreviousSnapshot,
  type ReadHook,
  type RegularFileEntry,
  readStable,
  SPOOL_CHUNK,
  Spool,
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
import { limiter } from '../src/lib/limit.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import { settleAll } from '../src/lib/settle.js';
import { isoFromNs } from '../src/lib/time.js';
import type { Manifest, ObjectRecord } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';

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

/**
 * Backs up file areas incrementally into the repository: walks each area, reuses the previous
 * snapshot's content for files whose size, mtime and inode are unchanged, reads the others
 * (parallel, each checked for changes while read), stores new content once in shared packs and
 * writes one file list per area. Unreadable files make the result `partial`, never a silent
 * success. Commits nothing: the caller puts `part` and `objects` into the manifest it commits.
 * When the run fails, the packs it wrote are deleted (best effort).
 */
export async function snapshotFiles(options: SnapshotFilesOptions): Promise<SnapshotFilesResult> {
  const previousManifest = Promise.resolve(options.previous);
  let run: Run;
  try {
    validateAreas(options.areas);
    run = await startRun(options);
  } catch (err) {
    await Promise.allSettled([previousManifest]); // the caller's lookup ends before the run does
    throw err;
  }
  try {
    const { previous, leftovers, areas, scanned } = await scan(run, previousManifest);
    await readChangedFiles(run, scanned, previous, leftovers);
    return await writeLists(run, areas, previous, leftovers);
  } catch (err) {
    await discardFailedRun(run, err);
    throw err;
  } finally {
    await run.close();
  }
}

/** What one run shares between its steps. */
interface Run {
  readonly options: SnapshotFilesOptions;
  readonly repo: Repository;
  readonly started: Date;
  readonly logger: Logger;
  readonly progress: Progress;
  /** the caller's signal, or the run's first failure: the rest of the work stops */
  readonly signal: AbortSignal;
  readonly stop: (reason: unknown) => void;
  readonly concurrency: number;
  readonly frameBytes: number;
  readonly glusterd: Glusterd;
  readonly packer: PackWriter;
  /** packs of this run whose index is stored: they stay for the next run when this one fails */
  readonly indexed: Set<string>;
  /** where large files are copied while they are read */
  readonly spool: Spool;
  /**
   * brick keys taken within the file system's timestamp granularity of the run are not kept (a
   * same-size write in the same tick would not move them): such entries are looked at again next
   * time, as git does with racily clean index entries
   */
  readonly racyFrom: string;
  readonly counts: {
    reused: number;
    read: number;
    readBytes: number;
    deduped: number;
    special: number;
    mountStats: number;
    fromXattrs: number;
  };
  /** the file lists written (deleted when the run fails) */
  readonly lists: Map<string, ObjectRecord>;
  /** brick walks run on threads, started with the first brick walk and closed after the walks */
  walkThreads(): WalkThreads;
  closeWalkThreads(): Promise<void>;
  close(): Promise<void>;
}

/** An area through the steps of the run. */
interface Area {
  readonly spec: AreaSpec;
  /** the area directory on the mount */
  readonly mountDir: string;
  /** set when the area is walked and read from a local brick */
  readonly brick: BrickView | undefined;
  /** the area directory's own metadata, through the mount (before the walk, as every directory's) */
  readonly root: FileListHeader['root'];
  /** directories, symlinks and files whose content is the previous snapshot's, in walk order */
  readonly listed: FileEntry[];
  /** files whose content is read, in walk order */
  readonly toRead: MountEntry[];
  /** what reading `toRead` gave, aligned with it: undefined where a file vanished or could not be read */
  readonly read: (ReadFile | undefined)[];
  readonly problems: FileProblem[];
  vanished: number;
  changed: number;
}

/** A file read by this run; its content location is known once its frame is written. */
interface ReadFile {
  readonly file: Omit<RegularFileEntry, 'pack' | 'frame' | 'entry'>;
  /** undefined for an empty file, which has no content in any pack */
  readonly blob: Blob | undefined;
}

async function startRun(options: SnapshotFilesOptions): Promise<Run> {
  const logger = (options.logger ?? nullLogger).child({ job: 'files-snapshot', snapshot: options.snapshotId });
  const failed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
  const started = new Date();
  const repo = options.repo;
  const indexed = new Set<string>();
  const spool = await Spool.create(options.tmpDir ?? tmpdir());
  const packer = new PackWriter({
    store: repo.store,
    codec: options.codec ?? repo.codec,
    packBytes: options.packBytes ?? DEFAULT_PACK_BYTES,
    frameBytes: options.frameBytes ?? DEFAULT_FRAME_BYTES,
    compressionLevel: options.compressionLevel,
    // each complete pack is indexed next to this run, so a next run can reuse it if this one never
    // commits (the index is written even while the run fails: only the caller's signal stops it)
    onPack: async (index) => {
      try {
        await writePackIndex(repo.store, repo.codec, options.snapshotId, index, options.signal);
        indexed.add(index.pack.key);
      } catch (err) {
        logger.warn('could not write a pack index: the pack cannot be reused if this run fails', {
          pack: index.pack.key,
          error: errorMessage(err),
        });
      }
    },
    signal: options.signal, // a failure of the run stops the packer with that failure (discardFailedRun)
  });
  const glusterd =
    options.brickOptions?.glusterd ??
    defaultGlusterd({
      onFallback: (what, err) =>
        logger.debug("no usable answer on glusterd's socket; asking the gluster CLI", {
          question: what,
          error: errorMessage(err),
        }),
    });
  let threads: WalkThreads | undefined;
  return {
    options,
    repo,
    started,
    logger,
    progress: options.progress ?? nullProgress,
    signal,
    stop: (reason) => failed.abort(reason),
    concurrency: options.concurrency ?? 16,
    frameBytes: options.frameBytes ?? DEFAULT_FRAME_BYTES,
    glusterd,
    packer,
    indexed,
    spool,
    racyFrom: isoFromNs(BigInt(started.getTime() - RACY_MS) * 1_000_000n),
    counts: { reused: 0, read: 0, readBytes: 0, deduped: 0, special: 0, mountStats: 0, fromXattrs: 0 },
    lists: new Map(),
    walkThreads: () => {
      threads ??= new WalkThreads(WALK_THREADS);
      return threads;
    },
    closeWalkThreads: async () => {
      await threads?.close();
    },
    close: async () => {
      await threads?.close();
      await spool.close();
    },
  };
}

/**
 * Step 1: every area walked (stat only) and compared with the previous snapshot, so the read step
 * knows its total. Gluster is asked first (its answers gate the walks); the previous lists and the
 * packs of failed runs load meanwhile. Areas go at once (a walk waits mostly on the file system).
 */
async function scan(
  run: Run,
  previousManifest: Promise<Manifest | undefined>,
): Promise<{
  previous: PreviousSnapshot;
  leftovers: Leftovers;
  /** in the order of the configuration */
  areas: Area[];
  /**
   * in the order their scans finished, the order their files are read and packed in: which area
   * leads a frame several areas share decides how much of it each area's restore reads
   */
  scanned: Area[];
}> {
  run.progress.phase('scan', undefined, 'files');
  const gluster = memoizedGlusterd(run.glusterd); // one question per volume for all its areas
  const previous = previousManifest.then((manifest) => loadPrevious(run.repo, manifest, run));
  const leftovers = findLeftovers(run.repo, {
    snapshotId: run.options.snapshotId,
    hours: run.options.reuseLeftoverHours ?? 12,
    logger: run.logger,
    signal: run.signal,
  });
  const scanned: Area[] = [];
  const areas = settleAll(
    run.options.areas.map(async (spec) => {
      const area = await scanArea(run, spec, gluster, previous);
      scanned.push(area);
      return area;
    }),
    run.stop,
  );
  const [p, l, a] = await settleAll([previous, leftovers, areas], run.stop);
  run.progress.done();
  await run.closeWalkThreads(); // their heaps are not kept through the reads
  return { previous: p, leftovers: l, areas: a, scanned };
}

/** One area: source chosen → walked → seen as the mount shows it → compared with the previous list. */
async function scanArea(run: Run, spec: AreaSpec, gluster: Glusterd, previous: Promise<PreviousSnapshot>): Promise<Area> {
  const mountDir = areaDir(run.options.root, spec);
  const brick = await chooseSource(run, spec, mountDir, gluster);
  const top = await lstat(mountDir, { bigint: true }).catch(() => undefined); // a missing area is the walk's problem
  const walk = await walkArea(run.options.root, spec, {
    concurrency: run.concurrency,
    logger: run.logger,
    dir: brick?.dir,
    threads: brick ? run.walkThreads() : undefined,
    ignoreTop: brick?.atBrickRoot ? BRICK_INTERNAL : undefined,
    signal: run.signal,
  });
  run.progress.advance(walk.entries.length);
  run.counts.special += walk.special;
  const area: Area = {
    spec,
    mountDir,
    brick,
    root: top?.isDirectory() ? listMeta(statFields(top)) : undefined,
    listed: [],
    toRead: [],
    read: [],
    problems: [...walk.problems],
    vanished: walk.vanished,
    changed: 0,
  };
  const before = (await previous).area(spec.name);
  const entries = brick ? await seenThroughMount(run, area, brick, walk.entries, before) : walk.entries.map(mountEntry);
  detectChanges(run, area, entries, before);
  return area;
}

/** The local brick to read an area from, or undefined to read the mount (logged with the reason). */
async function chooseSource(run: Run, spec: AreaSpec, mountDir: string, glusterd: Glusterd): Promise<BrickView | undefined> {
  if (run.options.source === 'mount') return undefined;
  const choice = await chooseBrick(mountDir, { ...run.options.brickOptions, glusterd, signal: run.signal });
  throwIfAborted(run.signal, 'files snapshot');
  if (choice.kind === 'brick') {
    run.logger.info('reading area from the local brick', { area: spec.name, brick: choice.view.brick, dir: choice.view.dir });
    return choice.view;
  }
  run.logger.info('reading area through the mount', { area: spec.name, reason: choice.reason });
  return undefined;
}

/**
 * A brick walk as the mount shows it (see mountView): mtimes and inodes from the previous list
 * where it was keyed by the same brick and the brick saw no change, else from Gluster's xattrs on
 * the brick, else through the mount. Aligned with `walked`: undefined where an entry vanished.
 */
async function seenThroughMount(
  run: Run,
  area: Area,
  brick: BrickView,
  walked: readonly WalkedEntry[],
  previous: PreviousArea | undefined,
): Promise<(MountEntry | undefined)[]> {
  const name = area.spec.name;
  const view = await mountView(walked.map(brickEntry), {
    area: name,
    mountDir: area.mountDir,
    previous: previous?.brick === brick.id ? (path) => previous.entry(path) : undefined,
    brickDir: brick.mdata ? brick.dir : undefined,
    fromBrick: brick.mdata
      ? (paths) =>
          mountTimesFromBrick(paths, {
            reader: run.options.brickOptions?.reader,
            signal: run.signal,
            onError: (err) =>
              run.logger.warn('cannot read Gluster xattrs on the brick; looking entries up through the mount', {
                area: name,
                error: errorMessage(err),
              }),
          })
      : undefined,
    concurrency: run.concurrency,
    signal: run.signal,
  });
  area.vanished += view.vanished;
  area.problems.push(...view.problems);
  run.counts.mountStats += view.statted;
  run.counts.fromXattrs += view.fromBrick;
  return view.entries;
}

/** Each entry listed as it is now (a file with the previous content when that still holds) or queued to be read. */
function detectChanges(
  run: Run,
  area: Area,
  entries: readonly (MountEntry | undefined)[],
  previous: PreviousArea | undefined,
): void {
  for (const e of entries) {
    if (!e) continue; // vanished since the walk
    if (e.type === 'dir') area.listed.push({ path: e.path, type: 'dir', ...listMeta(e), brick: e.brick });
    else if (e.type === 'symlink')
      area.listed.push({ path: e.path, type: 'symlink', ...listMeta(e), target: e.target ?? '', brick: e.brick });
    else {
      const reused = previous?.lookup(e);
      if (reused) {
        run.counts.reused++;
        area.listed.push(reused);
      } else area.toRead.push(e);
    }
  }
}

/**
 * Step 2: the files queued by the scan read (`concurrency` at once, within the memory budget;
 * re-read if they change while read) and their new content packed. The first failure stops the
 * other reads.
 */
async function readChangedFiles(
  run: Run,
  areas: readonly Area[],
  previous: PreviousSnapshot,
  leftovers: Leftovers,
): Promise<void> {
  const files = areas.reduce((n, a) => n + a.toRead.length, 0);
  const bytes = areas.reduce((n, a) => a.toRead.reduce((m, f) => m + f.size, n), 0);
  run.logger.info('files scanned', { areas: areas.length, toRead: files, readBytes: bytes, reused: run.counts.reused });
  run.progress.phase('read', bytes, 'bytes');
  const budget = new ByteBudget(run.options.memoryBytes ?? 8 * MiB);
  const limit = limiter(run.concurrency);
  const contents = new ContentStore(run.packer, run.spool, previous, leftovers);
  const reads = areas.flatMap((area) =>
    area.toRead.map((file, i) =>
      limit(async () => {
        throwIfAborted(run.signal, 'files snapshot');
        // files read into memory reserve their size until the packer holds their bytes;
        // large files stream through a spool: a few chunks of theirs are in memory at once
        const release = await budget.acquire(file.size <= run.frameBytes ? file.size : 4 * SPOOL_CHUNK);
        try {
          area.read[i] = await readFile(run, area, file, contents);
        } finally {
          release();
        }
      }),
    ),
  );
  await settleAll(reads, (err) => {
    run.stop(err);
    run.packer.abort(asError(err));
  });
  run.counts.deduped = contents.deduped;
}

/** Reads one file and hands its content to `contents`; undefined when it vanished or could not be read. */
async function readFile(run: Run, area: Area, file: MountEntry, contents: ContentStore): Promise<ReadFile | undefined> {
  const outcome = await readStable(join(area.brick?.dir ?? area.mountDir, ...file.path.split('/')), {
    memoryLimit: run.frameBytes,
    spoolDir: run.spool.dir,
    path: file.path,
    attempts: run.options.attempts,
    hook: run.options.readHook,
    signal: run.signal,
  });
  run.progress.advance(file.size);
  if (outcome.kind === 'vanished') {
    area.vanished++;
    return undefined;
  }
  if (outcome.kind === 'error') {
    area.problems.push(fileProblem(area, file.path, outcome.code, outcome.message));
    return undefined;
  }
  run.counts.read++;
  run.counts.readBytes += outcome.size;
  const now = area.brick
    ? await brickReadSeenThroughMount(run, area, file, outcome)
    : { ...statFields(outcome.stat), brick: undefined, moved: false };
  if (!now) {
    run.spool.discard(outcome.spool);
    return undefined;
  }
  const changed = outcome.changed || now.moved;
  if (changed) {
    area.changed++;
    run.logger.warn(
      outcome.changed
        ? 'file kept changing while it was read; stored the last read, flagged changedDuringBackup'
        : 'file changed on the brick between the walk and its read; stored flagged changedDuringBackup',
      { area: area.spec.name, path: file.path, attempts: outcome.attempts },
    );
  }
  return {
    file: {
      path: file.path,
      type: 'file',
      ...listMeta(now),
      size: outcome.size,
      inode: now.inode,
      sha256: outcome.sha256,
      changedDuringBackup: changed ? true : undefined,
      brick: now.brick,
    },
    blob: await contents.store(outcome),
  };
}

/**
 * The stat to list for a file read from a brick: the mount's mtime and inode looked up after the
 * walk hold when the brick shows no change since the walk. When it does, the file is being written
 * now and the mount's view (taken after the read) may not belong to the bytes read: it is listed
 * `moved` (flagged, so the next run reads it again) without a brick key. Undefined when the file
 * is gone from the mount or cannot be looked up there (a problem of the area).
 */
async function brickReadSeenThroughMount(
  run: Run,
  area: Area,
  file: MountEntry,
  outcome: FileContent,
): Promise<(ReturnType<typeof statFields> & { brick: BrickKey | undefined; moved: boolean }) | undefined> {
  const onBrick = statFields(outcome.stat);
  if (file.brick && onBrick.ctime === file.brick.ctime && onBrick.inode === file.brick.inode && outcome.size === file.size)
    return { ...onBrick, mtime: file.mtime, inode: file.inode, brick: file.brick, moved: false };
  let onMount: BigIntStats | undefined;
  try {
    onMount = await mountStat(area.mountDir, file.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    area.problems.push(fileProblem(area, file.path, code, errorMessage(err)));
    return undefined;
  }
  if (!onMount) {
    area.vanished++;
    return undefined;
  }
  run.counts.mountStats++;
  const mount = statFields(onMount);
  return { ...onBrick, mtime: mount.mtime, inode: mount.inode, brick: undefined, moved: true };
}

/**
 * Step 3: one list per area, written while the last pack finishes uploading and Gluster is asked
 * again whether the bricks read stayed healed (a list is written again in the rare case the answer
 * flags its files); then the part for the manifest.
 */
async function writeLists(
  run: Run,
  areas: readonly Area[],
  previous: PreviousSnapshot,
  leftovers: Leftovers,
): Promise<SnapshotFilesResult> {
  await run.packer.flush(); // every content location is known
  run.progress.done();
  run.progress.phase('lists', areas.length, 'objects');
  /** packs the lists point into, each with the first file found in it */
  const used = new Map<string, string>();
  const [unhealed, summaries, packs] = await settleAll(
    [
      unhealedAreas(run, areas),
      settleAll(
        areas.map(async (area) => {
          const summary = await writeList(run, area, used);
          run.progress.advance(1);
          return summary;
        }),
        run.stop,
      ),
      run.packer.close(),
    ],
    run.stop,
  );
  for (const [i, area] of areas.entries()) {
    const problem = unhealed.get(area);
    if (problem === undefined) continue;
    flagReadFiles(run, area, problem);
    summaries[i] = await writeList(run, area, used); // same key: replaces the list written above
  }
  run.progress.done();
  return result(run, areas, summaries, referencedPacks(used, packs, previous, leftovers), packs, leftovers);
}

/** Writes the area's list; `used` collects the packs it points into. */
async function writeList(run: Run, area: Area, used: Map<string, string>): Promise<FilesArea> {
  const key = fileListKey(run.options.snapshotId, area.spec.name);
  const read = area.read.filter((r) => r !== undefined);
  // entries are resolved as the list streams out: the whole list never exists twice in memory
  function* entries(): Generator<FileEntry> {
    for (const e of inWalkOrder(area.listed, read)) {
      if (e.type === 'file' && e.pack !== undefined && !used.has(e.pack)) used.set(e.pack, e.path);
      yield withoutRacyKey(e, run.racyFrom);
    }
  }
  const record = await writeFileList(
    run.repo,
    key,
    {
      format: FILES_FORMAT,
      area: area.spec.name,
      path: area.spec.path,
      include: [...(area.spec.include ?? ['**'])],
      exclude: [...(area.spec.exclude ?? [])],
      snapshot: run.options.snapshotId,
      entries: area.listed.length + read.length,
      brick: area.brick?.id,
      root: area.root,
    },
    entries(),
    { compressionLevel: run.options.compressionLevel, signal: run.signal },
  );
  run.lists.set(key, record);
  return summarize(area, key, read);
}

/** A read file as listed, with its content location. */
function located(r: ReadFile): RegularFileEntry {
  if (!r.blob) return r.file;
  const location = r.blob.location;
  if (!location) throw new IntegrityError(`file '${r.file.path}': content was never written to a pack`);
  return { ...r.file, pack: location.pack, frame: location.frame, entry: location.entry };
}

/** The listed entries and the files read (each in walk order, sorted by path) merged in walk order. */
function* inWalkOrder(listed: readonly FileEntry[], read: readonly ReadFile[]): Generator<FileEntry> {
  let j = 0;
  for (const e of listed) {
    for (; j < read.length && (read[j] as ReadFile).file.path < e.path; j++) yield located(read[j] as ReadFile);
    yield e;
  }
  for (; j < read.length; j++) yield located(read[j] as ReadFile);
}

/**
 * Asks each volume read from a brick whether it is still fully healed; the answer maps each area
 * read from an unhealed volume to the reason. A write may have missed the brick during the run.
 */
async function unhealedAreas(run: Run, areas: readonly Area[]): Promise<Map<Area, string>> {
  const verdicts = new Map<string, Promise<string | undefined>>();
  const unhealed = new Map<Area, string>();
  for (const area of areas) {
    const view = area.brick;
    if (!view) continue;
    let verdict = verdicts.get(view.volume);
    if (!verdict) {
      verdict = stillHealed(view, { glusterd: run.glusterd, signal: run.signal });
      verdicts.set(view.volume, verdict);
    }
    const problem = await verdict;
    if (problem !== undefined) unhealed.set(area, problem);
  }
  return unhealed;
}

/** The files an area read from a brick that was not healed afterwards: flagged changedDuringBackup, so the next run reads them again. */
function flagReadFiles(run: Run, area: Area, problem: string): void {
  let flagged = 0;
  area.read.forEach((r, i) => {
    if (r && !r.file.changedDuringBackup) {
      area.read[i] = { ...r, file: { ...r.file, changedDuringBackup: true } };
      flagged++;
    }
  });
  area.changed += flagged;
  run.logger.warn('the volume was not fully healed after reading its brick; files read are flagged changedDuringBackup', {
    area: area.spec.name,
    volume: area.brick?.volume,
    reason: problem,
    flagged,
  });
}

/** The packs of the snapshot: this run's, and those of the previous snapshot or of failed runs that the lists point into. */
function referencedPacks(
  used: ReadonlyMap<string, string>,
  written: readonly ObjectRecord[],
  previous: PreviousSnapshot,
  leftovers: Leftovers,
): ObjectRecord[] {
  const referenced = new Map(written.map((p) => [p.key, p]));
  for (const [pack, path] of used) {
    if (referenced.has(pack)) continue;
    const record = previous.pack(pack) ?? leftovers.records.get(pack);
    if (!record) throw new IntegrityError(`file '${path}': pack '${pack}' is not recorded in this or the previous snapshot`);
    referenced.set(pack, record);
  }
  return [...referenced.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
}

/** The files part, the objects to record and the run's figures. */
function result(
  run: Run,
  areas: readonly Area[],
  summaries: readonly FilesArea[],
  referenced: readonly ObjectRecord[],
  packs: readonly ObjectRecord[],
  leftovers: Leftovers,
): SnapshotFilesResult {
  const problems = areas.flatMap((area) => area.problems);
  for (const p of problems.slice(0, 20))
    run.logger.warn('file not backed up', { area: p.area, path: p.path, code: p.code, error: p.message });
  const status = problems.length > 0 ? 'partial' : 'complete';
  const finished = new Date();
  const part: FilesPart = {
    format: FILES_FORMAT,
    startedAt: run.started.toISOString(),
    finishedAt: finished.toISOString(),
    status,
    areas: summaries,
    packs: referenced,
    problems: problems.slice(0, MAX_PROBLEMS_IN_PART),
    problemCount: problems.length,
  };
  const lists = [...run.lists.values()];
  const packStats = run.packer.stats;
  const listBytes = lists.reduce((sum, l) => sum + l.stored.size, 0);
  const total = (field: 'files' | 'dirs' | 'symlinks' | 'bytes' | 'changedDuringBackup' | 'vanished'): number =>
    summaries.reduce((sum, a) => sum + a[field], 0);
  const { counts } = run;
  const stats: FilesSnapshotStats = {
    files: total('files'),
    dirs: total('dirs'),
    symlinks: total('symlinks'),
    bytes: total('bytes'),
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
    changedDuringBackup: total('changedDuringBackup'),
    vanished: total('vanished'),
    special: counts.special,
    brickAreas: areas.filter((area) => area.brick).length,
    mountStats: counts.mountStats,
    mountFromXattrs: counts.fromXattrs,
    leftoverPacks: leftovers.counts,
    seconds: (finished.getTime() - run.started.getTime()) / 1000,
  };
  if (status === 'partial') {
    run.logger.warn('files snapshot partial: some files were not backed up', {
      problems: problems.length,
      byCode: countBy(problems.map((p) => p.code)),
    });
  }
  run.logger.info('files snapshot written', { ...stats, status });
  return { part, objects: [...packs, ...lists], status, problems, stats };
}

function summarize(area: Area, list: string, read: readonly ReadFile[]): FilesArea {
  let files = 0;
  let dirs = 0;
  let symlinks = 0;
  let bytes = 0;
  for (const e of area.listed) {
    if (e.type === 'file') {
      files++;
      bytes += e.size;
    } else if (e.type === 'dir') dirs++;
    else symlinks++;
  }
  for (const r of read) {
    files++;
    bytes += r.file.size;
  }
  return {
    name: area.spec.name,
    path: area.spec.path,
    include: [...(area.spec.include ?? ['**'])],
    exclude: [...(area.spec.exclude ?? [])],
    list,
    files,
    dirs,
    symlinks,
    bytes,
    changedDuringBackup: area.changed,
    vanished: area.vanished,
    problems: area.problems.length,
    source: area.brick ? `brick ${area.brick.brick}` : 'mount',
  };
}

/**
 * After a failure: the packer stopped (the last pack's upload ends, or is recorded, before the
 * clean-up), the packs without an index and the lists deleted (best effort). Indexed packs stay
 * for the next run to reuse (prune collects them once past its grace).
 */
async function discardFailedRun(run: Run, err: unknown): Promise<void> {
  run.stop(err);
  run.packer.abort(asError(err));
  await run.packer.idle();
  const written = run.packer.written;
  const kept = written.filter((p) => run.indexed.has(p.key));
  if (kept.length > 0) run.logger.info('packs of the failed run kept for reuse by the next one', { packs: kept.length });
  const orphans = [...written.filter((p) => !run.indexed.has(p.key)).map((p) => p.key), ...run.lists.keys()];
  if (orphans.length === 0) return;
  try {
    await run.repo.store.delete(orphans);
  } catch (cleanup) {
    run.logger.warn('could not delete objects of a failed files snapshot', {
      count: orphans.length,
      error: errorMessage(cleanup),
    });
  }
}

/** The metadata every list entry has, from a walk or a stat. */
function listMeta(e: Pick<MountEntry, 'mode' | 'uid' | 'gid' | 'mtime'>): {
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
} {
  return { mode: modeString(e.mode), uid: e.uid, gid: e.gid, mtime: e.mtime };
}

/** A file left out of the snapshot: the run ends `partial`. */
function fileProblem(area: Area, path: string, code: string, detail: string): FileProblem {
  return { area: area.spec.name, path, code, message: `area '${area.spec.name}': file '${path}': ${detail}` };
}

function withoutRacyKey(e: FileEntry, racyFrom: string): FileEntry {
  if (!e.brick || e.brick.ctime < racyFrom) return e;
  const { brick: _racy, ...rest } = e;
  return rest as FileEntry;
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorMessage(err));
}
