import type { Readable } from 'node:stream';
import { OutOfRangeError } from '../lib/errors.js';

/**
 * The storage contract every backend implements (S3, local directory, memory) and every decorator
 * preserves. Keys are `/`-separated relative paths without a leading slash.
 *
 * Errors: a missing key is a `NotFoundError`; transient faults are `RetryableError`; everything
 * else (credentials, bad requests) is `PermanentError`. A failed or aborted `put` leaves no object
 * and no partial upload behind.
 */
export interface ObjectStore {
  /** Human-readable location, without credentials (e.g. `s3://bucket/prefix`). */
  readonly location: string;

  /**
   * Stores `body` under `key`, replacing any existing object atomically: readers see the old
   * object or the new one, never a prefix of it.
   */
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult>;

  /**
   * Stores a small object only if nothing is stored under `key`, atomically: of concurrent
   * callers at most one succeeds, the others get ConflictError. A backend that cannot enforce
   * this fails with UnsupportedError (S3 servers without conditional writes answer 501). Some
   * servers ignore the condition instead: `conditionalWritesWork` finds out.
   */
  putIfAbsent(key: string, body: Buffer, options?: { readonly signal?: AbortSignal }): Promise<PutResult>;

  /**
   * Streams an object, or the inclusive byte range `[start, end]` of it (an `end` past the object
   * gives what there is; a `start` at or past its end is an OutOfRangeError). The stream's errors
   * are classified like the call's.
   */
  get(key: string, options?: GetOptions): Promise<Readable>;

  head(key: string): Promise<ObjectInfo>;

  /** All objects whose key starts with `prefix`, in lexicographic key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;

  /** Deletes keys; a missing key counts as deleted. Returns one result per key. */
  delete(keys: readonly string[]): Promise<DeleteResult[]>;

  /**
   * Removes leftovers of interrupted writes under `prefix` (S3 multipart uploads, temp files)
   * started before `olderThan`. Returns how many were removed.
   */
  cleanupIncomplete(prefix: string, olderThan: Date): Promise<number>;
}

export interface PutOptions {
  /**
   * Expected size in bytes of a streamed body, when known or bounded. Backends use it to size
   * multipart parts; a stream longer than the backend can take for this hint fails loudly.
   */
  readonly sizeHint?: number;
  /**
   * Parts of this object uploaded at once by backends that upload in parts (default: the
   * backend's own). Lower trades throughput for memory: each part in flight is held in memory.
   */
  readonly partsInFlight?: number;
  readonly signal?: AbortSignal;
}

export interface PutResult {
  /** bytes stored */
  readonly size: number;
}

export interface GetOptions {
  readonly range?: { readonly start: number; readonly end?: number };
  readonly signal?: AbortSignal;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export interface DeleteResult {
  readonly key: string;
  readonly error?: Error;
}

/** Reads a whole (small) object into memory. */
export async function getBuffer(store: ObjectStore, key: string, options?: GetOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await store.get(key, options)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Validates a key against the contract; returns it unchanged. */
export function checkKey(key: string): string {
  if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new TypeError(`object key '${key}': must be a relative path without empty, '.' or '..' segments`);
  }
  return key;
}

/** The error for a range read starting at or past the end of an object of `size` bytes. */
export function outOfRange(key: string, start: number, size: number): OutOfRangeError {
  return new OutOfRangeError(`object '${key}': range starts at byte ${start}, past the end of the object (${size} bytes)`);
}
