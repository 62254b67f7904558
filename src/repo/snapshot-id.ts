import { randomBytes } from 'node:crypto';

const ID = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})Z-([0-9a-f]{6})$/;

/** A snapshot id sorts by time: `2026-11-26T06-00-00Z-3fa9c1`. */
export function newSnapshotId(now: Date = new Date(), suffix: string = randomBytes(3).toString('hex')): string {
  const iso = now.toISOString().slice(0, 19).replaceAll(':', '-');
  return `${iso}Z-${suffix}`;
}

export function isSnapshotId(id: string): boolean {
  return ID.test(id);
}

/** Why `value` cannot name a snapshot (an id or `latest`), or undefined when it can. */
export function snapshotRefProblem(value: string): string | undefined {
  return value === 'latest' || isSnapshotId(value)
    ? undefined
    : 'not a snapshot id (expected "latest" or an id such as 2026-11-26T06-00-00Z-3fa9c1)';
}

/** The time encoded in a snapshot id. */
export function snapshotTime(id: string): Date {
  const m = ID.exec(id);
  if (!m) throw new TypeError(`snapshot id '${id}': expected YYYY-MM-DDTHH-MM-SSZ-xxxxxx`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}
