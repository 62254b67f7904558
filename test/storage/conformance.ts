import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { TestFn } from 'ava';
import {
  AbortedError,
  ConflictError,
  LifeboatError,
  NotFoundError,
  OutOfRangeError,
  UnsupportedError,
} from '../../src/lib/errors.js';
import { HashCounter } from '../../src/lib/hashing.js';
import { conditionalWritesWork, createObject, PROBE_PREFIX } from '../../src/storage/create-object.js';
import { withPrefix } from '../../src/storage/decorators.js';
import { getBuffer, type ObjectStore } from '../../src/storage/object-store.js';
import { uniqueName } from '../helpers/testbed.js';

export interface SuiteOptions {
  /** bytes for the large streaming test */
  readonly bigSize: number;
  /** upper bound on RSS growth while streaming the large object, or undefined to not check */
  readonly maxRssGrowth?: number;
}

const MiB = 1024 * 1024;

/** A deterministic stream of `size` bytes with no known length, in 1 MiB chunks that all differ. */
function bigStream(size: number, seed: Buffer): Readable {
  let sent = 0;
  let n = 0;
  return new Readable({
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const len = Math.min(MiB, size - sent);
      const chunk = Buffer.allocUnsafe(len);
      seed.copy(chunk, 0, 0, Math.min(len, seed.length));
      chunk.writeUInt32LE(n++, 0);
      sent += len;
      this.push(chunk);
    },
  });
}

async function digest(stream: NodeJS.ReadableStream): Promise<{ size: number; sha256: string }> {
  const h = new HashCounter();
  for await (const _ of stream.pipe(h)) {
    // drain
  }
  return h.digest();
}

/** A stream that fails after `after` bytes. */
function failingStream(after: number, error: Error): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= after) {
        this.destroy(error);
        return;
      }
      sent += MiB;
      this.push(randomBytes(MiB));
    },
  });
}

/**
 * `store` as an S3 server without conditional writes shows it (OpenStack Swift's s3api): every
 * `putIfAbsent` fails as the S3 store classifies a 501; `conditionalPuts` counts them.
 */
export function answering501(store: ObjectStore): ObjectStore & { readonly conditionalPuts: number } {
  let calls = 0;
  return {
    location: store.location,
    put: (key, body, options) => store.put(key, body, options),
    async putIfAbsent(key) {
      calls++;
      throw new UnsupportedError(
        `put '${key}': the object store does not support conditional writes (NotImplemented (HTTP 501))`,
      );
    },
    get: (key, options) => store.get(key, options),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    delete: (keys) => store.delete(keys),
    cleanupIncomplete: (prefix, olderThan) => store.cleanupIncomplete(prefix, olderThan),
    get conditionalPuts() {
      return calls;
    },
  };
}

/**
 * The ObjectStore contract. Every implementation runs it, each test under its own prefix, cleaned
 * up afterwards. `open` returns the store rooted where the test may write.
 */
