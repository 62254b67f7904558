import type { Readable } from 'node:stream';

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

  /** Streams an object, or the inclusive byte range `[start, end]` of it; the stream's errors are classified like the call's. */
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
  /** Fail with ConflictError instead of replacing an existing object. */
  readonly ifNoneMatch?: boolean;
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
