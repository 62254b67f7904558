import { resolve } from 'node:path';
import { UsageError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { LimitStore, type RetryOptions, RetryStore, withLogging, withPrefix } from './decorators.js';
import { FsStore } from './fs-store.js';
import { MemoryStore } from './memory-store.js';
import type { ObjectStore } from './object-store.js';
import { S3Store } from './s3-store.js';

export type StoreUrl =
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'memory'; readonly name: string };

export const STORE_URL_HINT = 'expected s3://bucket/prefix or file:///path';

/** Parses `s3://bucket[/prefix]`, `file:///abs/path` or `memory://name`. */
export function parseStoreUrl(url: string): StoreUrl {
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (s3?.[1]) return { kind: 's3', bucket: s3[1], prefix: (s3[2] ?? '').replace(/^\/+|\/+$/g, '') };
  const file = /^file:\/\/(\/.*)$/.exec(url);
  if (file?.[1]) return { kind: 'file', path: resolve(file[1]) };
  const memory = /^memory:\/\/([\w.-]+)$/.exec(url);
  if (memory?.[1]) return { kind: 'memory', name: memory[1] };
  throw new UsageError(`storage url '${url}': ${STORE_URL_HINT}`);
}

export interface S3Connection {
  readonly endpoint?: string;
  readonly region?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle?: boolean;
  readonly queueSize?: number;
}

export interface OpenStoreOptions {
  readonly s3?: S3Connection;
  /** operations in flight (default 8) */
  readonly concurrency?: number;
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
}

/** Builds the decorated store for a URL: backend → prefix → retry → concurrency limit → logging. */
export function openStore(url: string, options: OpenStoreOptions = {}): ObjectStore {
  const parsed = parseStoreUrl(url);
  const logger = options.logger ?? nullLogger;
  let store: ObjectStore;
  switch (parsed.kind) {
    case 's3': {
      if (!options.s3) throw new UsageError(`storage url '${url}': s3 credentials are required`);
      store = withPrefix(new S3Store({ bucket: parsed.bucket, ...options.s3 }), parsed.prefix);
      break;
    }
    case 'file':
      store = new FsStore(parsed.path);
      break;
    case 'memory':
      store = new MemoryStore(parsed.name);
      break;
  }
  store = new RetryStore(store, { logger, ...options.retry });
  store = new LimitStore(store, options.concurrency ?? 8);
  return withLogging(store, logger);
}
