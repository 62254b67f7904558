import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import { verifySnapshots } from '../../jobs/verify.js';
import { detectCodec } from '../../src/codec/zstd.js';
import { RetryableError, UsageError } from '../../src/lib/errors.js';
import { MANIFEST_FORMAT, type Manifest, type ObjectRecord } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import {
  latestVerification,
  recordVerification,
  VERIFY_FORMAT,
  verificationState,
  verificationStates,
} from '../../src/repo/verification.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { type GetOptions, getBuffer } from '../../src/storage/object-store.js';

const codec = await detectCodec();
const NOW = new Date('2026-11-20T04:00:00Z');

/** A memory store that counts reads and can fail chosen ones. */
class ProbeStore extends MemoryStore {
  readonly gets = new Map<string, number>();
  readonly failGet = new Map<string, () => Error>();

  override async get(key: string, options?: GetOptions): Promise<Readable> {
    this.gets.set(key, (this.gets.get(key) ?? 0) + 1);
    const fail = this.failGet.get(key);
    if (fail) throw fail();
    return super.get(key, options);
  }
}

interface Fixture {
  readonly store: ProbeStore;
  readonly repo: Repository;
  /** oldest first: O1 (12 objects), O2 (1 object), N (3 objects, newest) */
  readonly ids: { O1: string; O2: string; N: string };
  readonly manifests: Record<'O1' | 'O2' | 'N', Manifest>;
  /** a pack both O1 and O2 need, outside their manifests' objects */
  readonly pack: ObjectRecord;
}

async function fixture(): Promise<Fixture> {
  const store = new ProbeStore();
  const repo = new Repository(store, 'shop', codec);
  const ids = {
    O1: newSnapshotId(new Date('2026-11-18T00:00:00Z'), '000001'),
    O2: newSnapshotId(new Date('2026-11-19T00:00:00Z'), '000002'),
    N: newSnapshotId(new Date('2026-11-20T00:00:00Z'), '000003'),
  };
  const write = (key: string): Promise<ObjectRecord> =>
    repo.writeObject(key, Readable.from([randomBytes(5000)]), { format: 'sql' });
  const pack = await write('packs/ab/ab00000000000000000000000000000000.tar.zst');
  const counts = { O1: 12, O2: 1, N: 3 };
  const manifests = {} as Record<keyof typeof ids, Manifest>;
  for (const [name, id] of Object.entries(ids) as [keyof typeof ids, string][]) {
    const objects: ObjectRecord[] = [];
    for (let i = 0; i < counts[name]; i++) objects.push(await write(`snapshots/${id}/part-${i}.zst`));
    manifests[name] = {
      format: MANIFEST_FORMAT,
      id,
      cluster: 'shop',
      node: 'n1',
      tool: { name: 'lifeboat', version: 'test' },
      startedAt: NOW.toISOString(),
      finishedAt: NOW.toISOString(),
      parts: name === 'N' ? {} : { files: { packs: [pack] } },
      objects,
    };
    await repo.commit(manifests[name]);
  }
  store.gets.clear();
  return { store, repo, ids, manifests, pack };
}

const referencedObjects = async (m: Manifest): Promise<ObjectRecord[]> =>
  (m.parts.files as { packs: ObjectRecord[] } | undefined)?.packs ?? [];

async function flipByte(store: MemoryStore, key: string): Promise<void> {
  const bytes = await getBuffer(store, key);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  await store.put(key, bytes);
}

