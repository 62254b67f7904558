import test from 'ava';
import { RetryableError } from '../../src/lib/errors.js';
import { LimitStore, RetryStore } from '../../src/storage/decorators.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { storeConformance } from './conformance.js';

/**
 * `store` behind a network that fails the first request of each kind for each key with a retryable
 * error: reads and buffered writes before they reach the store, deletes after they took effect
 * (the answer was lost), listings part-way through. Streamed puts pass: their bodies cannot be
 * replayed, and the S3 backend retries their parts itself.
 */
function flaky(store: ObjectStore): ObjectStore & { readonly faults: number } {
  const seen = new Set<string>();
  const fault = (what: string): RetryableError | undefined => {
    if (seen.has(what)) return undefined;
    seen.add(what);
    return new RetryableError(`${what}: injected fault (connection reset)`);
  };
  const before = async <T>(what: string, op: () => Promise<T>): Promise<T> => {
    const err = fault(what);
    if (err) throw err;
    return op();
  };
  return {
    location: store.location,
    put: (key, body, options) =>
      Buffer.isBuffer(body) ? before(`put '${key}'`, () => store.put(key, body, options)) : store.put(key, body, options),
    putIfAbsent: (key, body, options) => before(`put '${key}'`, () => store.putIfAbsent(key, body, options)),
    get: (key, options) => before(`get '${key}'`, () => store.get(key, options)),
    head: (key) => before(`head '${key}'`, () => store.head(key)),
    async delete(keys) {
      const results = await store.delete(keys);
      const err = fault(`delete '${keys.join(' ')}'`);
      if (err) throw err;
      return results;
    },
    async *list(prefix) {
      let n = 0;
      for await (const info of store.list(prefix)) {
        if (n++ === 3) {
          const err = fault(`list '${prefix}'`);
          if (err) throw err;
        }
        yield info;
      }
    },
    cleanupIncomplete: (prefix, olderThan) => before(`cleanup '${prefix}'`, () => store.cleanupIncomplete(prefix, olderThan)),
    get faults() {
      return seen.size;
    },
  };
}

// The decorators the runtime stacks over every backend keep the contract, faults included.
const faulty = flaky(new MemoryStore());
storeConformance(
  test,
  'retry over limit over a flaky store',
  () => new RetryStore(new LimitStore(faulty, 4), { baseDelayMs: 1, maxDelayMs: 4 }),
  {
    bigSize: 16 * 1024 * 1024,
  },
);

test.after('the flaky store did fail requests', (t) => {
  t.true(faulty.faults > 20, `${faulty.faults} faults`);
});
