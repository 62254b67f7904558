import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, UnsupportedError } from '../lib/errors.js';
import { getBuffer, type ObjectStore } from './object-store.js';

/**
 * How a create-only write (a snapshot's manifest) is made:
 * - `on`: one atomic conditional request (`putIfAbsent`); a store without conditional writes fails it;
 * - `off`: a `head` that finds nothing, then a plain `put`: not atomic, two writers racing for one
 *   key could both succeed, the later one replacing the earlier;
 * - `auto`: `on` if a probe shows the store enforces conditional writes, else `off`.
 */
export type ConditionalWrites = 'auto' | 'on' | 'off';

/** Where probes write their scratch objects (removed right after). */
export const PROBE_PREFIX = '.probe/';

const probes = new WeakMap<ObjectStore, Promise<boolean>>();

/**
 * Whether `store` enforces `putIfAbsent`: a scratch object written twice must be refused the
 * second time (a server that ignores the condition fails this as surely as one answering 501).
 * Probed once per store object and remembered; a probe that fails is not remembered.
 */
export function conditionalWritesWork(store: ObjectStore): Promise<boolean> {
  let probe = probes.get(store);
  if (!probe) {
    probe = probeConditionalWrites(store);
    probes.set(store, probe);
    probe.catch(() => probes.delete(store));
  }
  return probe;
}

async function probeConditionalWrites(store: ObjectStore): Promise<boolean> {
  const key = `${PROBE_PREFIX}conditional-write-${Date.now()}-${randomBytes(6).toString('hex')}`;
  try {
    try {
      await store.putIfAbsent(key, Buffer.from('probe'));
    } catch (err) {
      if (err instanceof UnsupportedError) return false;
      if (!(err instanceof ConflictError)) throw err; // a retry after a lost acknowledgement
    }
    try {
      await store.putIfAbsent(key, Buffer.from('probe again'));
      return false; // the condition was ignored
    } catch (err) {
      if (err instanceof ConflictError) return true;
      if (err instanceof UnsupportedError) return false;
      throw err;
    }
  } finally {
    await store.delete([key]);
  }
}

/**
 * Stores `body` under `key` unless an object is stored there already (ConflictError), as `mode`
 * says. An existing object holding exactly `body` counts as this write (a retried request whose
 * first attempt was stored). Returns whether the check and the write were one atomic request.
 */
export async function createObject(
  store: ObjectStore,
  key: string,
  body: Buffer,
  mode: ConditionalWrites,
  signal?: AbortSignal,
): Promise<{ atomic: boolean }> {
  const atomic = mode === 'on' || (mode === 'auto' && (await conditionalWritesWork(store)));
  const options = signal ? { signal } : {};
  try {
    if (atomic) await store.putIfAbsent(key, body, options);
    else {
      if (await exists(store, key)) throw new ConflictError(`object '${key}': already exists`);
      await store.put(key, body, options);
    }
    return { atomic };
  } catch (err) {
    if (err instanceof ConflictError && (await getBuffer(store, key, options)).equals(body)) return { atomic };
    if (err instanceof UnsupportedError) {
      throw new UnsupportedError(`${err.message}; conditional writes are 'on': 'auto' or 'off' commit without them`, {
        cause: err,
      });
    }
    throw err;
  }
}

async function exists(store: ObjectStore, key: string): Promise<boolean> {
  try {
    await store.head(key);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
