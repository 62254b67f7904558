import { PassThrough, type Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Codec } from '../codec/zstd.js';
import {
  AbortedError,
  ConflictError,
  errorMessage,
  IntegrityError,
  isRetryable,
  NotFoundError,
  UsageError,
} from '../lib/errors.js';
import { type Digest, HashCounter } from '../lib/hashing.js';
import { nullProgress, type Progress } from '../lib/progress.js';
import { type ConditionalWrites, conditionalWritesWork, createObject } from '../storage/create-object.js';
import { withPrefix } from '../storage/decorators.js';
import { getBuffer, type ObjectStore } from '../storage/object-store.js';
import { type Manifest, type ObjectRecord, parseManifest, serializeManifest } from './manifest.js';
import { isSnapshotId } from './snapshot-id.js';

export interface WriteObjectOptions {
  /** content format once decompressed (`xbstream`, `sql`, `json`, `tar`) */
  readonly format: string;
  /** expected raw size, used to size multipart parts */
  readonly sizeHint?: number;
  /** `source` is zstd already (compressed by a child process); the record then has no `raw` */
  readonly compressed?: boolean;
  readonly compressionLevel?: number;
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
}

export interface ReadObjectOptions {
  readonly signal?: AbortSignal;
  readonly progress?: Progress;
}

export interface RepositoryOptions {
  /** how the manifest commit keeps a second writer out (default `auto`); see docs/files-format.md */
  readonly conditionalWrites?: ConditionalWrites;
}

/** A read that failed with more than this left unread is not completed to find damage. */
const FINISH_CHECK_LIMIT = 2 * 1024 * 1024 * 1024;

export interface VerifyResult {
  readonly key: string;
  readonly ok: boolean;
  readonly error?: string;
}

const MANIFEST = 'manifest.json';

/**
 * The repository format inside a store, one folder per cluster:
 * `snapshots/<id>/manifest.json` (written last: the commit point), `snapshots/<id>/<objects>`,
 * `packs/…`. A snapshot without a manifest does not exist for any reader.
 */
export class Repository {
  readonly store: ObjectStore;
  private readonly conditionalWrites: ConditionalWrites;

  constructor(
    store: ObjectStore,
    readonly cluster: string,
    /** the zstd implementation objects are written and read with */
    readonly codec: Codec,
    options: RepositoryOptions = {},
  ) {
    this.store = withPrefix(store, cluster);
    this.conditionalWrites = options.conditionalWrites ?? 'auto';
  }

