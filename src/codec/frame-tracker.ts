/**
 * Walks the framing of a zstd stream (frame headers, block headers, checksums, skippable frames)
 * without decoding it, to tell whether the input ended exactly at a frame boundary. Used where a
 * decoder cannot report truncation itself (zstd-codec).
 */
export class FrameTracker {
  private state: 'magic' | 'fhd' | 'header' | 'block' | 'skip' | 'checksum' | 'skippable-size' = 'magic';
  private pending: number[] = [];
  private want = 4;
  private skip = 0;
  private checksum = false;
  private lastBlock = false;
  private frames = 0;

  /** Consumes bytes; throws when they cannot be zstd framing. */
  feed(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'skip') {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.afterSkip();
        continue;
      }
      this.pending.push(chunk[i++] ?? 0);
      if (this.pending.length === this.want) this.field(this.pending);
    }
  }

  /** True when at least one frame was read and the input stopped between frames. */
  complete(): boolean {
    return this.frames > 0 && this.state === 'magic' && this.pending.length === 0;
  }

  private next(state: FrameTracker['state'], want: number): void {
    this.state = state;
    this.want = want;
    this.pending = [];
  }

  private field(b: number[]): void {
    const le = (n: number): number => b.slice(0, n).reduce((v, byte, k) => v + byte * 2 ** (8 * k), 0);
    switch (this.state) {
      case 'magic': {
        const magic = le(4);
        if (magic === 0xfd2fb528) this.next('fhd', 1);
        else if (magic >>> 4 === 0x184d2a5) this.next('skippable-size', 4);
        else throw new Error('not a zstd frame (bad magic number)');
        return;
      }
      case 'skippable-size':
        this.lastBlock = false;
        this.checksum = false;
        this.toSkip(le(4), true);
        return;
      case 'fhd': {
        const fhd = b[0] ?? 0;
        const singleSegment = (fhd >> 5) & 1;
        const fcs = [singleSegment ? 1 : 0, 2, 4, 8][fhd >> 6] ?? 0;
        const dict = [0, 1, 2, 4][fhd & 3] ?? 0;
        this.checksum = ((fhd >> 2) & 1) === 1;
        const rest = (singleSegment ? 0 : 1) + dict + fcs;
        if (rest === 0) this.next('block', 3);
        else this.next('header', rest);
        return;
      }
      case 'header':
        this.next('block', 3);
        return;
      case 'block': {
        const h = le(3);
        this.lastBlock = (h & 1) === 1;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw new Error('corrupt zstd block header (reserved block type)');
        this.toSkip(type === 1 ? 1 : size, false);
        return;
      }
      case 'checksum':
        this.endFrame();
        return;
      default:
        return;
    }
  }

  private skippable = false;

  private toSkip(n: number, skippable: boolean): void {
    this.skippable = skippable;
    this.skip = n;
    this.next('skip', 0);
    if (n === 0) this.afterSkip();
  }

  private afterSkip(): void {
    if (this.skippable || !this.lastBlock) {
      if (this.skippable) this.endFrame();
      else this.next('block', 3);
    } else if (this.checksum) this.next('checksum', 4);
    else this.endFrame();
  }

  private endFrame(): void {
    this.frames++;
    this.next('magic', 4);
  }
}