test('a flipped byte in the newest snapshot is found, recorded next to it, and the other objects are still checked', async (t) => {
  const { store, repo, ids } = await fixture();
  const manifestBefore = await getBuffer(store, `shop/snapshots/${ids.N}/manifest.json`);
  await flipByte(store, `shop/snapshots/${ids.N}/part-1.zst`);
  const result = await verifySnapshots({ repo, now: () => NOW, readDataSubset: 0 });

  t.false(result.ok);
  t.deepEqual(result.damaged, [ids.N]);
  const [newest, o2, o1] = result.snapshots;
  t.is(newest?.id, ids.N);
  t.is(newest?.status, 'damaged');
  t.false(newest?.sampled);
  t.deepEqual(
    newest?.objects.map((o) => [o.key, o.ok]),
    [
      [`snapshots/${ids.N}/part-0.zst`, true],
      [`snapshots/${ids.N}/part-1.zst`, false],
      [`snapshots/${ids.N}/part-2.zst`, true],
    ],
  );
  t.regex(newest?.objects[1]?.error ?? '', new RegExp(`object 'snapshots/${ids.N}/part-1\\.zst': `));
  t.is(newest?.record, `snapshots/${ids.N}/verify-2026-11-20T04-00-00Z.json`);
  t.deepEqual([o2?.status, o2?.record, o1?.status, o1?.record], ['not-sampled', null, 'not-sampled', null]);

  const record = await latestVerification(repo, ids.N);
  t.like(record, { format: VERIFY_FORMAT, id: ids.N, verifiedAt: NOW.toISOString(), ok: false, sampled: false });
  t.deepEqual(record?.objects, newest?.objects);
  t.deepEqual(await verificationState(repo, ids.N), { verified: false, verifiedAt: null, checkedAt: NOW.toISOString() });
  t.true((await getBuffer(store, `shop/snapshots/${ids.N}/manifest.json`)).equals(manifestBefore), 'manifest untouched');
  t.deepEqual(await repo.snapshotIds(), [ids.O1, ids.O2, ids.N], 'records do not look like snapshots');
});

test('a full pass verifies every snapshot and reads a shared pack once', async (t) => {
  const { store, repo, ids, pack } = await fixture();
  const result = await verifySnapshots({ repo, now: () => NOW, readDataSubset: 1, referencedObjects });
  t.true(result.ok);
  t.deepEqual(
    result.snapshots.map((s) => [s.id, s.status, s.sampled, s.objects.length, s.total]),
    [
      [ids.N, 'ok', false, 3, 3],
      [ids.O2, 'ok', false, 2, 2],
      [ids.O1, 'ok', false, 13, 13],
    ],
  );
  t.is(store.gets.get(`shop/${pack.key}`), 1);
  const states = await verificationStates(repo, [ids.O1, ids.O2, ids.N]);
  for (const id of [ids.O1, ids.O2, ids.N])
    t.deepEqual(states.get(id), { verified: true, verifiedAt: NOW.toISOString(), checkedAt: NOW.toISOString() });
});

test('older snapshots are sampled deterministically, and a sampled pass does not make them verified', async (t) => {
  const { repo, ids } = await fixture();
  const run = (seed: string) => verifySnapshots({ repo, now: () => NOW, readDataSubset: 0.5, seed });
  const first = await run('2026-11-20');
  const again = await run('2026-11-20');
  const o1 = first.snapshots.find((s) => s.id === ids.O1);
  t.deepEqual(
    again.snapshots.map((s) => s.objects),
    first.snapshots.map((s) => s.objects),
  );
  t.true((o1?.objects.length ?? 0) > 0 && (o1?.objects.length ?? 0) < 12, `picked ${o1?.objects.length} of 12`);
  t.is(o1?.status, 'ok');
  t.true(o1?.sampled);
  t.like(await latestVerification(repo, ids.O1), { ok: true, sampled: true });
  t.false((await verificationState(repo, ids.O1)).verified);
  t.true((await verificationState(repo, ids.N)).verified, 'the newest is always read completely');
  const other = await run('2026-11-21');
  t.notDeepEqual(
    other.snapshots.find((s) => s.id === ids.O1)?.objects.map((o) => o.key),
    o1?.objects.map((o) => o.key),
    'another day, another sample',
  );
});