  /**
   * Streams `source` through sha256/size counting and zstd into `key`, returning both checksums.
   * On any failure the upload is aborted and nothing is stored under `key`.
   */
  async writeObject(key: string, source: Readable, options: WriteObjectOptions): Promise<ObjectRecord> {
    const raw = new HashCounter();
    const stored = new HashCounter();
    const body = new PassThrough();
    const progress = options.progress ?? nullProgress;
    (options.compressed ? stored : raw).on('data', (chunk: Buffer) => progress.advance(chunk.length));
    const failed = new AbortController();
    const onAbort = (): void => failed.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const piping = options.compressed
        ? pipeline(source, stored, body, { signal: failed.signal })
        : pipeline(source, raw, this.codec.compress({ level: options.compressionLevel ?? 3 }), stored, body, {
            signal: failed.signal,
          });
      const upload = this.store.put(key, body, {
        ...(options.sizeHint === undefined ? {} : { sizeHint: options.sizeHint }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      // Whichever side fails first tears down the other, so neither waits forever.
      piping.catch((err: unknown) => body.destroy(err as Error));
      upload.catch(() => failed.abort());
      // Both sides settle before this returns (an aborted upload has removed its multipart
      // upload by then); the first failure is the cause, the other side's is its echo.
      const failures: unknown[] = [];
      const settle = <T>(side: Promise<T>) =>
        side.catch((err: unknown) => {
          failures.push(err);
          return undefined;
        });
      const [, put] = await Promise.all([settle(piping), settle(upload)]);
      if (failures.length > 0 || !put) throw failures[0];
      const record: ObjectRecord = {
        key,
        format: options.format,
        compression: 'zstd',
        stored: stored.digest(),
        ...(options.compressed ? {} : { raw: raw.digest() }),
      };
      if (put.size !== record.stored.size) {
        throw new IntegrityError(`object '${key}': store reports ${put.size} bytes, ${record.stored.size} were sent`);
      }
      return record;
    } catch (err) {
      if (failed.signal.aborted && options.signal?.aborted) throw options.signal.reason ?? err;
      throw err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Raw content of an object, verified as it streams: the stream fails with an IntegrityError
   * naming the object if stored or raw bytes differ from the record (detected at the end, or
   * when decoding fails part-way: see `readObject`).
   */
  async openObject(record: ObjectRecord, options: ReadObjectOptions = {}): Promise<Readable> {
    return (await this.open(record, options)).content;
  }

  /**
   * Runs `consume` on an object's content as `openObject` gives it. When something fails
   * part-way (the decoder, or a stage of `consume` such as `mbstream` choking on damaged bytes),
   * the rest of the stored object is read to complete its sha256 (when at most 2 GiB are left),
   * so that damage is reported as such: `object '…': sha256 mismatch`, or a size that differs
   * from the manifest, rather than the symptom a later stage saw. Other failures pass unchanged.
   */
  async readObject<T>(
    record: ObjectRecord,
    consume: (content: Readable) => Promise<T>,
    options: ReadObjectOptions = {},
  ): Promise<T> {
    const opened = await this.open(record, options);
    try {
      return await consume(opened.content);
    } catch (err) {
      opened.content.destroy();
      throw await opened.explain(err);
    }
  }

  private async open(
    record: ObjectRecord,
    options: ReadObjectOptions,
  ): Promise<{ content: Readable; explain: (err: unknown) => Promise<Error> }> {
    const source = await this.store.get(record.key, options.signal ? { signal: options.signal } : {});
    const stored = new HashCounter();
    // the content is hashed only when the record has its digest (an archive compressed by a child has none)
    const raw = record.raw ? new HashCounter() : undefined;
    const check = new VerifyTail(record, stored, raw);
    const progress = options.progress ?? nullProgress;
    stored.on('data', (chunk: Buffer) => progress.advance(chunk.length));
    const decompress = record.compression === 'zstd' ? this.codec.decompress() : new PassThrough();
    // `out` stays outside the pipeline so that its consumer sees the error re-labelled with the
    // object's key, not the raw decoder error the pipeline would destroy it with.
    const out = new PassThrough();
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (out.write(chunk)) cb();
        else out.once('drain', () => cb());
      },
      final(cb) {
        out.end();
        cb();
      },
    });
    let consumerLeft = false;
    out.once('close', () => {
      if (out.writableFinished) return;
      consumerLeft = true;
      sink.destroy();
    });
    const flowing = raw
      ? pipeline(source, stored, decompress, raw, check, sink)
      : pipeline(source, stored, decompress, check, sink);
    const explain = async (err: unknown): Promise<Error> => {
      await flowing.catch(() => {});
      return this.explainFailure(record, stored, err, options.signal);
    };
    flowing.catch(async (err: unknown) => {
      if (!consumerLeft) out.destroy(await explain(err));
    });
    return { content: out, explain };
  }

  /**
   * What a read of `record` that failed with `err` after `stored` had seen part of the object
   * should report: damage when the completed sha256 or the size shows it, else `err`.
   */
  private async explainFailure(record: ObjectRecord, stored: HashCounter, err: unknown, signal?: AbortSignal): Promise<Error> {
    const named = asIntegrity(err, record);
    const settled = err instanceof AbortedError || err instanceof NotFoundError || isRetryable(err) || verdicts.has(named);
    if (settled || signal?.aborted) return named;
    try {
      const { size } = await this.store.head(record.key);
      const wrongSize = mismatch('stored', { size, sha256: record.stored.sha256 }, record.stored);
      if (wrongSize) return new IntegrityError(`object '${record.key}': ${wrongSize}`, { cause: err });
      const left = size - stored.count;
      if (left > FINISH_CHECK_LIMIT) return named;
      const rest =
        left > 0 ? await this.store.get(record.key, { range: { start: stored.count }, ...(signal ? { signal } : {}) }) : [];
      const digest = await stored.complete(rest, left);
      const damage = mismatch('stored', digest, record.stored);
      if (damage)
        return new IntegrityError(`object '${record.key}': ${damage}; first seen as: ${errorMessage(err)}`, { cause: err });
    } catch {
      // the object cannot be checked now: the original failure is all there is to say
    }
    return named;
  }

  /**
   * Finds out ahead of `commit` how it will keep a second writer out (in `auto` mode: a probe of
   * the store, made once). Never fails: a probe that failed is made again by `commit`.
   */
  async prepareCommit(): Promise<void> {
    if (this.conditionalWrites === 'auto') await conditionalWritesWork(this.store).catch(() => {});
  }

  /** Commits a snapshot: writes its manifest last, refusing to replace an existing one. */
  async commit(manifest: Manifest): Promise<{ atomic: boolean }> {
    try {
      return await createObject(
        this.store,
        `snapshots/${manifest.id}/${MANIFEST}`,
        serializeManifest(manifest),
        this.conditionalWrites,
      );
    } catch (err) {
      if (err instanceof ConflictError) throw new ConflictError(`snapshot '${manifest.id}': already committed`);
      throw err;
    }
  }

  async manifest(id: string): Promise<Manifest> {
    // ids reach object keys: anything else (`../x`, `/etc`) is refused before the store sees it
    if (!isSnapshotId(id)) throw new UsageError(`'${id}': not a snapshot id`);
    try {
      return parseManifest(await getBuffer(this.store, `snapshots/${id}/${MANIFEST}`), id);
    } catch (err) {
      if (err instanceof NotFoundError) throw new NotFoundError(`snapshot '${id}': not found in ${this.store.location}`);
      throw err;
    }
  }

  /** Ids of committed snapshots, oldest first. */
  async snapshotIds(): Promise<string[]> {
    const ids: string[] = [];
    for await (const o of this.store.list('snapshots/')) {
      const [, id, name] = o.key.split('/');
      if (name === MANIFEST && id && isSnapshotId(id)) ids.push(id);
    }
    return ids.sort();
  }

  /** Resolves `latest` or an id to a committed snapshot's manifest. */
  async resolve(idOrLatest: string): Promise<Manifest> {
    if (idOrLatest !== 'latest') return this.manifest(idOrLatest);
    const ids = await this.snapshotIds();
    const last = ids.at(-1);
    if (!last) throw new NotFoundError(`no snapshots in ${this.store.location}`);
    return this.manifest(last);
  }

  /**
   * Reads every object of a snapshot and checks both checksums; one result per object. `also`
   * adds objects the snapshot depends on without listing them (packs written by earlier snapshots).
   */
  async verify(
    manifest: Manifest,
    options: ReadObjectOptions & { also?: readonly ObjectRecord[] } = {},
  ): Promise<VerifyResult[]> {
    const results: VerifyResult[] = [];
    const records = new Map([...manifest.objects, ...(options.also ?? [])].map((r) => [r.key, r]));
    for (const record of records.values()) {
      try {
        const stream = await this.openObject(record, options);
        for await (const _ of stream) {
          // drain: verification happens as the bytes pass
        }
        results.push({ key: record.key, ok: true });
      } catch (err) {
        results.push({ key: record.key, ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return results;
  }

  /** Aborts leftovers of interrupted snapshot uploads older than `olderThan`. */
  cleanupIncomplete(olderThan: Date): Promise<number> {
    return this.store.cleanupIncomplete('', olderThan);
  }
}

/** Compares the running digests with the record once everything has flowed through. */
class VerifyTail extends Transform {
  constructor(
    private readonly record: ObjectRecord,
    private readonly stored: HashCounter,
    private readonly raw: HashCounter | undefined,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    const problem =
      mismatch('stored', this.stored.digest(), this.record.stored) ??
      (this.record.raw && this.raw ? mismatch('content', this.raw.digest(), this.record.raw) : undefined);
    if (!problem) {
      cb();
      return;
    }
    const verdict = new IntegrityError(`object '${this.record.key}': ${problem}`);
    verdicts.add(verdict);
    cb(verdict);
  }
}

/** The verdicts of a completed check: nothing is left to find out about these failures. */
const verdicts = new WeakSet<Error>();

function mismatch(what: 'stored' | 'content', actual: Digest, expected: Digest): string | undefined {
  const of = what === 'content' ? 'content ' : '';
  if (actual.size < expected.size) return `${of}shorter than its manifest size (${actual.size} < ${expected.size} bytes)`;
  if (actual.size > expected.size) return `${of}longer than its manifest size (${actual.size} > ${expected.size} bytes)`;
  if (actual.sha256 !== expected.sha256)
    return `${of}sha256 mismatch (${actual.sha256.slice(0, 12)}…, the manifest says ${expected.sha256.slice(0, 12)}…)`;
  return undefined;
}

function asIntegrity(err: unknown, record: ObjectRecord): Error {
  if (err instanceof IntegrityError && err.message.includes(record.key)) return err;
  if (err instanceof IntegrityError) return new IntegrityError(`object '${record.key}': ${err.message}`, { cause: err });
  return err as Error;
}
