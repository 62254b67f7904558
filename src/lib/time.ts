import { RetryableError } from './errors.js';

const NS_PER_S = 1_000_000_000n;

/** Nanoseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` (exact, sortable, `touch -d` reads it). */
export function isoFromNs(ns: bigint): string {
  return new IsoFormatter().format(ns);
}

const ISO_NS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/;

/** Nanoseconds since the epoch of a time written by `isoFromNs`. */
export function nsFromIso(iso: string): bigint {
  const m = ISO_NS.exec(iso);
  if (!m?.[1]) throw new TypeError(`time '${iso}': expected YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`);
  return BigInt(Date.parse(`${m[1]}Z`) / 1000) * NS_PER_S + BigInt((m[2] ?? '0').padEnd(9, '0'));
}

/**
 * isoFromNs for one walk: keeps the last two whole seconds it formatted, the most recent first. A
 * walk formats each entry's mtime and ctime, which cluster in few seconds, and formatting a Date
 * is most of the cost (measured: a 22 000-file incremental snapshot spent ~60 ms in isoFromNs).
 */
export class IsoFormatter {
  private recent: [[number, string], [number, string]] = [
    [Number.NaN, ''],
    [Number.NaN, ''],
  ];

  format(ns: bigint): string {
    let seconds = ns / NS_PER_S;
    let frac = ns % NS_PER_S;
    if (frac < 0n) {
      frac += NS_PER_S;
      seconds -= 1n;
    }
    return `${this.second(Number(seconds))}.${frac.toString().padStart(9, '0')}Z`;
  }

  private second(second: number): string {
    const [first, other] = this.recent;
    if (first[0] === second) return first[1];
    if (other[0] !== second) {
      other[0] = second;
      other[1] = new Date(second * 1000).toISOString().slice(0, 19);
    }
    this.recent = [other, first];
    return other[1];
  }
}

/** `work`, or a RetryableError once `ms` have passed first (`work` itself is not stopped: give it its own deadline where it can take one). */
export async function withDeadline<T>(work: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RetryableError(`${what}: no answer within ${ms / 1000} s`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
