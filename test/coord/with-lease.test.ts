import test from 'ava';
import { type LeaseHandle, withLease } from '../../src/coord/index.js';
import { AbortedError, ConflictError } from '../../src/lib/errors.js';

/** A lease granted with token 7 whose renewals answer `renew()`; records every call. */
function fakeLease(renew: () => Promise<boolean>, acquire: number | null = 7): LeaseHandle & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    name: 'snapshot',
    ttlSeconds: 0.3,
    tryAcquire: async (slot) => {
      calls.push(`acquire ${slot}`);
      return acquire;
    },
    renew: async () => {
      calls.push('renew');
      return renew();
    },
    confirm: async (token) => {
      calls.push('confirm');
      if (!(await renew())) throw new ConflictError(`lease 'snapshot': token ${token} is no longer valid`);
    },
    release: async (token) => {
      calls.push(`release ${token}`);
    },
  };
}

/** Work that waits for its signal (at most 3 s) and says how it ended. */
const waitForAbort = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve('ran to the end'), 3000);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(signal.reason);
    });
  });

test('a failed renewal aborts the work at once, and the lease is released', async (t) => {
  const lease = fakeLease(async () => false);
  const started = Date.now();
  const held = await withLease(lease, 'slot-1', (signal) => waitForAbort(signal), { heartbeatMs: 50 });
  t.true(held.acquired);
  const reason = held.acquired ? held.value : undefined;
  t.true(reason instanceof AbortedError);
  t.regex((reason as Error).message, /^lease 'snapshot': lost while working on slot-1$/);
  t.true(Date.now() - started < 1000);
  t.deepEqual(lease.calls, ['acquire slot-1', 'renew', 'release 7']);
});

test('renewals that throw abort the work once the lease has gone a whole TTL unrenewed', async (t) => {
  const lease = fakeLease(async () => {
    throw new Error('connection lost');
  });
  const started = Date.now();
  const held = await withLease(lease, 'slot-2', (signal) => waitForAbort(signal), { heartbeatMs: 50 });
  const reason = held.acquired ? held.value : undefined;
  t.regex((reason as Error).message, /not renewed for 0\.3 s \(connection lost\)/);
  t.true(Date.now() - started >= 290);
});

test('while renewals succeed the work runs on; beforeCommit confirms the token', async (t) => {
  const lease = fakeLease(async () => true);
  const held = await withLease(
    lease,
    'slot-3',
    async (signal, beforeCommit, token) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      t.false(signal.aborted);
      await beforeCommit();
      return token;
    },
    { heartbeatMs: 50 },
  );
  t.deepEqual(held, { acquired: true, token: 7, value: 7 });
  t.true(lease.calls.includes('confirm'));
  t.is(lease.calls.at(-1), 'release 7');
});

test('a lease held elsewhere runs nothing; an error of the work is rethrown after release', async (t) => {
  const busy = fakeLease(async () => true, null);
  t.deepEqual(await withLease(busy, 'slot-4', async () => t.fail('must not run')), { acquired: false });
  t.deepEqual(busy.calls, ['acquire slot-4']);

  const lease = fakeLease(async () => true);
  await t.throwsAsync(
    withLease(lease, 'slot-5', async () => {
      throw new Error('disk full');
    }),
    { message: 'disk full' },
  );
  t.is(lease.calls.at(-1), 'release 7');
});

test("the caller's abort reaches the work", async (t) => {
  const lease = fakeLease(async () => true);
  const caller = new AbortController();
  setTimeout(() => caller.abort(new Error('shutting down')), 50);
  const held = await withLease(lease, 'slot-6', (signal) => waitForAbort(signal), { signal: caller.signal });
  t.is((held.acquired ? (held.value as Error) : undefined)?.message, 'shutting down');
});
