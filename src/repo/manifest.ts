import { IntegrityError } from '../lib/errors.js';
import { sha256Hex } from '../lib/hashing.js';

export const MANIFEST_FORMAT = 'lifeboat-manifest/1';

/** Size and sha256 of a byte sequence. */
export interface Checksum {
  readonly size: number;
  readonly sha256: string;
}

/** One object of a snapshot, with checksums of what is stored and of the content it holds. */
export interface ObjectRecord {
  /** key relative to the cluster folder, e.g. `snapshots/<id>/db.xbstream.zst` */
  readonly key: string;
  /** what the content is once decompressed: `xbstream`, `sql`, `json`, `tar` */
  readonly format: string;
  /** `zstd` or `none` */
  readonly compression: 'zstd' | 'none';
  readonly stored: Checksum;
  /**
   * the decompressed content's checksum; absent when the content never passed through Lifeboat
   * (a physical database archive goes from mariadb-backup straight into zstd): zstd's content
   * checksum in every frame, which every decoder checks, then proves the content
   */
  readonly raw?: Checksum;
}

export interface GaleraPosition {
  /** cluster state uuid */
  readonly uuid: string;
  /** last committed seqno captured by the snapshot */
  readonly seqno: number;
}

export interface DatabasePart {
  readonly method: 'physical' | 'logical';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly object: string;
  /** null when the method cannot know it (logical dumps) */
  readonly galera: GaleraPosition | null;
  readonly gtid: string | null;
  readonly binlog: { readonly file: string; readonly position: number } | null;
  readonly serverVersion: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly id: string;
  readonly cluster: string;
  /** node the snapshot was taken on */
  readonly node: string;
  readonly tool: { readonly name: 'lifeboat'; readonly version: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  /** the schedule slot this snapshot fulfils (e.g. `2026-11-26T06:00:00Z`), absent for on-demand runs */
  readonly slot?: string;
  readonly parts: {
    readonly database?: DatabasePart;
    readonly files?: unknown;
  };
  readonly objects: readonly ObjectRecord[];
}

/** Serialized form: the manifest plus a sha256 of its canonical JSON without that field. */
export function serializeManifest(manifest: Manifest): Buffer {
  const body = canonical(manifest);
  return Buffer.from(`${JSON.stringify({ ...JSON.parse(body), checksum: sha256Hex(body) }, null, 2)}\n`);
}

/** Parses and checks a stored manifest; any damage is an IntegrityError naming the snapshot. */
export function parseManifest(data: Buffer, id: string): Manifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new IntegrityError(`snapshot '${id}': manifest is not valid JSON`);
  }
  const { checksum, ...rest } = value;
  if (typeof checksum !== 'string' || sha256Hex(canonical(rest)) !== checksum) {
    throw new IntegrityError(`snapshot '${id}': manifest checksum mismatch`);
  }
  if (rest.format !== MANIFEST_FORMAT)
    throw new IntegrityError(`snapshot '${id}': unknown manifest format '${String(rest.format)}'`);
  if (rest.id !== id) throw new IntegrityError(`snapshot '${id}': manifest names snapshot '${String(rest.id)}'`);
  if (!Array.isArray(rest.objects)) throw new IntegrityError(`snapshot '${id}': manifest has no object list`);
  return rest as unknown as Manifest;
}

/** JSON with object keys sorted at every level, so the checksum does not depend on key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
