import type { Leftovers } from './leftovers.js';
import type { PackWriter } from './pack-writer.js';
import type { PreviousSnapshot } from './previous.js';
import type { FileContent } from './read-file.js';
import type { Spool } from './spool.js';
import type { ContentLocation } from './types.js';

/** A content blob of a run: stored before, or waiting for its frame to be written. */
export interface Blob {
  location?: ContentLocation;
}

/**
 * A run's content by sha256: content stored already (this run, the previous snapshot, a leftover
 * pack that passes its check) is not stored again; new content goes into the pack writer once.
 */
export class ContentStore {
  /** contents found stored already */
  deduped = 0;
  private readonly blobs = new Map<string, Blob>();

  constructor(
    private readonly packer: PackWriter,
    private readonly spool: Spool,
    private readonly previous: PreviousSnapshot,
    private readonly leftovers: Leftovers,
  ) {}

  /** The blob holding content just read (undefined for no content): one stored already, or a new one packed. */
  async store(content: FileContent): Promise<Blob | undefined> {
    if (content.size === 0) return undefined;
    const known = await this.find(content.sha256);
    if (known) {
      this.deduped++;
      this.spool.discard(content.spool);
      return known;
    }
    const blob: Blob = {};
    this.blobs.set(content.sha256, blob);
    const sink = (location: ContentLocation): void => {
      blob.location = location;
    };
    const packer = this.packer;
    if (content.data) await packer.addBuffer(content.sha256, content.data, sink);
    else if (content.spool) {
      const spool = content.spool;
      await packer.addFile(content.sha256, content.size, spool, sink, () => this.spool.discard(spool));
    }
    return blob;
  }

  private async find(sha256: string): Promise<Blob | undefined> {
    const known = this.blobs.get(sha256) ?? this.note(sha256, this.previous.blobFor(sha256));
    if (known) return known;
    const location = await this.leftovers.locate(sha256);
    // another reader of the same content may have been quicker
    return this.blobs.get(sha256) ?? this.note(sha256, location);
  }

  private note(sha256: string, location: ContentLocation | undefined): Blob | undefined {
    if (!location) return undefined;
    const blob = { location };
    this.blobs.set(sha256, blob);
    return blob;
  }
}
