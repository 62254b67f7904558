import test from 'ava';
import { PermanentError } from '../../src/lib/errors.js';
import { partSizeFor, S3Store } from '../../src/storage/s3-store.js';
import { s3Facts } from '../helpers/testbed.js';
import { storeConformance } from './conformance.js';

const MiB = 1024 * 1024;

// The real server: Ceph RGW started by test/testbed/testbed.sh.
const facts = s3Facts();
const store = new S3Store({ ...facts, forcePathStyle: true });
test.after.always(() => store.destroy());

storeConformance(test, 'ceph-rgw', () => store, { bigSize: 1024 * MiB, maxRssGrowth: 200 * MiB });

test('ceph-rgw: wrong credentials give a clear permanent error', async (t) => {
  const bad = new S3Store({ ...facts, secretAccessKey: 'not-the-secret', forcePathStyle: true });
  try {
    const err = await t.throwsAsync(bad.put('creds/check', Buffer.from('x')), { instanceOf: PermanentError });
    t.regex(err?.message ?? '', /access denied.*check the access key and secret/);
    await t.throwsAsync(bad.head('creds/check'), { instanceOf: PermanentError });
  } finally {
    bad.destroy();
  }
});

test('ceph-rgw: a missing bucket is a permanent error', async (t) => {
  const missing = new S3Store({ ...facts, bucket: 'no-such-bucket-lifeboat', forcePathStyle: true });
  try {
    await t.throwsAsync(missing.put('x', Buffer.from('x')), { instanceOf: PermanentError });
  } finally {
    missing.destroy();
  }
});

test('part size grows with the size hint so 10 000 parts always suffice', (t) => {
  t.is(partSizeFor(1 * MiB), 8 * MiB);
  for (const size of [10 * 1024 * MiB, 500 * 1024 * MiB, 4 * 1024 * 1024 * MiB]) {
    const part = partSizeFor(size);
    t.true(part * 10_000 >= size * 1.25, `${size} bytes in parts of ${part}`);
    t.is(part % MiB, 0);
  }
  t.is(partSizeFor(1e15), 5 * 1024 * MiB, 'capped at the S3 maximum part size');
});
