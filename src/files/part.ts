import { IntegrityError } from '../lib/errors.js';
import { FILES_FORMAT, type FilesPart } from './types.js';

/**
 * The files part of a manifest, checked for the fields readers rely on; undefined when the
 * snapshot has none. A malformed part is an IntegrityError naming the snapshot.
 */
export function filesPartOf(manifest: {
  readonly id: string;
  readonly parts: { readonly files?: unknown };
}): FilesPart | undefined {
  const part = manifest.parts.files as Partial<FilesPart> | undefined;
  if (part === undefined || part === null) return undefined;
  const bad = (why: string): IntegrityError => new IntegrityError(`snapshot '${manifest.id}': files part ${why}`);
  if (part.format !== FILES_FORMAT) throw bad(`has unknown format '${String(part.format)}'`);
  if (!Array.isArray(part.areas) || !Array.isArray(part.packs)) throw bad('lacks areas or packs');
  for (const area of part.areas) {
    if (typeof area?.name !== 'string' || typeof area.list !== 'string') throw bad('has an area without name or list');
  }
  for (const pack of part.packs) {
    if (typeof pack?.key !== 'string' || typeof pack.stored?.sha256 !== 'string') throw bad('has a malformed pack record');
  }
  return part as FilesPart;
}
