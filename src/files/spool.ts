import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** A temporary directory for copies of large files while they are read. */
export class Spool {
  private readonly removals: Promise<void>[] = [];

  private constructor(readonly dir: string) {}

  static async create(tmpDir: string): Promise<Spool> {
    return new Spool(await mkdtemp(join(tmpDir, 'lifeboat-files-')));
  }

  /** Removes a copy no longer needed (undefined: none); whatever is left goes with the directory. */
  discard(file: string | undefined): void {
    if (file !== undefined) this.removals.push(rm(file, { force: true }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.removals); // the directory's removal below reports what is left
    await rm(this.dir, { recursive: true, force: true });
  }
}
