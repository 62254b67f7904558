import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../lib/errors.js';
import { type Limiter, limiter } from '../lib/limit.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { DeleteResult, GetOptions, ObjectInfo, ObjectStore, PutOptions, PutResult } from './object-store.js';

/** Presents `inner` under `prefix/`: keys are relative to the prefix, listings strip it. */
export function withPrefix(inner: ObjectStore, prefix: string): ObjectStore {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  if (!p) return inner;
  const full = (key: string): string => `${p}/${key}`;
  return {
    location: `${inner.location}/${p}`,
    put: (key, body, options) => inner.put(full(key), body, options),
    putIfAbsent: (key, body, options) => inner.putIfAbsent(full(key), body, options),
    get: (key, options) => inner.get(full(key), options),
    head: async (key) => ({ ...(await inner.head(full(key))), key }),
    async *list(prefix) {
      for await (const info of inner.list(full(prefix))) yield { ...info, key: info.key.slice(p.length + 1) };
    },
    delete: async (keys) => (await inner.delete(keys.map(full))).map((r) => ({ ...r, key: r.key.slice(p.length + 1) })),
    cleanupIncomplete: (prefix, olderThan) => inner.cleanupIncomplete(full(prefix), olderThan),
  };
}

export interface RetryOptions {
  /** total attempts including the first (default 5) */
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly logger?: Logger;
}

/**
 * Repeats operations that failed with a retryable error, with exponential backoff and jitter.
 * A streamed `put` is attempted once (its body cannot be replayed; the S3 backend retries
 * individual parts); Buffer bodies are retried. A retried `putIfAbsent` whose first attempt was
 * stored but not acknowledged fails with ConflictError: callers compare what is stored.
 */
export class RetryStore implements ObjectStore {
  readonly location: string;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly inner: ObjectStore,
    options: RetryOptions = {},
  ) {
    this.location = inner.location;
    this.attempts = options.attempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.logger = options.logger ?? nullLogger;
  }

  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult> {
    if (!Buffer.isBuffer(body)) return this.inner.put(key, body, options);
    return this.retry(`put '${key}'`, () => this.inner.put(key, body, options));
  }
  putIfAbsent(key: string, body: Buffer, options?: { signal?: AbortSignal }): Promise<PutResult> {
    return this.retry(`put '${key}'`, () => this.inner.putIfAbsent(key, body, options));
  }
  get(key: string, options?: GetOptions): Promise<Readable> {
    return this.retry(`get '${key}'`, () => this.inner.get(key, options));
  }
  head(key: string): Promise<ObjectInfo> {
    return this.retry(`head '${key}'`, () => this.inner.head(key));
  }
  delete(keys: readonly string[]): Promise<DeleteResult[]> {
    return this.retry('delete', () => this.inner.delete(keys));
  }
  cleanupIncomplete(prefix: string, olderThan: Date): Promise<number> {
    return this.retry(`cleanup '${prefix}'`, () => this.inner.cleanupIncomplete(prefix, olderThan));
  }

  /** Restarts a failed listing after the last key already yielded (listings are key-ordered). */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let last: string | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const info of this.inner.list(prefix)) {
          if (last !== undefined && info.key <= last) continue;
          last = info.key;
          yield info;
        }
        return;
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.attempts) throw err;
        await this.pause(`list '${prefix}'`, attempt, err);
      }
    }
  }

  private async retry<T>(what: string, op: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!isRetryable(err) || attempt >= this.attempts) throw err;
        await this.pause(what, attempt, err);
      }
    }
  }

  private async pause(what: string, attempt: number, err: unknown): Promise<void> {
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
    this.logger.warn('storage operation failed, retrying', { op: what, attempt, delayMs: Math.round(delay), error: String(err) });
    await sleep(delay);
  }
}

/**
 * Bounds the number of operations in flight. A `get` holds its slot until the returned stream
 * closes, so callers must consume or destroy every stream they open.
 */
export class LimitStore implements ObjectStore {
  readonly location: string;
  private readonly limit: Limiter;

  constructor(
    private readonly inner: ObjectStore,
    concurrency: number,
  ) {
    this.location = inner.location;
    this.limit = limiter(concurrency);
  }

  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<PutResult> {
    return this.run(() => this.inner.put(key, body, options));
  }
  putIfAbsent(key: string, body: Buffer, options?: { signal?: AbortSignal }): Promise<PutResult> {
    return this.run(() => this.inner.putIfAbsent(key, body, options));
  }
  head(key: string): Promise<ObjectInfo> {
    return this.run(() => this.inner.head(key));
  }
  delete(keys: readonly string[]): Promise<DeleteResult[]> {
    return this.run(() => this.inner.delete(keys));
  }
  cleanupIncomplete(prefix: string, olderThan: Date): Promise<number> {
    return this.run(() => this.inner.cleanupIncomplete(prefix, olderThan));
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  get(key: string, options?: GetOptions): Promise<Readable> {
    return new Promise((resolve, reject) => {
      void this.limit(async () => {
        let stream: Readable;
        try {
          stream = await this.inner.get(key, options);
        } catch (err) {
          reject(err);
          return;
        }
        resolve(stream);
        if (!stream.closed) await once(stream, 'close').catch(() => {});
      });
    });
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    return this.limit(op);
  }
}

/** Logs every operation at debug level and every failure at warn level. */
export function withLogging(inner: ObjectStore, logger: Logger): ObjectStore {
  const log = async <T>(op: string, key: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      const result = await fn();
      logger.debug('storage', { op, key, ms: Math.round(performance.now() - started) });
      return result;
    } catch (err) {
      logger.warn('storage operation failed', { op, key, error: String(err) });
      throw err;
    }
  };
  return {
    location: inner.location,
    put: (key, body, options) => log('put', key, () => inner.put(key, body, options)),
    putIfAbsent: (key, body, options) => log('putIfAbsent', key, () => inner.putIfAbsent(key, body, options)),
    get: (key, options) => log('get', key, () => inner.get(key, options)),
    head: (key) => log('head', key, () => inner.head(key)),
    list: (prefix) => inner.list(prefix),
    delete: (keys) => log('delete', `${keys.length} keys`, () => inner.delete(keys)),
    cleanupIncomplete: (prefix, olderThan) => log('cleanup', prefix, () => inner.cleanupIncomplete(prefix, olderThan)),
  };
}
