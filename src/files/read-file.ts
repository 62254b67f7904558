import { createHash, randomBytes } from 'node:crypto';
import { type BigIntStats, constants, createWriteStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { errorMessage, throwIfAborted } from '../lib/errors.js';
import { HashCounter } from '../lib/hashing.js';

/** Called after each read of a file and before its second stat (a test seam for concurrent writers). */
export type ReadHook = (path: string, attempt: number) => Promise<void> | void;

export interface StableReadOptions {
  /** files up to this size are read into memory, larger ones copied into `spoolDir` */
  readonly memoryLimit: number;
  readonly spoolDir: string;
  /** reads before giving up on a file that keeps changing (default 3) */
  readonly attempts?: number;
  /** relative path handed to `hook` */
  readonly path?: string;
  readonly hook?: ReadHook;
  readonly signal?: AbortSignal;
}

/** The content of one read, hashed exactly as it will be packed. */
export interface FileContent {
  readonly kind: 'content';
  /** fstat taken right before the kept read */
  readonly stat: BigIntStats;
  readonly sha256: string;
  readonly size: number;
  /** the bytes, for files up to the memory limit */
  readonly data?: Buffer;
  /** a private copy of the bytes, for larger files; the caller removes it */
  readonly spool?: string;
  /** size or mtime differed between the stats around every read */
  readonly changed: boolean;
  readonly attempts: number;
}

export type ReadOutcome =
  | FileContent
  /** gone, or replaced by something that is not a regular file */
  | { readonly kind: 'vanished' }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** bytes per read while copying a large file to its spool (each in flight is memory) */
export const SPOOL_CHUNK = 256 * 1024;

const GONE = new Set(['ENOENT', 'ELOOP', 'ENXIO', 'ENOTDIR']);

/**
 * Reads a regular file so that the bytes hashed are the bytes kept: stat, read, stat again on the
 * same descriptor; if size or mtime moved (or fewer bytes than the size came back), read again,
 * up to `attempts` times, then keep the last read flagged `changed`. At most the first stat's size
 * is read. Symlinks are never followed.
 */
export async function readStable(abs: string, options: StableReadOptions): Promise<ReadOutcome> {
  const attempts = options.attempts ?? 3;
  let last: FileContent | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    throwIfAborted(options.signal, `file '${abs}'`);
    if (last?.spool) await rm(last.spool, { force: true });
    let outcome: ReadOutcome;
    try {
      outcome = await readOnce(abs, attempt, options);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
      if (last?.spool) await rm(last.spool, { force: true });
      if (GONE.has(code)) return { kind: 'vanished' };
      return { kind: 'error', code, message: errorMessage(err) };
    }
    if (outcome.kind !== 'content') return outcome;
    last = outcome;
    if (!outcome.changed) return outcome;
  }
  if (!last) throw new RangeError(`read attempts must be at least 1, got ${attempts}`);
  return last;
}

async function readOnce(abs: string, attempt: number, options: StableReadOptions): Promise<ReadOutcome> {
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let spool: string | undefined;
  try {
    const before = await fh.stat({ bigint: true });
    if (!before.isFile()) return { kind: 'vanished' };
    const size = Number(before.size);
    let got: number;
    let sha256: string;
    let data: Buffer | undefined;
    if (size <= options.memoryLimit) {
      data = await readAll(fh, size);
      got = data.length;
      sha256 = createHash('sha256').update(data).digest('hex');
    } else {
      spool = join(options.spoolDir, `${randomBytes(8).toString('hex')}.blob`);
      const counter = new HashCounter();
      await pipeline(
        fh.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: SPOOL_CHUNK }),
        counter,
        createWriteStream(spool),
      );
      ({ size: got, sha256 } = counter.digest());
    }
    await options.hook?.(options.path ?? abs, attempt);
    const after = await fh.stat({ bigint: true });
    const changed = got !== size || after.size !== before.size || after.mtimeNs !== before.mtimeNs;
    const content: FileContent = {
      kind: 'content',
      stat: before,
      sha256,
      size: got,
      changed,
      attempts: attempt,
      ...(data ? { data } : {}),
      ...(spool ? { spool } : {}),
    };
    spool = undefined;
    return content;
  } finally {
    await fh.close();
    if (spool) await rm(spool, { force: true });
  }
}

/** Up to `size` bytes from the start of the file; fewer when it was truncated meanwhile. */
async function readAll(fh: FileHandle, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === size ? buf : buf.subarray(0, got);
}
