import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError } from '../src/lib/errors.js';

/**
 * Makes `dir` an empty directory to restore into. A non-empty directory is refused unless
 * `force`, in which case its contents are removed.
 */
export async function prepareTarget(dir: string, force: boolean): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (entries.length > 0) {
    if (!force)
      throw new ConflictError(`target '${dir}': not empty (${entries.length} entries); use --force to replace its contents`);
    await Promise.all(entries.map((e) => rm(join(dir, e), { recursive: true, force: true })));
  }
  await mkdir(dir, { recursive: true });
}
