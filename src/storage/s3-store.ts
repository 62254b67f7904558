import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { PassThrough, Readable, Transform, type TransformCallback } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  AbortedError,
  ConflictError,
  LifeboatError,
  NotFoundError,
  OutOfRangeError,
  PermanentError,
  RetryableError,
  UnsupportedError,
} from '../lib/errors.js';
import {
  checkKey,
  type DeleteResult,
  type GetOptions,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type PutResult,
} from './object-store.js';

export interface S3StoreOptions {
  readonly bucket: string;
  /** e.g. `http://127.0.0.1:7480`; omit for AWS */
  readonly endpoint?: string;
  readonly region?: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly forcePathStyle?: boolean;
  /** parts uploaded in parallel per object (memory: queueSize × partSize) */
  readonly queueSize?: number;
  /** smallest multipart part size in bytes (default 8 MiB) */
  readonly minPartSize?: number;
  /**
   * a request whose connection stays silent this long fails (and the SDK retries it); default
   * 120 s. A server that takes a request and never answers must not hang a snapshot. A download's
   * body left unread this long fails too.
   */
  readonly idleTimeoutMs?: number;
}

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;
const MAX_PART_SIZE = 5 * 1024 * MiB;
/** When a stream's size is unknown, assume up to this much (×1.25 headroom inside partSizeFor). */
const DEFAULT_SIZE_HINT = 100 * 1024 * MiB;

/**
 * Part size for a streamed object of about `sizeHint` bytes: at least `min`, whole MiB, and large
 * enough that 10 000 parts hold the hint with 25 % headroom.
 */
export function partSizeFor(sizeHint: number, min = 8 * MiB): number {
  const needed = Math.ceil((sizeHint * 1.25) / MAX_PARTS / MiB) * MiB;
  return Math.min(MAX_PART_SIZE, Math.max(min, needed));
}

/**
 * S3-compatible object store (AWS, Ceph RGW, MinIO, …). The only module that imports the AWS SDK.
 * Integrity is ours (sha256 in the manifest): the SDK's optional checksums are off because
 * S3-compatible servers handle them inconsistently.
 */
