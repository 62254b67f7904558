import { LifeboatError } from '../lib/errors.js';

/** Documented exit codes of the `lifeboat` command. */
export const EXIT = {
  ok: 0,
  /** the operation ran and failed (or found problems, e.g. verify) */
  failed: 1,
  /** bad flags, arguments or configuration: nothing was done */
  usage: 2,
  /** stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it) */
  interrupted: 130,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof LifeboatError && (err.code === 'usage' || err.code === 'config')) return EXIT.usage;
  if (err instanceof LifeboatError && err.code === 'aborted') return EXIT.interrupted;
  return EXIT.failed;
}
