import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digest {
  /** bytes seen */
  readonly size: number;
  /** lowercase hex sha256 of the bytes seen */
  readonly sha256: string;
}

/** A pass-through that hashes and counts what flows through it. `digest()` is valid after end. */
export class HashCounter extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.result = { size: this.bytes, sha256: this.hash.digest('hex') };
    cb();
  }

  /** Bytes seen so far (valid at any time). */
  get count(): number {
    return this.bytes;
  }

  /**
   * The digest of the bytes seen followed by `rest`, for a stream that stopped before its end: at
   * most `limit` bytes of `rest` are read (the size shows when it had more). The counter itself
   * is left as it was; after the stream's end its own digest is returned.
   */
  async complete(rest: AsyncIterable<Buffer> | Iterable<Buffer>, limit: number): Promise<Digest> {
    if (this.result) return this.result;
    const hash = this.hash.copy();
    let more = 0;
    for await (const chunk of rest) {
      hash.update(chunk);
      more += chunk.length;
      if (more > limit) break;
    }
    return { size: this.bytes + more, sha256: hash.digest('hex') };
  }

  digest(): Digest {
    if (!this.result) throw new Error('hash counter: digest requested before end of stream');
    return this.result;
  }
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
