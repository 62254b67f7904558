/**
 * A pool of bytes shared by concurrent readers, so that the memory held by file contents in
 * flight stays bounded whatever the files' sizes. Requests are served in order; one larger than
 * the whole pool waits until the pool is free, then takes all of it.
 */
export class ByteBudget {
  private free: number;
  private readonly waiting: { readonly bytes: number; readonly grant: () => void }[] = [];

  constructor(private readonly total: number) {
    if (!Number.isSafeInteger(total) || total < 1) throw new RangeError(`byte budget: expected a positive size, got ${total}`);
    this.free = total;
  }

  /** Resolves once `bytes` are reserved; call the returned function (once) to give them back. */
  async acquire(bytes: number): Promise<() => void> {
    const take = Math.max(0, Math.min(bytes, this.total));
    if (this.waiting.length > 0 || this.free < take) {
      await new Promise<void>((grant) => this.waiting.push({ bytes: take, grant }));
    } else this.free -= take;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += take;
      this.serve();
    };
  }

  private serve(): void {
    for (let next = this.waiting[0]; next && this.free >= next.bytes; next = this.waiting[0]) {
      this.waiting.shift();
      this.free -= next.bytes;
      next.grant();
    }
  }
}
