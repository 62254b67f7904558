import { Readable } from 'node:stream';
import { ConflictError, NotFoundError, throwIfAborted } from '../lib/errors.js';
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

interface Entry {
  readonly data: Buffer;
  readonly lastModified: Date;
}

/** In-process store for unit tests and dry runs. Not durable. */
export class MemoryStore implements ObjectStore {
  readonly location: string;
  private readonly objects = new Map<string, Entry>();

  constructor(name = 'default') {
    this.location = `memory://${name}`;
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    let data: Buffer;
    if (Buffer.isBuffer(body)) data = body;
    else {
      const chunks: Buffer[] = [];
      for await (const chunk of body) {
        throwIfAborted(options.signal, `put '${key}'`);
        chunks.push(chunk as Buffer);
      }
      data = Buffer.concat(chunks);
    }
    throwIfAborted(options.signal, `put '${key}'`);
    this.objects.set(key, { data, lastModified: new Date() });
    return { size: data.length };
  }

  async putIfAbsent(key: string, body: Buffer, options: { signal?: AbortSignal } = {}): Promise<PutResult> {
    checkKey(key);
    throwIfAborted(options.signal, `put '${key}'`);
    if (this.objects.has(key)) throw new ConflictError(`object '${key}': already exists`);
    this.objects.set(key, { data: body, lastModified: new Date() });
    return { size: body.length };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    const entry = this.entry(key);
    const start = options.range?.start ?? 0;
    if (options.range && start >= entry.data.length) throw outOfRange(key, start, entry.data.length);
    const end = options.range?.end ?? entry.data.length - 1;
    return Readable.from([entry.data.subarray(start, end + 1)]);
  }

  async head(key: string): Promise<ObjectInfo> {
    const entry = this.entry(key);
    return { key, size: entry.data.length, lastModified: entry.lastModified };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const key of keys) {
      const entry = this.objects.get(key);
      if (entry) yield { key, size: entry.data.length, lastModified: entry.lastModified };
    }
  }

  async delete(keys: readonly string[]): Promise<DeleteResult[]> {
    return keys.map((key) => {
      this.objects.delete(key);
      return { key };
    });
  }

  async cleanupIncomplete(): Promise<number> {
    return 0;
  }

  private entry(key: string): Entry {
    checkKey(key);
    const entry = this.objects.get(key);
    if (!entry) throw new NotFoundError(`object '${key}': not found in ${this.location}`);
    return entry;
  }
}
