import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, UsageError } from '../src/lib/errors.js';

/** Prefixes of the directories a restore keeps inside its target; a leftover of a killed restore is removed by the next one. */
const STAGING = '.lifeboat-staging-';
const REPLACED = '.lifeboat-replaced-';

/**
 * Where a restore writes until it has succeeded: a hidden directory inside the target (same file
 * system, so a rename moves each entry; a target that is a mount point works too).
 */
export interface StagedTarget {
  /** the directory to restore into; it becomes the target's contents on `commit` */
  readonly dir: string;
  /**
   * Moves what was restored into the target; with `force`, what the target held goes first and
   * is deleted once the new contents are in place. On failure the target is put back as it was.
   */
  commit(): Promise<void>;
  /** Removes everything the restore wrote (and the target itself if it created it). */
  discard(): Promise<void>;
}

/**
 * Runs `restore` into a staging directory of `target` and moves the result into place only when
 * it succeeds: a failed or aborted restore leaves the target as it was (absent, empty, or — with
 * `force` — with its old contents). A non-empty target is refused unless `force`; a target that
 * is not a directory is a UsageError naming it.
 */
export async function restoreInto<T>(target: string, force: boolean, restore: (dir: string) => Promise<T>): Promise<T> {
  const staged = await stageTarget(target, force);
  let result: T;
  try {
    result = await restore(staged.dir);
  } catch (err) {
    await staged.discard();
    throw err;
  }
  await staged.commit();
  return result;
}

export async function stageTarget(target: string, force: boolean): Promise<StagedTarget> {
  let created: string | undefined;
  let entries: string[] = [];
  const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw asUsage(target, err);
  });
  if (info && !info.isDirectory()) throw new UsageError(`target '${target}': not a directory`);
  if (info) {
    const names = await readdir(target);
    for (const stale of names.filter((n) => n.startsWith(STAGING) || n.startsWith(REPLACED)))
      await rm(join(target, stale), { recursive: true, force: true });
    entries = names.filter((n) => !n.startsWith(STAGING) && !n.startsWith(REPLACED));
    if (entries.length > 0 && !force)
      throw new ConflictError(`target '${target}': not empty (${entries.length} entries); use --force to replace its contents`);
  } else {
    created = await mkdir(target, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw asUsage(target, err);
    });
  }
  const dir = await mkdtemp(join(target, STAGING));
  const discard = async (): Promise<void> => {
    await rm(created ?? dir, { recursive: true, force: true });
  };
  const commit = async (): Promise<void> => {
    const replaced = entries.length > 0 ? await mkdtemp(join(target, REPLACED)) : undefined;
    const moved: [from: string, to: string][] = [];
    const move = async (from: string, to: string): Promise<void> => {
      await rename(from, to);
      moved.push([from, to]);
    };
    try {
      if (replaced) for (const name of entries) await move(join(target, name), join(replaced, name));
      for (const name of await readdir(dir)) await move(join(dir, name), join(target, name));
    } catch (err) {
      // back as it was: the new entries to the staging directory, the old ones to the target
      for (const [from, to] of moved.reverse()) await rename(to, from).catch(() => {});
      if (replaced) await rmdir(replaced).catch(() => {}); // only when every old entry is back
      await discard();
      throw err;
    }
    await rm(dir, { recursive: true, force: true });
    if (replaced) await rm(replaced, { recursive: true, force: true });
  };
  return { dir, commit, discard };
}

function asUsage(target: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOTDIR' || err.code === 'EEXIST')
    return new UsageError(`target '${target}': a parent of it is not a directory`, { cause: err });
  return err;
}
