import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { chmod, copyFile, lchown, lutimes, mkdir, open, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Codec } from '../src/codec/zstd.js';
import {
  type DirectoryEntry,
  type FileEntry,
  type FrameRef,
  filesPartOf,
  frameBlobs,
  isSafeRelative,
  modeBits,
  openFileList,
  type RegularFileEntry,
  type SymlinkEntry,
  utimesSeconds,
} from '../src/files/index.js';
import { IntegrityError, NotFoundError, throwIfAborted, UsageError } from '../src/lib/errors.js';
import { type Limiter, limiter } from '../src/lib/limit.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nullProgress, type Progress } from '../src/lib/progress.js';
import { settleAll } from '../src/lib/settle.js';
import type { Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { restoreInto } from './target-dir.js';

export interface RestoreFilesOptions {
  readonly repo: Repository;
  readonly manifest: Manifest;
  /** area name, e.g. `pub/media` */
  readonly area: string;
  /** a file or directory below the area (e.g. `catalog/product`); default: the whole area */
  readonly path?: string;
  /** directory that becomes the area directory; entries keep their paths relative to the area */
  readonly target: string;
  readonly force?: boolean;
  /** list what would be written, write nothing */
  readonly dryRun?: boolean;
  /** restore only the files and symlinks this accepts (directories are always made) */
  readonly include?: (entry: RegularFileEntry | SymlinkEntry) => boolean;
  /** frames fetched and unpacked at once (default 8) */
  readonly concurrency?: number;
  /** restore owners (uid/gid); default: when running as root */
  readonly owners?: boolean;
  readonly codec?: Codec;
  readonly logger?: Logger;
  readonly progress?: Progress;
  readonly signal?: AbortSignal;
}

export interface RestoreFilesResult {
  /** regular files written (or that would be) */
  readonly files: number;
  readonly bytes: number;
  readonly dirs: number;
  readonly symlinks: number;
  readonly seconds: number;
  /** dry run only: every path that would be written, sorted; directories end in `/`, symlinks show `-> target` */
  readonly planned?: string[];
}

/**
 * Restores an area of a snapshot, or a subpath of it, into `target`: directories (empty ones
 * too), files with their content verified against the list's sha256, symlinks, modes, mtimes and,
 * as root, owners; directory metadata is applied last. Frames are fetched by range, in parallel,
 * each once for all the files it holds. Content that does not match fails the restore with an
 * IntegrityError naming the file and the pack. A non-empty target is refused unless `force`
 * (which empties it first).
 */
export async function restoreFiles(options: RestoreFilesOptions): Promise<RestoreFilesResult> {
  const started = performance.now();
  const { repo, manifest, signal } = options;
  const logger = (options.logger ?? nullLogger).child({ job: 'restore-files', snapshot: manifest.id, area: options.area });
  const progress = options.progress ?? nullProgress;
  const sub = normalizeSubpath(options.path);

  const part = filesPartOf(manifest);
  if (!part) throw new NotFoundError(`snapshot '${manifest.id}': has no files part`);
  const area = part.areas.find((a) => a.name === options.area);
  if (!area) {
    throw new NotFoundError(
      `snapshot '${manifest.id}': no file area '${options.area}' (areas: ${part.areas.map((a) => a.name).join(', ') || 'none'})`,
    );
  }
  const record = manifest.objects.find((o) => o.key === area.list);
  if (!record) throw new IntegrityError(`snapshot '${manifest.id}': file list '${area.list}' has no object record`);

  const dirs: DirectoryEntry[] = [];
  const files: RegularFileEntry[] = [];
  const links: SymlinkEntry[] = [];
  let matched = 0;
  const list = await openFileList(repo, record, signal);
  for await (const e of list.entries) {
    const inside = sub === undefined || e.path === sub || e.path.startsWith(`${sub}/`);
    const ancestor = sub !== undefined && e.type === 'dir' && sub.startsWith(`${e.path}/`);
    if (!inside && !ancestor) continue;
    if (e.type !== 'dir' && options.include && !options.include(e)) continue;
    if (inside) matched++;
    if (e.type === 'dir') dirs.push(e);
    else if (e.type === 'file') files.push(e);
    else links.push(e);
  }
  if (sub !== undefined && matched === 0)
    throw new NotFoundError(`snapshot '${manifest.id}': area '${area.name}' has no path '${sub}'`);
  const bytes = files.reduce((s, f) => s + f.size, 0);
  const counts = { files: files.length, bytes, dirs: dirs.length, symlinks: links.length };

  if (options.dryRun) {
    const planned = [
      ...dirs.map((d) => `${d.path}/`),
      ...files.map((f) => f.path),
      ...links.map((l) => `${l.path} -> ${l.target}`),
    ].sort();
    return { ...counts, seconds: (performance.now() - started) / 1000, planned };
  }

  const codec = options.codec ?? repo.codec;
  const owners = options.owners ?? process.getuid?.() === 0;
  const io = limiter(16);
  logger.info('restoring files', { ...counts, target: options.target, path: sub ?? null });
  // written aside and moved into place at the end: a failed restore leaves the target as it was
  await restoreInto(options.target, options.force ?? false, (staging) =>
    restoreTree(staging, {
      repo,
      codec,
      owners,
      io,
      dirs,
      files,
      links,
      bytes,
      progress,
      logger,
      started,
      concurrency: options.concurrency ?? 8,
      signal,
    }),
  );
  // the area directory's own metadata, once its entries are in place (moving them in changed its mtime)
  if (list.header.root) await applyFileMeta(options.target, list.header.root, owners);

  const seconds = (performance.now() - started) / 1000;
  logger.info('files restored', { ...counts, seconds });
  return { ...counts, seconds };
}

interface TreeContext {
  readonly repo: Repository;
  readonly codec: Codec;
  readonly owners: boolean;
  readonly io: Limiter;
  readonly dirs: readonly DirectoryEntry[];
  readonly files: readonly RegularFileEntry[];
  readonly links: readonly SymlinkEntry[];
  readonly bytes: number;
  readonly progress: Progress;
  readonly logger: Logger;
  readonly started: number;
  readonly concurrency: number;
  readonly signal?: AbortSignal;
}

/** Writes the entries below `root`: directories, files, symlinks, then the directories' metadata. */
async function restoreTree(root: string, ctx: TreeContext): Promise<void> {
  const { repo, codec, owners, io, dirs, files, links, bytes, progress, logger, started } = ctx;
  // the first failure stops the other tasks, and the tree settles before the caller discards it
  const failed = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, failed.signal]) : failed.signal;
  setMaxListeners(256, signal); // every parallel write listens to it
  const all = <T>(tasks: Promise<T>[]): Promise<T[]> => settleAll(tasks, (err) => failed.abort(err));
  const abs = (path: string): string => join(root, ...path.split('/'));

  // directories first, parents before children
  const made = new Set<string>();
  const byDepth = groupBy(dirs, (d) => d.path.split('/').length);
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    await all(
      (byDepth.get(depth) ?? []).map((d) =>
        io(async () => {
          await mkdir(abs(d.path), { recursive: true });
          made.add(d.path);
        }),
      ),
    );
  }
  const parentOf = async (path: string): Promise<void> => {
    const slash = path.lastIndexOf('/');
    if (slash < 0 || made.has(path.slice(0, slash))) return;
    await mkdir(abs(path.slice(0, slash)), { recursive: true });
  };

  logger.debug('directories created', { dirs: dirs.length, ms: Math.round(performance.now() - started) });

  // files: empty ones directly, the others frame by frame
  progress.phase('restore', bytes, 'bytes');
  const empty = files.filter((f) => f.pack === undefined);
  await all(
    empty.map((f) =>
      io(async () => {
        await parentOf(f.path);
        await (await open(abs(f.path), 'w')).close();
        await applyFileMeta(abs(f.path), f, owners);
      }),
    ),
  );
  const frames = groupBy(
    files.filter((f) => f.pack !== undefined),
    (f) => `${f.pack} ${f.frame?.offset}`,
  );
  const fetch = limiter(ctx.concurrency);
  // file writes of all frames share one limit: FUSE writes are latency bound
  const writes = limiter(2 * ctx.concurrency);
  await all(
    [...frames.values()].map((group) =>
      fetch(async () => {
        throwIfAborted(signal, 'files restore');
        const first = group[0] as RegularFileEntry;
        await restoreFrame(repo, codec, first.pack as string, first.frame as FrameRef, group, {
          io: writes,
          abs,
          parentOf,
          owners,
          progress,
          signal,
        });
      }),
    ),
  );
  progress.done();
  logger.debug('files written', { files: files.length, ms: Math.round(performance.now() - started) });

  // symlinks after files (nothing is ever written through one), directory metadata last
  for (const l of links) {
    await parentOf(l.path);
    await symlink(l.target, abs(l.path));
    if (owners) await lchown(abs(l.path), l.uid, l.gid);
    const t = utimesSeconds(l.mtime);
    await lutimes(abs(l.path), t, t);
  }
  const deepestFirst = [...dirs].sort((a, b) => b.path.split('/').length - a.path.split('/').length);
  await all(deepestFirst.map((d) => io(() => applyFileMeta(abs(d.path), d, owners))));
}