test('a damaged newest manifest and a missing object are damage; the next snapshot is then read completely', async (t) => {
  const { store, repo, ids } = await fixture();
  const key = `shop/snapshots/${ids.N}/manifest.json`;
  await store.put(key, Buffer.from((await getBuffer(store, key)).toString().replace('"n1"', '"n2"')));
  await store.delete([`shop/snapshots/${ids.O2}/part-0.zst`]);
  const result = await verifySnapshots({ repo, now: () => NOW, readDataSubset: 0 });
  t.deepEqual(result.damaged, [ids.N, ids.O2]);
  t.deepEqual(result.snapshots[0]?.objects, [
    { key: `snapshots/${ids.N}/manifest.json`, ok: false, error: `snapshot '${ids.N}': manifest checksum mismatch` },
  ]);
  t.regex(result.snapshots[1]?.objects[0]?.error ?? '', /not found/);
  t.false(result.snapshots[1]?.sampled);
  t.like(await latestVerification(repo, ids.O2), { ok: false });
  t.is(result.snapshots[2]?.status, 'not-sampled');
});

test('an object that cannot be read is retried once, then the check is inconclusive and not recorded', async (t) => {
  const { store, repo, ids } = await fixture();
  const key = `shop/snapshots/${ids.N}/part-2.zst`;
  store.failGet.set(key, () => new RetryableError(`object '${key}': connection reset`));
  const result = await verifySnapshots({ repo, now: () => NOW, readDataSubset: 0 });
  t.is(store.gets.get(key), 2);
  t.is(result.snapshots[0]?.status, 'inconclusive');
  t.is(result.snapshots[0]?.record, null);
  t.false(result.ok);
  t.deepEqual(result.damaged, []);
  t.is(await latestVerification(repo, ids.N), null);
});

test('verified state: a full pass verifies, any later failure revokes, a sampled pass alone never verifies', async (t) => {
  const { store, repo, ids } = await fixture();
  const id = ids.O1;
  const check = (iso: string, ok: boolean, sampled: boolean) =>
    recordVerification(repo, { id, verifiedAt: `${iso}Z`, ok, sampled, objects: [] });
  t.deepEqual(await verificationState(repo, id), { verified: false, verifiedAt: null, checkedAt: null });
  await check('2026-11-18T04:00:00', true, true);
  t.false((await verificationState(repo, id)).verified);
  await check('2026-11-19T04:00:00', true, false);
  await check('2026-11-20T04:00:00', true, true);
  t.deepEqual(await verificationState(repo, id), {
    verified: true,
    verifiedAt: '2026-11-19T04:00:00Z',
    checkedAt: '2026-11-20T04:00:00Z',
  });
  await store.put(`shop/snapshots/${id}/verify-2026-11-21T04-00-00Z.json`, Buffer.from('{ not json'));
  t.true((await verificationState(repo, id)).verified, 'an unreadable record is no evidence');
  await check('2026-11-22T04:00:00', false, true);
  await check('2026-11-23T04:00:00', true, true);
  t.deepEqual(await verificationState(repo, id), { verified: false, verifiedAt: null, checkedAt: '2026-11-23T04:00:00Z' });
  t.like(await latestVerification(repo, id), { verifiedAt: '2026-11-23T04:00:00Z', sampled: true });
});

test('a share outside 0..1 is a usage error', async (t) => {
  const { repo } = await fixture();
  await t.throwsAsync(verifySnapshots({ repo, readDataSubset: 1.5 }), {
    instanceOf: UsageError,
    message: 'read-data-subset: expected a share between 0 and 1, got 1.5',
  });
});

test('only: one snapshot, read completely; a transient read error is inconclusive and not recorded (lifeboat verify <id>)', async (t) => {
  const { store, repo, ids } = await fixture();
  const ok = await verifySnapshots({ repo, now: () => NOW, only: ids.O1, readDataSubset: 0 });
  t.deepEqual(
    ok.snapshots.map((s) => [s.id, s.status, s.sampled]),
    [[ids.O1, 'ok', false]],
  );
  t.true(ok.ok);
  const key = `shop/snapshots/${ids.O2}/part-0.zst`;
  store.failGet.set(key, () => new RetryableError(`object '${key}': connection reset`));
  const transient = await verifySnapshots({ repo, now: () => NOW, only: ids.O2 });
  t.is(transient.snapshots[0]?.status, 'inconclusive');
  t.is(transient.snapshots[0]?.record, null);
  t.false(transient.ok);
  t.is(await latestVerification(repo, ids.O2), null, 'a transient error is no evidence of damage');
});
