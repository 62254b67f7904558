import { setTimeout as sleep } from 'node:timers/promises';
import { type Lease, type SlotBook, withLease } from '../src/coord/index.js';
import { isSyncedPrimary, type SqlClient, wsrepStatus } from '../src/galera/index.js';
import { errorMessage } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import type { Repository } from '../src/repo/repository.js';
import { snapshotTime } from '../src/repo/snapshot-id.js';

export interface SlotOptions {
  /** the slot id: the scheduled time, e.g. `2026-11-26T06:00:00Z` */
  readonly slot: string;
  readonly node: string;
  readonly lease: Lease;
  readonly book: SlotBook;
  readonly sql: SqlClient;
  /** extra evidence that the slot's work exists (e.g. a committed manifest naming the slot) */
  readonly alreadyDone?: (slot: string) => Promise<boolean>;
  /** this node's place in the preferred order (0 = most preferred); others wait longer */
  readonly rank: number;
  readonly staggerMs: number;
  /** give up on the slot after this long (the next slot takes over) */
  readonly windowMs: number;
  /** failed attempts (on any node) before the slot is abandoned */
  readonly maxAttempts?: number;
  readonly pollMs?: number;
  /** does the work; must call `beforeCommit` right before making its result visible */
  readonly take: (ctx: { slot: string; beforeCommit: () => Promise<void>; signal: AbortSignal }) => Promise<{ id: string }>;
  readonly logger?: Logger;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

export type SlotOutcome =
  | { readonly outcome: 'taken'; readonly id: string; readonly token: number }
  | { readonly outcome: 'done-elsewhere' }
  | { readonly outcome: 'abandoned'; readonly reason: string };

/**
 * Makes sure one scheduled slot of a job runs exactly once across the cluster's daemons. Every
 * daemon calls this for the slot; the most preferred healthy node takes the lease first (others
 * wait `rank × stagger`), works while renewing it, and commits only while it still holds it. If
 * the holder dies, its lease expires and another daemon takes the slot over. A slot counts as
 * done when the slot book says so or `alreadyDone` finds its result.
 */
export async function runClusterSlot(options: SlotOptions): Promise<SlotOutcome> {
  const logger = (options.logger ?? nullLogger).child({ slot: options.slot, node: options.node });
  const now = options.now ?? (() => new Date());
  const deadline = now().getTime() + options.windowMs;
  const pollMs = options.pollMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 3;
  await pause(options.rank * options.staggerMs, options.signal);
  while (now().getTime() < deadline) {
    if (await slotDone(options)) return { outcome: 'done-elsewhere' };
    const booked = await options.book.get(options.slot);
    if (booked?.state === 'failed' && booked.attempts >= maxAttempts) {
      return { outcome: 'abandoned', reason: `failed ${booked.attempts} times, last: ${booked.result ?? 'unknown'}` };
    }
    if (isSyncedPrimary(await wsrepStatus(options.sql))) {
      const held = await withLease(
        options.lease,
        options.slot,
        (signal, beforeCommit, token) => work(options, token, logger, signal, beforeCommit),
        { signal: options.signal, logger },
      );
      if (held.acquired && held.value) return held.value;
    }
    await pause(pollMs, options.signal);
  }
  return { outcome: 'abandoned', reason: 'slot window passed' };
}

/** Holding the lease: re-check, run, book the result. Undefined = try again. */
async function work(
  options: SlotOptions,
  token: number,
  logger: Logger,
  signal: AbortSignal,
  beforeCommit: () => Promise<void>,
): Promise<SlotOutcome | undefined> {
  const { book, slot } = options;
  if (await slotDone(options)) return { outcome: 'done-elsewhere' };
  await book.start(slot, options.node, token);
  logger.info('slot taken', { token });
  try {
    const { id } = await options.take({ slot, beforeCommit, signal });
    await book.finish(slot, token, 'done', id);
    logger.info('slot done', { id, token });
    return { outcome: 'taken', id, token };
  } catch (err) {
    await book.finish(slot, token, 'failed', errorMessage(err)).catch(() => {});
    logger.error('slot attempt failed', { token, error: errorMessage(err) });
    if (options.signal?.aborted) throw err;
    return undefined;
  }
}

async function slotDone(options: SlotOptions): Promise<boolean> {
  if ((await options.book.get(options.slot))?.state === 'done') return true;
  return (await options.alreadyDone?.(options.slot)) ?? false;
}

/** True when a committed snapshot at or after the slot's time names the slot in its manifest. */
export async function snapshotExistsForSlot(repo: Repository, slot: string): Promise<boolean> {
  const since = new Date(slot).getTime() - 60_000;
  for (const id of (await repo.snapshotIds()).reverse()) {
    if (snapshotTime(id).getTime() < since) break;
    if ((await repo.manifest(id)).slot === slot) return true;
  }
  return false;
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return;
  await sleep(ms, undefined, signal ? { signal } : {});
}
