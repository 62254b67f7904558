import { createHash, type Hash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Codec } from '../codec/zstd.js';
import { IntegrityError, throwIfAborted } from '../lib/errors.js';
import { limiter } from '../lib/limit.js';
import type { ObjectRecord } from '../repo/manifest.js';
import type { ObjectStore, PutResult } from '../storage/object-store.js';
import { END_OF_ARCHIVE, tarEntrySize, tarHeader, tarPadding } from './tar.js';
import type { ContentLocation, PackIndex } from './types.js';

const MiB = 1024 * 1024;
export const DEFAULT_PACK_BYTES = 128 * MiB;
export const DEFAULT_FRAME_BYTES = 4 * MiB;

export interface PackWriterOptions {
  readonly store: ObjectStore;
  readonly codec: Codec;
  /** a pack is closed once its raw (tar) size reaches this (default 128 MiB) */
  readonly packBytes?: number;
  /** a frame is cut once its raw size reaches this (default 4 MiB) */
  readonly frameBytes?: number;
  readonly compressionLevel?: number;
  /** frames compressed at once (default: one per core) */
  readonly compressConcurrency?: number;
  /** frames waiting to be written before `add*` waits (default 1) */
  readonly maxPendingFrames?: number;
  /** parts of a pack uploaded at once (default 2: each is held in memory, and packs are many) */
  readonly partsInFlight?: number;
  /** called with each pack once it is completely stored (awaited before the next pack is written into) */
  readonly onPack?: (index: PackIndex) => Promise<void>;
  readonly signal?: AbortSignal;
}

/** Receives the location of a blob once its frame is in the pack stream. */
export type LocationSink = (location: ContentLocation) => void;

export interface PackWriterStats {
  readonly packs: number;
  readonly frames: number;
  /** blobs written */
  readonly blobs: number;
  /** content bytes of the blobs written */
  readonly contentBytes: number;
  /** stored (compressed) bytes of all packs, finished or not */
  readonly storedBytes: number;
}

type Job =
  | {
      readonly kind: 'buffer';
      /** the frame's tar bytes, in pieces (never copied into one buffer) */
      readonly raw: readonly Buffer[];
      readonly rawBytes: number;
      readonly entries: readonly BufferedEntry[];
      readonly compressed: Promise<Buffer[]>;
    }
  | {
      readonly kind: 'file';
      readonly sha256: string;
      readonly size: number;
      readonly file: string;
      readonly sink: LocationSink;
      readonly onWritten: () => void;
    };

interface BufferedEntry {
  readonly sha256: string;
  readonly offset: number;
  readonly size: number;
  readonly sink: LocationSink;
}

interface OpenPack {
  readonly key: string;
  readonly body: PassThrough;
  readonly put: Promise<PutResult>;
  readonly stored: Hash;
  readonly raw: Hash;
  storedBytes: number;
  rawBytes: number;
  readonly blobs: [string, number, number, number][];
}

/** END_OF_ARCHIVE as one zstd frame (content checksum included), as `zstd -3` writes it: every pack's last frame. */
export const END_OF_ARCHIVE_FRAME: Buffer = Buffer.from('28b52ffd04584d00001000000100fb2b8005cdac85f0', 'hex');

/** `packs/<first two hex digits>/<32 hex digits>.tar.zst` */
export function packKey(id: string): string {
  return `packs/${id.slice(0, 2)}/${id}.tar.zst`;
}

/**
 * Writes content blobs into packs: each pack is a `.tar.zst` made of independent zstd frames, each
 * frame holding whole tar entries named by the blob's sha256 (one frame per blob larger than a
 * frame), the last frame holding the end-of-archive blocks. A pack is closed before the blob that
 * would take it past `packBytes` (so only a pack holding a single large blob is larger). Packs
 * stream into the store (never buffered whole); frames are compressed in parallel and written in
 * order. Callers must not add
 * the same blob twice.
 */
export class PackWriter {
  private readonly store: ObjectStore;
  private readonly codec: Codec;
  private readonly packBytes: number;
  private readonly frameBytes: number;
  private readonly level: number;
  private readonly maxPending: number;
  private readonly partsInFlight: number;
  private readonly compressLimit: ReturnType<typeof limiter>;
  private readonly signal: AbortSignal | undefined;
  private readonly onPack: PackWriterOptions['onPack'];
  private readonly mtime = Math.floor(Date.now() / 1000);

  private current: { chunks: Buffer[]; entries: BufferedEntry[]; bytes: number } = { chunks: [], entries: [], bytes: 0 };
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | undefined;
  private pack: OpenPack | undefined;
  private readonly records: ObjectRecord[] = [];
  private counts = { packs: 0, frames: 0, blobs: 0, contentBytes: 0, storedBytes: 0 };

