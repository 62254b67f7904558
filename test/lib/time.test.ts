import test from 'ava';
import { isoFromNs } from '../../src/lib/time.js';

test('isoFromNs formats each time on its own (the cached second never leaks into another)', (t) => {
  t.is(isoFromNs(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  t.is(isoFromNs(1_700_000_000_000_000_001n), '2023-11-14T22:13:20.000000001Z');
  t.is(isoFromNs(1_700_000_001_000_000_000n), '2023-11-14T22:13:21.000000000Z');
  t.is(isoFromNs(-1n), '1969-12-31T23:59:59.999999999Z');
  t.is(isoFromNs(0n), '1970-01-01T00:00:00.000000000Z');
  // alternating between two seconds (an mtime and a ctime), then a third
  const a = 1_600_000_000_000_000_005n;
  const b = 1_700_000_000_000_000_006n;
  const c = 1_800_000_000_000_000_007n;
  t.deepEqual([a, b, a, b, c, a, c].map(isoFromNs), [
    '2020-09-13T12:26:40.000000005Z',
    '2023-11-14T22:13:20.000000006Z',
    '2020-09-13T12:26:40.000000005Z',
    '2023-11-14T22:13:20.000000006Z',
    '2027-01-15T08:00:00.000000007Z',
    '2020-09-13T12:26:40.000000005Z',
    '2027-01-15T08:00:00.000000007Z',
  ]);
});