export function storeConformance(test: TestFn, name: string, open: () => ObjectStore, options: SuiteOptions): void {
  const scoped = async (run: (store: ObjectStore) => Promise<void>): Promise<void> => {
    const base = open();
    const prefix = uniqueName('conformance');
    const store = withPrefix(base, prefix);
    try {
      await run(store);
    } finally {
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      if (keys.length) await store.delete(keys);
    }
  };

  test(`${name}: put, head and get a buffer`, (t) =>
    scoped(async (store) => {
      const body = randomBytes(1234);
      t.deepEqual(await store.put('a/b/c.bin', body), { size: 1234 });
      t.is((await store.head('a/b/c.bin')).size, 1234);
      t.true((await getBuffer(store, 'a/b/c.bin')).equals(body));
      const replaced = Buffer.from('second version');
      await store.put('a/b/c.bin', replaced);
      t.true((await getBuffer(store, 'a/b/c.bin')).equals(replaced));
    }));

  test(`${name}: missing keys raise NotFoundError`, (t) =>
    scoped(async (store) => {
      await t.throwsAsync(store.get('nope/missing'), { instanceOf: NotFoundError, message: /nope\/missing/ });
      await t.throwsAsync(store.head('nope/missing'), { instanceOf: NotFoundError });
    }));

  test(`${name}: range reads`, (t) =>
    scoped(async (store) => {
      const body = randomBytes(100_000);
      await store.put('r', body);
      t.true((await getBuffer(store, 'r', { range: { start: 10, end: 19 } })).equals(body.subarray(10, 20)));
      t.true((await getBuffer(store, 'r', { range: { start: 99_990 } })).equals(body.subarray(99_990)));
      t.true((await getBuffer(store, 'r', { range: { start: 0, end: 0 } })).equals(body.subarray(0, 1)));
      t.true(
        (await getBuffer(store, 'r', { range: { start: 99_000, end: 200_000 } })).equals(body.subarray(99_000)),
        'end past the object',
      );
      await t.throwsAsync(getBuffer(store, 'r', { range: { start: 100_000 } }), { instanceOf: OutOfRangeError, message: /\/r'/ });
      await t.throwsAsync(getBuffer(store, 'r', { range: { start: 200_000, end: 200_009 } }), { instanceOf: OutOfRangeError });
    }));

  test(`${name}: listing more than 1000 keys in order, by prefix`, (t) =>
    scoped(async (store) => {
      const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from(k))));
      }
      await store.put('many-not/x', Buffer.from('x'));
      await store.put('other', Buffer.from('y'));
      const listed: string[] = [];
      for await (const o of store.list('many/')) {
        listed.push(o.key);
        t.is(o.size, o.key.length);
      }
      t.deepEqual(listed, keys);
      const all: string[] = [];
      for await (const o of store.list('')) all.push(o.key);
      t.is(all.length, 1102);
      t.deepEqual(all, [...all].sort());
    }));

  test(`${name}: bulk delete returns a result per key and treats missing keys as deleted`, (t) =>
    scoped(async (store) => {
      const keys = Array.from({ length: 1005 }, (_, i) => `del/${i}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, Buffer.from('x'))));
      }
      const results = await store.delete([...keys, 'del/never-existed']);
      t.is(results.length, 1006);
      t.deepEqual(
        results.filter((r) => r.error),
        [],
      );
      const left: string[] = [];
      for await (const o of store.list('del/')) left.push(o.key);
      t.deepEqual(left, []);
    }));

  test(`${name}: concurrent writes`, (t) =>
    scoped(async (store) => {
      const bodies = Array.from({ length: 8 }, () => randomBytes(200_000));
      await Promise.all(bodies.map((b, i) => store.put(`c/${i}`, b)));
      await Promise.all(bodies.map((b) => store.put('c/same', Readable.from([b.subarray(0, 100_000), b.subarray(100_000)]))));
      for (const [i, b] of bodies.entries()) t.true((await getBuffer(store, `c/${i}`)).equals(b));
      const same = await getBuffer(store, 'c/same');
      t.true(
        bodies.some((b) => b.equals(same)),
        'concurrent writers to one key leave exactly one complete version',
      );
    }));

  test(`${name}: putIfAbsent stores once; of concurrent callers exactly one wins`, (t) =>
    scoped(async (store) => {
      await store.putIfAbsent('once', Buffer.from('1'));
      await t.throwsAsync(store.putIfAbsent('once', Buffer.from('2')), { instanceOf: ConflictError });
      t.is((await getBuffer(store, 'once')).toString(), '1');
      const racers = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => store.putIfAbsent('race', Buffer.from(`${i}`))),
      );
      const won = racers.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      t.is(won.length, 1, 'one winner');
      t.true(racers.every((r) => r.status === 'fulfilled' || r.reason instanceof ConflictError));
      t.is((await getBuffer(store, 'race')).toString(), `${won[0]}`);
    }));

  test(`${name}: the probe finds conditional writes, or their absence behind a 501, and leaves nothing`, (t) =>
    scoped(async (store) => {
      t.true(await conditionalWritesWork(store));
      const without = answering501(store);
      t.false(await conditionalWritesWork(without));
      t.false(await conditionalWritesWork(without), 'remembered');
      t.is(without.conditionalPuts, 1, 'probed once');
      const left: string[] = [];
      for await (const o of store.list(PROBE_PREFIX)) left.push(o.key);
      t.deepEqual(left, []);
    }));

  for (const mode of ['auto', 'on', 'off'] as const) {
    for (const has501 of [false, true]) {
      const label = `${name}: create-only write, conditional writes '${mode}', ${has501 ? 'store answering 501' : 'store with them'}`;
      test(label, (t) =>
        scoped(async (base) => {
          const store = has501 ? answering501(base) : base;
          const body = Buffer.from('manifest');
          if (mode === 'on' && has501) {
            await t.throwsAsync(createObject(store, 'm/manifest.json', body, mode), {
              instanceOf: UnsupportedError,
              message: /does not support conditional writes.*'auto' or 'off'/,
            });
            await t.throwsAsync(store.head('m/manifest.json'), { instanceOf: NotFoundError });
            return;
          }
          const atomic = mode === 'on' || (mode === 'auto' && !has501);
          t.deepEqual(await createObject(store, 'm/manifest.json', body, mode), { atomic });
          t.deepEqual(await createObject(store, 'm/manifest.json', body, mode), { atomic }, 'a retry of the same bytes counts');
          await t.throwsAsync(createObject(store, 'm/manifest.json', Buffer.from('another'), mode), {
            instanceOf: ConflictError,
          });
          t.true((await getBuffer(store, 'm/manifest.json')).equals(body));
        }),
      );
    }
  }

  test(`${name}: a failing source stream leaves no object and no partial upload`, (t) =>
    scoped(async (store) => {
      const boom = new Error('source broke');
      const err = await t.throwsAsync(store.put('broken', failingStream(40 * MiB, boom), { sizeHint: 100 * MiB }));
      t.truthy(err);
      await t.throwsAsync(store.head('broken'), { instanceOf: NotFoundError });
      t.is(await store.cleanupIncomplete('', new Date(Date.now() + 3_600_000)), 0, 'nothing left to clean up');
    }));

  test(`${name}: an aborted upload leaves no object and no partial upload`, (t) =>
    scoped(async (store) => {
      const controller = new AbortController();
      const source = bigStream(200 * MiB, randomBytes(MiB));
      let seen = 0;
      source.on('data', (c: Buffer) => {
        seen += c.length;
        if (seen > 40 * MiB) controller.abort();
      });
      const err = await t.throwsAsync(store.put('aborted', source, { signal: controller.signal }));
      t.true(
        err instanceof AbortedError || (err instanceof LifeboatError && err.code === 'aborted') || err?.name === 'AbortError',
        `${err?.name}: ${err?.message}`,
      );
      await t.throwsAsync(store.head('aborted'), { instanceOf: NotFoundError });
      t.is(await store.cleanupIncomplete('', new Date(Date.now() + 3_600_000)), 0);
    }));

  test.serial(`${name}: streams ${Math.round(options.bigSize / MiB)} MiB of unknown length both ways`, (t) =>
    scoped(async (store) => {
      const seed = randomBytes(MiB);
      const expected = await digest(bigStream(options.bigSize, seed));
      let peak = process.memoryUsage().rss;
      const base = peak;
      const timer = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 50);
      try {
        const put = await store.put('big', bigStream(options.bigSize, seed));
        t.is(put.size, options.bigSize);
        t.is((await store.head('big')).size, options.bigSize);
        t.deepEqual(await digest(await store.get('big')), expected);
      } finally {
        clearInterval(timer);
      }
      if (options.maxRssGrowth !== undefined) {
        t.true(peak - base < options.maxRssGrowth, `rss grew by ${Math.round((peak - base) / MiB)} MiB`);
      }
    }),
  );
}