interface FrameContext {
  readonly io: Limiter;
  readonly abs: (path: string) => string;
  readonly parentOf: (path: string) => Promise<void>;
  readonly owners: boolean;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
}

/** Blobs up to this size are verified in memory, then written in parallel with the next ones. */
const BUFFERED_BLOB = 8 * 1024 * 1024;

/** Writes every file of `group` (all in one frame) from a single range read, verifying each. */
async function restoreFrame(
  repo: Repository,
  codec: Codec,
  pack: string,
  frame: FrameRef,
  group: readonly RegularFileEntry[],
  ctx: FrameContext,
): Promise<void> {
  const wanted = groupBy(group, (f) => f.sha256);
  const verified = new Set<string>();
  const naming = (): string => {
    const left = group.filter((f) => !verified.has(f.path));
    const first = left[0] ?? group[0];
    return `file '${first?.path}'${left.length > 1 ? ` (and ${left.length - 1} more in the same frame)` : ''}`;
  };
  const writes: Promise<void>[] = [];
  try {
    for await (const blob of frameBlobs(repo.store, codec, pack, frame, ctx.signal)) {
      const targets = wanted.get(blob.name);
      if (!targets) continue;
      const [first, ...copies] = targets as [RegularFileEntry, ...RegularFileEntry[]];
      if (blob.offset !== first.entry) {
        throw new IntegrityError(
          `file '${first.path}': found at offset ${blob.offset} of pack '${pack}' frame at ${frame.offset}, list says ${first.entry}`,
        );
      }
      if (blob.size <= BUFFERED_BLOB) {
        const chunks: Buffer[] = [];
        for await (const chunk of blob.content) chunks.push(chunk);
        const data = Buffer.concat(chunks);
        checkContent(first, pack, data.length, createHash('sha256').update(data).digest('hex'));
        for (const f of targets) {
          verified.add(f.path);
          const write = ctx.io(() => writeBuffer(ctx, f, data));
          write.catch(() => {}); // awaited below
          writes.push(write);
        }
      } else {
        await writeVerified(ctx, pack, first, blob.content);
        verified.add(first.path);
        for (const copy of copies) {
          await ctx.parentOf(copy.path);
          await copyFile(ctx.abs(first.path), ctx.abs(copy.path));
          await applyFileMeta(ctx.abs(copy.path), copy, ctx.owners);
          ctx.progress.advance(copy.size);
          verified.add(copy.path);
        }
        // the first target's metadata after its copies were taken from it (its mode may be read-only)
        await applyFileMeta(ctx.abs(first.path), first, ctx.owners);
      }
      wanted.delete(blob.name);
      if (wanted.size === 0) break;
    }
  } catch (err) {
    await Promise.allSettled(writes);
    if (err instanceof IntegrityError && !/^file '/.test(err.message))
      throw new IntegrityError(`${naming()}: ${err.message}`, { cause: err });
    throw err;
  }
  await settleAll(writes);
  if (wanted.size > 0) throw new IntegrityError(`${naming()}: not found in pack '${pack}' frame at ${frame.offset}`);
}

async function writeBuffer(ctx: FrameContext, file: RegularFileEntry, data: Buffer): Promise<void> {
  await ctx.parentOf(file.path);
  await writeFile(ctx.abs(file.path), data);
  await applyFileMeta(ctx.abs(file.path), file, ctx.owners);
  ctx.progress.advance(data.length);
}

function checkContent(file: RegularFileEntry, pack: string, size: number, sha256: string): void {
  if (size !== file.size || sha256 !== file.sha256) {
    throw new IntegrityError(
      `file '${file.path}': restored content (${size} bytes, sha256 ${sha256.slice(0, 12)}…) differs from the list ` +
        `(${file.size} bytes, sha256 ${file.sha256.slice(0, 12)}…) in pack '${pack}'`,
    );
  }
}

async function writeVerified(
  ctx: FrameContext,
  pack: string,
  file: RegularFileEntry,
  content: AsyncIterable<Buffer>,
): Promise<void> {
  const path = ctx.abs(file.path);
  await ctx.parentOf(file.path);
  const hash = createHash('sha256');
  let size = 0;
  const fh = await open(path, 'w');
  try {
    for await (const chunk of content) {
      hash.update(chunk);
      size += chunk.length;
      await fh.write(chunk);
      ctx.progress.advance(chunk.length);
    }
  } finally {
    await fh.close();
  }
  try {
    checkContent(file, pack, size, hash.digest('hex'));
  } catch (err) {
    await unlink(path).catch(() => {});
    throw err;
  }
}

/** Owner before mode (chown clears setuid bits), mtime last (exact to the microsecond). */
export async function applyFileMeta(
  path: string,
  e: Pick<FileEntry, 'uid' | 'gid' | 'mode' | 'mtime'>,
  owners: boolean,
): Promise<void> {
  if (owners) await lchown(path, e.uid, e.gid);
  await chmod(path, modeBits(e.mode));
  const t = utimesSeconds(e.mtime);
  await utimes(path, t, t);
}

function normalizeSubpath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const trimmed = path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed === '.') return undefined;
  if (!isSafeRelative(trimmed)) throw new UsageError(`path '${path}': must be relative to the area, without '.' or '..'`);
  return trimmed;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const out = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
