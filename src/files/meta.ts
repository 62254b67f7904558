import { UsageError } from '../lib/errors.js';
import { nsFromIso } from '../lib/time.js';
import type { AreaSpec } from './types.js';

const NS_PER_S = 1_000_000_000n;

/**
 * The seconds to give Node's `utimes`/`lutimes` so that the time set is `iso` to the microsecond.
 * libuv truncates those seconds (a double) towards zero to whole microseconds, so the nearest
 * double to the exact time sometimes lands 1 µs short; the middle of the microsecond's window
 * never does (a double's rounding error here is under 0.5 µs until the year 2242). The digits
 * below the microsecond cannot be set through Node and are dropped.
 */
export function utimesSeconds(iso: string): number {
  const ns = nsFromIso(iso);
  const micro = ns >= 0n ? ns / 1000n : (ns - 999n) / 1000n; // floor
  const mid = micro * 1000n + (ns >= 0n ? 500n : -500n);
  const seconds = mid / NS_PER_S; // towards zero, like libuv
  return Number(seconds) + Number(mid - seconds * NS_PER_S) / 1e9;
}

/** Permission bits of `st_mode` as four octal digits. */
export function modeString(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export function modeBits(mode: string): number {
  if (!/^[0-7]{1,4}$/.test(mode)) throw new TypeError(`mode '${mode}': expected octal permission bits`);
  return Number.parseInt(mode, 8);
}

/** True for a `/`-separated relative path without empty, `.` or `..` segments. */
export function isSafeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && path.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

/** `pub/media` → `pub-media`: the area's part of its file list key. */
export function areaSlug(name: string): string {
  return name.replaceAll('/', '-');
}

export function fileListKey(snapshotId: string, area: string): string {
  return `snapshots/${snapshotId}/files-${areaSlug(area)}.jsonl.zst`;
}

/** Checks a set of areas all at once; throws a UsageError listing every problem. */
export function validateAreas(areas: readonly AreaSpec[]): void {
  const problems: string[] = [];
  const slugs = new Map<string, string>();
  if (areas.length === 0) problems.push('no areas given');
  for (const area of areas) {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(area.name) || !isSafeRelative(area.name))
      problems.push(`area '${area.name}': name must be a relative path of letters, digits, '.', '_' or '-'`);
    if (!isSafeRelative(area.path.replace(/\/+$/, '')) && area.path !== '.')
      problems.push(`area '${area.name}': path '${area.path}' must be relative to the root, without '..'`);
    const slug = areaSlug(area.name);
    const other = slugs.get(slug);
    if (other !== undefined) problems.push(`area '${area.name}': its file list name collides with area '${other}'`);
    slugs.set(slug, area.name);
    for (const glob of [...(area.include ?? []), ...(area.exclude ?? [])]) {
      if (glob === '' || glob.startsWith('/')) problems.push(`area '${area.name}': glob '${glob}' must be relative to the area`);
    }
  }
  if (problems.length > 0) throw new UsageError(`file areas: ${problems.join('; ')}`);
}