  constructor(options: PackWriterOptions) {
    this.store = options.store;
    this.codec = options.codec;
    this.packBytes = options.packBytes ?? DEFAULT_PACK_BYTES;
    this.frameBytes = options.frameBytes ?? DEFAULT_FRAME_BYTES;
    this.level = options.compressionLevel ?? 3;
    this.maxPending = options.maxPendingFrames ?? 1;
    this.partsInFlight = options.partsInFlight ?? 2;
    this.compressLimit = limiter(options.compressConcurrency ?? Math.max(1, availableParallelism()));
    this.signal = options.signal;
    this.onPack = options.onPack;
    for (const [name, value] of [
      ['packBytes', this.packBytes],
      ['frameBytes', this.frameBytes],
      ['maxPendingFrames', this.maxPending],
      ['partsInFlight', this.partsInFlight],
    ] as const) {
      if (!Number.isInteger(value) || value < 1)
        throw new RangeError(`pack writer: ${name} must be a positive integer, got ${value}`);
    }
  }

  /** Adds a blob held in memory. Resolves once accepted; `sink` is called when its frame is written. */
  async addBuffer(sha256: string, data: Buffer, sink: LocationSink): Promise<void> {
    await this.accepting();
    const size = tarEntrySize(data.length);
    if (this.current.bytes > 0 && this.current.bytes + size > this.frameBytes) this.seal();
    const frame = this.current;
    frame.entries.push({ sha256, offset: frame.bytes, size: data.length, sink });
    frame.chunks.push(tarHeader(sha256, data.length, this.mtime), data, tarPadding(data.length));
    frame.bytes += size;
    if (frame.bytes >= this.frameBytes) this.seal();
  }

  /**
   * Adds a blob stored in a local file of exactly `size` bytes, in a frame of its own. `onWritten`
   * runs once the file is no longer needed (written or failed).
   */
  async addFile(sha256: string, size: number, file: string, sink: LocationSink, onWritten: () => void): Promise<void> {
    try {
      await this.accepting();
    } catch (err) {
      onWritten();
      throw err;
    }
    this.enqueue({ kind: 'file', sha256, size, file, sink, onWritten });
  }

  /**
   * Writes what was added into the open pack: once it resolves, every location has been passed to
   * its sink (the pack may still be uploading; `close` waits for that).
   */
  async flush(): Promise<void> {
    if (!this.failure) this.seal();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** Writes what is buffered, finishes the open pack and returns the records of all packs written. */
  async close(): Promise<ObjectRecord[]> {
    await this.flush();
    try {
      await this.finishPack();
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
    return [...this.records];
  }

  /** Stops writing: the open pack's upload is abandoned (nothing is stored under its key). */
  abort(reason: Error): void {
    this.fail(reason);
  }

  /** Resolves once no frame is being written (after `abort`: once the open pack's upload is abandoned). */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** Packs completely written so far (to delete them when the run fails). */
  get written(): readonly ObjectRecord[] {
    return this.records;
  }

  get stats(): PackWriterStats {
    return { ...this.counts };
  }

  private async accepting(): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      throwIfAborted(this.signal, 'pack writer');
      if (this.pending < this.maxPending) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private seal(): void {
    const frame = this.current;
    if (frame.bytes === 0) return;
    this.current = { chunks: [], entries: [], bytes: 0 };
    const raw = frame.chunks;
    const compressed = this.compressLimit(() => compressChunks(this.codec, this.level, raw));
    compressed.catch(() => {}); // observed by write()
    this.enqueue({ kind: 'buffer', raw, rawBytes: frame.bytes, entries: frame.entries, compressed });
  }

  private enqueue(job: Job): void {
    this.pending++;
    this.chain = this.chain
      .then(() => (this.failure ? undefined : this.write(job)))
      .catch((err: unknown) => this.fail(err as Error))
      .finally(() => {
        if (job.kind === 'file') job.onWritten();
        this.pending--;
        this.wake();
      });
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    this.pack?.body.destroy(this.failure);
    this.wake();
  }

  private async write(job: Job): Promise<void> {
    // a blob that would overflow the open pack starts a new one, sized for it
    const blobBytes = job.kind === 'file' ? tarEntrySize(job.size) : job.rawBytes;
    if (this.pack && this.pack.rawBytes > 0 && this.pack.rawBytes + blobBytes > this.packBytes) await this.finishPack();
    const pack = this.openPack(blobBytes);
    const offset = pack.storedBytes;
    if (job.kind === 'buffer') {
      const data = await job.compressed;
      for (const chunk of job.raw) pack.raw.update(chunk);
      pack.rawBytes += job.rawBytes;
      for (const chunk of data) await this.writeStored(pack, chunk);
      const frame = { offset, length: pack.storedBytes - offset };
      for (const e of job.entries) {
        e.sink({ pack: pack.key, frame, entry: e.offset });
        pack.blobs.push([e.sha256, frame.offset, frame.length, e.offset]);
        this.counts.blobs++;
        this.counts.contentBytes += e.size;
      }
    } else {
      await this.writeFileFrame(pack, job);
      job.sink({ pack: pack.key, frame: { offset, length: pack.storedBytes - offset }, entry: 0 });
      pack.blobs.push([job.sha256, offset, pack.storedBytes - offset, 0]);
      this.counts.blobs++;
      this.counts.contentBytes += job.size;
    }
    this.counts.frames++;
    if (pack.rawBytes >= this.packBytes) await this.finishPack();
  }

  private async writeFileFrame(pack: OpenPack, job: Extract<Job, { kind: 'file' }>): Promise<void> {
    let contentBytes = 0;
    const header = tarHeader(job.sha256, job.size, this.mtime);
    const content = createReadStream(job.file, { highWaterMark: 256 * 1024 });
    async function* raw(): AsyncGenerator<Buffer> {
      yield header;
      for await (const chunk of content) {
        contentBytes += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      yield tarPadding(job.size);
    }
    const hashRaw = new PassThrough();
    hashRaw.on('data', (chunk: Buffer) => {
      pack.raw.update(chunk);
      pack.rawBytes += chunk.length;
    });
    const sink = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.writeStored(pack, chunk).then(() => cb(), cb);
      },
    });
    await pipeline(Readable.from(raw()), hashRaw, this.codec.compress({ level: this.level }), sink);
    if (contentBytes !== job.size) {
      throw new IntegrityError(`blob ${job.sha256.slice(0, 12)}…: spool file has ${contentBytes} bytes, expected ${job.size}`);
    }
  }

