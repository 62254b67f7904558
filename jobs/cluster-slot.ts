import { setTimeout as sleep } from 'node:timers/promises';
import type { Lease, SlotBook, SqlClient } from '../src/galera/index.js';
import { isSyncedPrimary, wsrepStatus } from '../src/galera/index.js';
import { AbortedError, errorMessage } from '../src/lib/errors.js';
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
    const healthy = isSyncedPrimary(await wsrepStatus(options.sql));
    const token = healthy ? await options.lease.tryAcquire(options.slot) : null;
    if (token !== null) {
      const outcome = await work(options, token, logger);
      if (outcome) return outcome;
    }
    await pause(pollMs, options.signal);
  }
  return { outcome: 'abandoned', reason: 'slot window passed' };
}

/** Holding the lease: re-check, run with heartbeats, book the result. Undefined = try again. */
async function work(options: SlotOptions, token: number, logger: Logger): Promise<SlotOutcome | undefined> {
  const { lease, book, slot } = options;
  try {
    if (await slotDone(options)) return { outcome: 'done-elsewhere' };
    await book.start(slot, options.node, token);
    logger.info('slot taken', { token });
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Heartbeat: renew at a third of the TTL; a lost lease stops the work before it commits.
    const heartbeat = setInterval(
      () => {
        lease.renew(token).then(
          (ok) => {
            if (!ok) controller.abort(new AbortedError(`lease '${lease.name}': lost while working on slot ${slot}`));
          },
          () => {},
        );
      },
      Math.max(500, (lease.ttlSeconds * 1000) / 3),
    );
    try {
      const { id } = await options.take({ slot, beforeCommit: () => lease.confirm(token), signal: controller.signal });
      await book.finish(slot, token, 'done', id);
      logger.info('slot done', { id, token });
      return { outcome: 'taken', id, token };
    } catch (err) {
      await book.finish(slot, token, 'failed', errorMessage(err)).catch(() => {});
      logger.error('slot attempt failed', { token, error: errorMessage(err) });
      if (options.signal?.aborted) throw err;
      return undefined;
    } finally {
      clearInterval(heartbeat);
      options.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    await lease.release(token).catch(() => {});
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
