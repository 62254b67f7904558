import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ConflictError, LifeboatError, NotFoundError, PermanentError, RetryableError } from '../lib/errors.js';
import {
  checkKey,
  type DeleteResult,
  type GetOptions,
  type ObjectInfo,
  type ObjectStore,
  outOfRange,
  type PutOptions,
  type PutResult,
} from './object-store.js';

/** Directory for in-flight writes (`<url-encoded key>~<random>`); never part of the key space. */
const INCOMPLETE = '.incomplete';

/**
 * A local directory as object store; the embedded default. Writes are durable: temp file,
 * fsync, rename into place, fsync the directory.
 */
export class FsStore implements ObjectStore {
  readonly location: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = root;
    this.location = `file://${root}`;
  }

  put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    return this.write(key, body, options.signal, false);
  }

  /** Atomic through link(2), which fails when the target exists. */
  putIfAbsent(key: string, body: Buffer, options: { signal?: AbortSignal } = {}): Promise<PutResult> {
    return this.write(key, body, options.signal, true);
  }

  private async write(
    key: string,
    body: Readable | Buffer,
    signal: AbortSignal | undefined,
    createOnly: boolean,
  ): Promise<PutResult> {
    const target = this.path(key);
    const tmpDir = join(this.root, INCOMPLETE);
    const tmp = join(tmpDir, `${encodeURIComponent(key)}~${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(tmpDir, { recursive: true });
      const out = createWriteStream(tmp, { flags: 'wx' });
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      await pipeline(source, out, signal ? { signal } : {});
      const size = out.bytesWritten;
      await fsyncPath(tmp);
      await mkdir(dirname(target), { recursive: true });
      if (createOnly) {
        await link(tmp, target).catch((err: NodeJS.ErrnoException) => {
          throw err.code === 'EEXIST' ? new ConflictError(`object '${key}': already exists`) : err;
        });
        await unlink(tmp);
      } else {
        await rename(tmp, target);
      }
      await fsyncPath(dirname(target));
      return { size };
    } catch (err) {
      await rm(tmp, { force: true });
      throw classify(err, `put '${key}'`);
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const path = this.path(key);
    // Open first so a missing key fails here, not later in the consumer's pipeline.
    const handle = await open(path, 'r').catch((err: unknown) => {
      throw classify(err, `object '${key}'`);
    });
    const range = options.range;
    if (range) {
      const { size } = await handle.stat();
      if (range.start >= size) {
        await handle.close();
        throw outOfRange(key, range.start, size);
      }
    }
    return createReadStream('', {
      fd: handle,
      ...(range ? { start: range.start, ...(range.end === undefined ? {} : { end: range.end }) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }

  async head(key: string): Promise<ObjectInfo> {
    const st = await stat(this.path(key)).catch((err: unknown) => {
      throw classify(err, `object '${key}'`);
    });
    return { key, size: st.size, lastModified: st.mtime };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const base = slash < 0 ? '' : prefix.slice(0, slash);
    const keys: string[] = [];
    await this.walk(base, keys);
    const matching = keys.filter((k) => k.startsWith(prefix)).sort();
    for (const key of matching) {
      try {
        yield await this.head(key);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err; // deleted while listing
      }
    }
  }

  async delete(keys: readonly string[]): Promise<DeleteResult[]> {
    const results: DeleteResult[] = [];
    for (const key of keys) {
      try {
        await rm(this.path(key), { force: true });
        results.push({ key });
      } catch (err) {
        results.push({ key, error: classify(err, `delete '${key}'`) });
      }
    }
    return results;
  }

  async cleanupIncomplete(prefix: string, olderThan: Date): Promise<number> {
    const dir = join(this.root, INCOMPLETE);
    const names = await readdir(dir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      if (!decodeURIComponent(name.slice(0, name.lastIndexOf('~'))).startsWith(prefix)) continue;
      const st = await stat(join(dir, name)).catch(() => undefined);
      if (st && st.mtime < olderThan) {
        await rm(join(dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  private async walk(relDir: string, out: string[]): Promise<void> {
    const abs = relDir ? join(this.root, ...relDir.split('/')) : this.root;
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw classify(err, `list '${relDir}'`);
    }
    for (const entry of entries) {
      if (!relDir && entry.name === INCOMPLETE) continue;
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await this.walk(rel, out);
      else if (entry.isFile()) out.push(rel);
    }
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function classify(err: unknown, what: string): Error {
  if (err instanceof LifeboatError) return err;
  const e = err as NodeJS.ErrnoException;
  const msg = `${what}: ${e.message ?? String(err)}`.replaceAll(sep + sep, sep);
  switch (e.code) {
    case 'ENOENT':
      return new NotFoundError(`${what}: not found`, { cause: err });
    case 'EAGAIN':
    case 'EBUSY':
    case 'EIO':
    case 'EMFILE':
    case 'ENFILE':
      return new RetryableError(msg, { cause: err });
    default:
      if (e.name === 'AbortError') return new LifeboatError('aborted', `${what}: aborted`, { cause: err });
      return new PermanentError(msg, { cause: err });
  }
}