  private openPack(firstBlobBytes: number): OpenPack {
    if (this.pack) return this.pack;
    const key = packKey(randomBytes(16).toString('hex'));
    const body = new PassThrough({ highWaterMark: MiB });
    const put = this.store.put(key, body, {
      sizeHint: Math.max(this.packBytes, firstBlobBytes) + this.frameBytes,
      partsInFlight: this.partsInFlight,
      signal: this.signal,
    });
    put.catch((err: unknown) => body.destroy(err as Error));
    this.pack = {
      key,
      body,
      put,
      stored: createHash('sha256'),
      raw: createHash('sha256'),
      storedBytes: 0,
      rawBytes: 0,
      blobs: [],
    };
    return this.pack;
  }

  private async writeStored(pack: OpenPack, chunk: Buffer): Promise<void> {
    pack.stored.update(chunk);
    pack.storedBytes += chunk.length;
    this.counts.storedBytes += chunk.length;
    await writeWithBackpressure(pack.body, chunk);
  }

  private async finishPack(): Promise<void> {
    const pack = this.pack;
    if (!pack) return;
    pack.raw.update(END_OF_ARCHIVE);
    pack.rawBytes += END_OF_ARCHIVE.length;
    await this.writeStored(pack, END_OF_ARCHIVE_FRAME);
    pack.body.end();
    const put = await pack.put;
    this.pack = undefined;
    if (put.size !== pack.storedBytes) {
      throw new IntegrityError(`pack '${pack.key}': store reports ${put.size} bytes, ${pack.storedBytes} were sent`);
    }
    const record: ObjectRecord = {
      key: pack.key,
      format: 'tar',
      compression: 'zstd',
      stored: { size: pack.storedBytes, sha256: pack.stored.digest('hex') },
      raw: { size: pack.rawBytes, sha256: pack.raw.digest('hex') },
    };
    this.records.push(record);
    this.counts.packs++;
    await this.onPack?.({ pack: record, blobs: pack.blobs });
  }
}

/** Compresses bytes held in memory into one standalone zstd stream, returned in pieces. */
export async function compressChunks(codec: Codec, level: number, raw: readonly Buffer[]): Promise<Buffer[]> {
  const z = codec.compress({ level, threads: 1 });
  const out: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of z) out.push(chunk as Buffer);
  })();
  collected.catch(() => {}); // awaited below
  for (const chunk of raw) {
    if (!z.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          z.off('drain', done).off('close', done);
          resolve();
        };
        z.on('drain', done).on('close', done);
      });
    }
  }
  z.end();
  await collected;
  return out;
}

/** Writes into `stream`, waiting for it to drain; rejects if it is destroyed meanwhile. */
function writeWithBackpressure(stream: PassThrough, chunk: Buffer): Promise<void> {
  if (stream.destroyed) return Promise.reject(stream.errored ?? new Error('pack stream closed'));
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      stream.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      stream.off('drain', onDrain);
      reject(stream.errored ?? new Error('pack stream closed'));
    };
    stream.once('drain', onDrain);
    stream.once('close', onClose);
  });
}
