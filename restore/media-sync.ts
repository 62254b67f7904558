import type { BigIntStats } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type FileEntry, filesPartOf, modeBits, openFileList } from '../src/files/index.js';
import { NotFoundError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import { nsFromIso } from '../src/lib/time.js';
import type { Manifest } from '../src/repo/manifest.js';
import type { Repository } from '../src/repo/repository.js';
import { applyFileMeta, restoreFiles } from './files.js';

export interface SyncFilesOptions {
  readonly repo: Repository;
  readonly manifest: Manifest;
  /** the area to copy, e.g. `pub/media` */
  readonly area: string;
  /** the directory that becomes a copy of the area (Staging's media directory) */
  readonly target: string;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
}

export interface SyncFilesResult {
  /** files and symlinks written because they were missing or differed */
  readonly copied: number;
  readonly bytes: number;
  /** files, symlinks and directories removed because the snapshot does not have them */
  readonly deleted: number;
  readonly unchanged: number;
}

/** Entries a sync keeps aside while it works (same file system, so each moves into place by rename). */
const SCRATCH = '.lifeboat-sync';

/**
 * Makes `target` a copy of a snapshot's area, transferring only what differs: a file whose size,
 * mtime (to the microsecond) and mode match the list is left alone; the others are restored aside
 * (content verified) and each renamed into place, so a reader sees the old file or the new one;
 * what the snapshot does not have is deleted. Directories get the listed mode and mtime.
 */
export async function syncFiles(options: SyncFilesOptions): Promise<SyncFilesResult> {
  const logger = (options.logger ?? nullLogger).child({ job: 'sync-files', area: options.area });
  const area = filesPartOf(options.manifest)?.areas.find((a) => a.name === options.area);
  const record = area && options.manifest.objects.find((o) => o.key === area.list);
  if (!area || !record) throw new NotFoundError(`snapshot '${options.manifest.id}': no file area '${options.area}'`);
  const listed = new Map<string, FileEntry>();
  for await (const e of (await openFileList(options.repo, record, options.signal)).entries) listed.set(e.path, e);

  await mkdir(options.target, { recursive: true });
  const present = await walk(options.target);
  const changed = new Set<string>();
  let unchanged = 0;
  for (const [path, e] of listed) {
    if (e.type === 'dir') continue;
    if (await same(join(options.target, path), e, present.get(path))) unchanged++;
    else changed.add(path);
  }
  // what the snapshot does not have, or has as another kind; deepest first, a directory after what it held
  const extras = [...present]
    .filter(([path, p]) => listed.get(path)?.type !== p.kind)
    .map(([path]) => path)
    .sort((a, b) => b.length - a.length);
  for (const path of extras) await rm(join(options.target, path), { recursive: true, force: true });
  const deleted = extras.length;

  let bytes = 0;
  if (changed.size > 0) {
    const scratch = join(options.target, SCRATCH);
    await rm(scratch, { recursive: true, force: true });
    try {
      const restored = await restoreFiles({
        repo: options.repo,
        manifest: options.manifest,
        area: options.area,
        target: scratch,
        include: (e) => changed.has(e.path),
        logger,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      bytes = restored.bytes;
      for (const path of changed) {
        await mkdir(dirname(join(options.target, path)), { recursive: true });
        await rename(join(scratch, path), join(options.target, path));
      }
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  // directories last, deepest first: their mode and mtime as listed (writing into them changed the mtime)
  const dirs = [...listed.values()].filter((e) => e.type === 'dir').sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs) await mkdir(join(options.target, d.path), { recursive: true });
  const owners = process.getuid?.() === 0;
  for (const d of dirs) await applyFileMeta(join(options.target, d.path), d, owners);
  logger.info('files synced', { copied: changed.size, deleted, unchanged, bytes });
  return { copied: changed.size, bytes, deleted, unchanged };
}

interface Present {
  readonly kind: 'dir' | 'file' | 'symlink';
  readonly stat: BigIntStats;
}

async function walk(root: string): Promise<Map<string, Present>> {
  const out = new Map<string, Present>();
  const visit = async (rel: string): Promise<void> => {
    for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (!rel && d.name === SCRATCH) continue;
      const stat = await lstat(join(root, path), { bigint: true });
      const kind = stat.isDirectory() ? 'dir' : stat.isSymbolicLink() ? 'symlink' : 'file';
      out.set(path, { kind, stat });
      if (kind === 'dir') await visit(path);
    }
  };
  await visit('');
  return out;
}

async function same(abs: string, e: Exclude<FileEntry, { type: 'dir' }>, p: Present | undefined): Promise<boolean> {
  if (!p) return false;
  if (e.type === 'symlink') return p.kind === 'symlink' && (await readlink(abs)) === e.target;
  return (
    p.kind === 'file' &&
    p.stat.size === BigInt(e.size) &&
    p.stat.mtimeNs / 1000n === nsFromIso(e.mtime) / 1000n &&
    Number(p.stat.mode & 0o7777n) === modeBits(e.mode)
  );
}
