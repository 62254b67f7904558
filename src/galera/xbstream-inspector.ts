import { Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from('XBSTCK01');
const MAX_CAPTURE = 64 * 1024;

/**
 * A pass-through over an xbstream archive that captures the contents of a few small files (e.g.
 * `xtrabackup_galera_info`) as they stream by, without buffering anything else. It reads the
 * chunk framing of MariaDB's xbstream: payload (`P`), end-of-file (`E`) and remove (`D`: a file
 * dropped by DDL while the backup ran) chunks. On anything it does not understand it stops
 * inspecting (the bytes still pass) and records why.
 */
export class XbstreamInspector extends Transform {
  readonly files = new Map<string, Buffer>();
  /** why inspection stopped early, if it did */
  stopped: string | undefined;
  private header = Buffer.alloc(0);
  private payloadLeft = 0;
  private capturing: Buffer[] | undefined;
  private capturePath = '';

  constructor(private readonly wanted: (path: string) => boolean) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.stopped === undefined) this.inspect(chunk);
    cb(null, chunk);
  }

  private inspect(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && this.stopped === undefined) {
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - i);
        this.capturing?.push(chunk.subarray(i, i + n));
        this.payloadLeft -= n;
        i += n;
        if (this.payloadLeft === 0) this.endPayload();
        continue;
      }
      // Accumulate header bytes until one full header parses.
      const take = Math.min(chunk.length - i, 4096);
      this.header = Buffer.concat([this.header, chunk.subarray(i, i + take)]);
      i += take;
      const consumed = this.parseHeader();
      if (consumed > 0) {
        const leftover = this.header.length - consumed;
        i -= leftover;
        this.header = Buffer.alloc(0);
      }
    }
  }

  /** Returns bytes of `this.header` used by one complete header, or 0 if more are needed. */
  private parseHeader(): number {
    const h = this.header;
    if (h.length < 14) return 0;
    if (!h.subarray(0, 8).equals(MAGIC)) {
      this.stopped = 'not an xbstream chunk';
      return h.length;
    }
    const type = String.fromCharCode(h[9] ?? 0);
    const pathLen = h.readUInt32LE(10);
    if (pathLen > 4096) {
      this.stopped = 'implausible path length';
      return h.length;
    }
    const pathEnd = 14 + pathLen;
    if (type === 'E' || type === 'D') {
      return h.length < pathEnd ? 0 : pathEnd;
    }
    if (type !== 'P') {
      this.stopped = `unknown chunk type '${type}'`;
      return h.length;
    }
    if (h.length < pathEnd + 20) return 0;
    const path = h.subarray(14, pathEnd).toString('utf8');
    const length = Number(h.readBigUInt64LE(pathEnd));
    this.payloadLeft = length;
    this.capturePath = path;
    this.capturing = this.wanted(path) && length <= MAX_CAPTURE ? [this.files.get(path) ?? Buffer.alloc(0)] : undefined;
    if (length === 0) this.endPayload();
    return pathEnd + 20;
  }

  private endPayload(): void {
    if (this.capturing) this.files.set(this.capturePath, Buffer.concat(this.capturing));
    this.capturing = undefined;
  }
}
