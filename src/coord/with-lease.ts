import { AbortedError, ConflictError, errorMessage } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { Lease } from './lease.js';

/** What `withLease` uses of a lease (`Lease` fits). */
export type LeaseHandle = Pick<Lease, 'name' | 'ttlSeconds' | 'tryAcquire' | 'renew' | 'confirm' | 'release'>;

/** A lease on a connection of its own: `close` ends the connection; `heldBy` describes who has it, for a 409. */
export interface OpenLease extends LeaseHandle {
  heldBy(): Promise<string | null>;
  close(): Promise<void>;
}

/**
 * Work done while holding a lease. `signal` aborts when the lease is lost or the caller aborts;
 * `beforeCommit` must be awaited right before the work makes its result visible: it throws a
 * ConflictError unless `token` still holds the lease (fencing).
 */
export type LeaseWork<T> = (signal: AbortSignal, beforeCommit: () => Promise<void>, token: number) => Promise<T>;

export interface WithLeaseOptions {
  readonly signal?: AbortSignal;
  /** between renewals; default a third of the lease's TTL, at least 500 ms */
  readonly heartbeatMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export type Held<T> = { readonly acquired: true; readonly token: number; readonly value: T } | { readonly acquired: false };

/**
 * The one way to work under a cluster lease: acquire it for `name` (the slot or run it is for),
 * renew it while `work` runs, abort `work` as soon as a renewal finds the lease lost (or none has
 * succeeded for a whole TTL, after which it has expired anyway), and release it once `work`
 * settled. Returns `{ acquired: false }` without running `work` while another holder has it.
 * `work`'s error is rethrown; a failed release is logged (the lease then expires by its TTL).
 */
export async function withLease<T>(
  lease: LeaseHandle,
  name: string,
  work: LeaseWork<T>,
  options: WithLeaseOptions = {},
): Promise<Held<T>> {
  options.signal?.throwIfAborted();
  const token = await lease.tryAcquire(name);
  if (token === null) return { acquired: false };
  return { acquired: true, token, value: await holdLease(lease, name, token, work, options) };
}

/**
 * The part of `withLease` after a successful `tryAcquire(name)` returned `token`: renews, aborts
 * `work` when the lease is lost, releases once `work` settled. For callers that must know the
 * lease is theirs before they answer (an API call that says 409 otherwise).
 */
export async function holdLease<T>(
  lease: LeaseHandle,
  name: string,
  token: number,
  work: LeaseWork<T>,
  options: WithLeaseOptions = {},
): Promise<T> {
  const logger = options.logger ?? nullLogger;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const heartbeat = startHeartbeat(lease, name, token, controller, options);
  try {
    return await work(controller.signal, () => lease.confirm(token), token);
  } finally {
    heartbeat.stop();
    options.signal?.removeEventListener('abort', onAbort);
    await lease.release(token).catch((err: unknown) => {
      logger.warn(`lease '${lease.name}': release failed, it expires by itself`, { token, error: errorMessage(err) });
    });
  }
}

/** Renews every `heartbeatMs` (one renewal at a time) until stopped or the lease is lost. */
function startHeartbeat(
  lease: LeaseHandle,
  name: string,
  token: number,
  controller: AbortController,
  options: WithLeaseOptions,
): { stop(): void } {
  const now = options.now ?? Date.now;
  const ttlMs = lease.ttlSeconds * 1000;
  const every = options.heartbeatMs ?? Math.max(500, ttlMs / 3);
  let renewed = now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const going = (): boolean => !stopped && !controller.signal.aborted;
  const lost = (why: string): void =>
    controller.abort(new AbortedError(`lease '${lease.name}': ${why} while working on ${name}`));
  const beat = (): void => {
    timer = setTimeout(() => {
      lease.renew(token).then(
        (ok) => {
          if (!going()) return;
          if (!ok) return lost('lost');
          renewed = now();
          beat();
        },
        (err: unknown) => {
          if (!going()) return;
          if (now() - renewed >= ttlMs) return lost(`not renewed for ${lease.ttlSeconds} s (${errorMessage(err)})`);
          beat();
        },
      );
    }, every);
  };
  beat();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** The error for `what` finding `lease` held by another: names the holder when it can be told. */
export async function heldElsewhere(what: string, lease: OpenLease): Promise<ConflictError> {
  const holder = await lease.heldBy().catch(() => null);
  return new ConflictError(`${what}: another run holds the ${lease.name} lease${holder ? ` (${holder})` : ''}`);
}