export class S3Store implements ObjectStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly queueSize: number;
  private readonly minPartSize: number;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.location = `s3://${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ''}`;
    this.queueSize = options.queueSize ?? 4;
    this.minPartSize = options.minPartSize ?? 8 * MiB;
    const idle = options.idleTimeoutMs ?? 120_000;
    if (!Number.isFinite(idle) || idle <= 0)
      throw new PermanentError(`s3 store: idleTimeoutMs must be a positive number of milliseconds, got ${idle}`);
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
        connectionTimeout: 10_000,
        // an idle limit, not a total one (`requestTimeout` now only bounds the whole exchange, and
        // only warns): a large object may stream for hours, but never sit silent
        socketTimeout: idle,
      },
    });
    // Strict servers (Ceph RGW) require Content-MD5 on DeleteObjects; SDK v3 no longer sends it.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers?: Record<string, string>; body?: unknown };
        if (context.commandName === 'DeleteObjectsCommand' && request.headers && typeof request.body === 'string') {
          request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
        }
        return next(args);
      },
      { step: 'build', name: 'lifeboatDeleteObjectsContentMd5' },
    );
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<PutResult> {
    checkKey(key);
    try {
      if (Buffer.isBuffer(body)) return await this.putBuffer(key, body, options.signal, false);
      return await this.putStream(key, body, options);
    } catch (err) {
      throw classify(err, `put '${key}'`);
    }
  }

  /** `If-None-Match: *` on a single PutObject; servers without conditional writes answer 501. */
  async putIfAbsent(key: string, body: Buffer, options: { signal?: AbortSignal } = {}): Promise<PutResult> {
    checkKey(key);
    try {
      return await this.putBuffer(key, body, options.signal, true);
    } catch (err) {
      const what = `put '${key}'`;
      const e = classify(err, what);
      if (!(e instanceof UnsupportedError)) throw e;
      const detail = e.message.slice(what.length + 2);
      throw new UnsupportedError(`${what}: the object store does not support conditional writes (${detail})`, { cause: err });
    }
  }

  private async putBuffer(key: string, body: Buffer, signal: AbortSignal | undefined, ifNoneMatch: boolean): Promise<PutResult> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentMD5: createHash('md5').update(body).digest('base64'),
        ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    return { size: body.length };
  }

  private async putStream(key: string, body: Readable, options: PutOptions): Promise<PutResult> {
    const partSize = partSizeFor(options.sizeHint ?? DEFAULT_SIZE_HINT, this.minPartSize);
    const limit = partSize * MAX_PARTS;
    let size = 0;
    // Counts bytes and refuses to go past what 10 000 parts can hold, so an underestimated
    // size hint fails loudly instead of at CompleteMultipartUpload.
    const counter = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
        size += chunk.length;
        if (size > limit) {
          cb(
            new PermanentError(
              `object '${key}': larger than ${limit} bytes (10000 parts of ${partSize / MiB} MiB); raise the size hint`,
            ),
          );
        } else cb(null, chunk);
      },
    });
    body.on('error', (err) => counter.destroy(err));
    body.pipe(counter);
    // Aborting destroys the source: the uploader then fails and aborts the multipart upload
    // before rejecting, so no dangling upload is left (upload.abort() would not wait for that).
    const onAbort = (): void => {
      counter.destroy(new AbortedError(`put '${key}': aborted`));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    try {
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: counter },
        partSize,
        queueSize: options.partsInFlight ?? this.queueSize,
        leavePartsOnError: false,
      });
      await upload.done();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return { size };
  }

  async get(key: string, options: GetOptions = {}): Promise<Readable> {
    checkKey(key);
    const range = options.range;
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      if (!(out.Body instanceof Readable)) throw new PermanentError(`object '${key}': response has no body stream`);
      return classifiedBody(out.Body, `object '${key}'`);
    } catch (err) {
      throw classify(err, `object '${key}'`);
    }
  }

  async head(key: string): Promise<ObjectInfo> {
    checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
    } catch (err) {
      throw classify(err, `object '${key}'`);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let page: Awaited<ReturnType<typeof this.listPage>>;
      try {
        page = await this.listPage(prefix, token);
      } catch (err) {
        throw classify(err, `list '${prefix}'`);
      }
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private listPage(prefix: string, token: string | undefined) {
    return this.client.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
    );
  }

  async delete(keys: readonly string[]): Promise<DeleteResult[]> {
    const results: DeleteResult[] = [];
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const out = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        const failed = new Map((out.Errors ?? []).map((e) => [e.Key ?? '', e]));
        for (const key of batch) {
          const e = failed.get(key);
          results.push(
            e && e.Code !== 'NoSuchKey'
              ? { key, error: new PermanentError(`delete '${key}': ${e.Code ?? 'error'} ${e.Message ?? ''}`.trim()) }
              : { key },
          );
        }
      } catch (err) {
        const error = classify(err, 'delete');
        for (const key of batch) results.push({ key, error });
      }
    }
    return results;
  }

  async cleanupIncomplete(prefix: string, olderThan: Date): Promise<number> {
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
          }),
        );
        for (const u of page.Uploads ?? []) {
          if (u.Key && u.UploadId && (u.Initiated ?? new Date(0)) < olderThan) {
            await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }));
            removed++;
          }
        }
        if (!page.IsTruncated) return removed;
        keyMarker = page.NextKeyMarker;
        uploadIdMarker = page.NextUploadIdMarker;
      }
    } catch (err) {
      throw classify(err, `cleanup '${prefix}'`);
    }
  }

  /** Releases sockets; the store is unusable afterwards. */
  destroy(): void {
    this.client.destroy();
  }
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const AUTH = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'InvalidToken', 'ExpiredToken']);
const RETRYABLE_NET = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * A response body whose stream errors are classified as the request's are (a connection that
 * drops or stays silent part-way is retryable); destroying it releases the connection.
 */
function classifiedBody(body: Readable, what: string): Readable {
  const out = new PassThrough({ highWaterMark: body.readableHighWaterMark });
  body.on('data', (chunk: Buffer) => {
    if (!out.write(chunk)) body.pause();
  });
  out.on('drain', () => body.resume());
  body.on('end', () => out.end());
  body.on('error', (err) => out.destroy(classify(err, what)));
  out.on('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  return out;
}

/** Maps SDK and network errors onto our taxonomy; never leaks SDK types. */
function classify(err: unknown, what: string): Error {
  if (err instanceof LifeboatError) return err;
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  const detail = `${name}${status ? ` (HTTP ${status})` : ''}${e.message && e.message !== name ? `: ${e.message}` : ''}`;
  if (name === 'AbortError') return new AbortedError(`${what}: aborted`, { cause: err });
  if (name === 'NoSuchBucket') return new PermanentError(`${what}: bucket does not exist`, { cause: err });
  if (NOT_FOUND.has(name) || status === 404) return new NotFoundError(`${what}: not found`, { cause: err });
  if (AUTH.has(name) || status === 403) {
    return new PermanentError(`${what}: access denied by the object store (${detail}); check the access key and secret`, {
      cause: err,
    });
  }
  if (name === 'PreconditionFailed' || status === 412) return new ConflictError(`${what}: already exists`, { cause: err });
  // a feature the server lacks, not a fault: repeating the request cannot help
  if (name === 'NotImplemented' || status === 501) return new UnsupportedError(`${what}: ${detail}`, { cause: err });
  if (name === 'InvalidRange' || status === 416) {
    return new OutOfRangeError(`${what}: range starts past the end of the object (${detail})`, { cause: err });
  }
  if ((status !== undefined && (status >= 500 || status === 429)) || RETRYABLE_NET.has(name) || RETRYABLE_NET.has(e.code ?? '')) {
    return new RetryableError(`${what}: ${detail}`, { cause: err });
  }
  return new PermanentError(`${what}: ${detail}`, { cause: err });
}
