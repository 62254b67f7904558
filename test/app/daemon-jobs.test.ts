import test from 'ava';
import { holdLease } from '../../src/coord/index.js';
import { ConflictError } from '../../src/lib/errors.js';

/** A lease that is granted once and then lost: every renewal fails. */
function losingLease(ttlSeconds = 0.3) {
  const calls: string[] = [];
  return {
    calls,
    lease: {
      name: 'snapshot',
      ttlSeconds,
      tryAcquire: async (_slot: string) => 7,
      renew: async (_token: number) => {
        calls.push('renew');
        return false;
      },
      confirm: async (token: number) => {
        calls.push('confirm');
        throw new ConflictError(`lease 'snapshot': token ${token} is no longer valid`);
      },
      release: async (_token: number) => {
        calls.push('release');
      },
    },
  };
}

test('an on-demand run is aborted promptly when a lease renewal fails', async (t) => {
  const { lease, calls } = losingLease();
  const started = Date.now();
  const outcome = await holdLease(
    lease,
    'on-demand-1',
    7,
    (signal) =>
      new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('ran to the end'), 3000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve('aborted');
        });
      }),
    { signal: new AbortController().signal },
  ).catch((err: unknown) => (err instanceof Error ? `failed: ${err.message}` : 'failed'));
  t.not(outcome, 'ran to the end');
  t.true(Date.now() - started < 1500, 'aborted within a few heartbeats');
  t.true(calls.includes('renew'));
  t.is(calls.at(-1), 'release');
});
