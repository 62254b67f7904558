import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import { prune } from '../../jobs/prune.js';
import { detectCodec } from '../../src/codec/zstd.js';
import { RetryableError } from '../../src/lib/errors.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import type { RetentionPolicy } from '../../src/repo/retention.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import { recordVerification } from '../../src/repo/verification.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { type DeleteResult, getBuffer, type ObjectInfo, type ObjectStore } from '../../src/storage/object-store.js';

const codec = await detectCodec();
const POLICY: RetentionPolicy = { keepAllDays: 3, dailyDays: 7, weeklyWeeks: 6, monthlyMonths: 5, keepLast: 1 };
const NOW = new Date('2026-11-20T03:30:00Z');
const OLD = new Date('2026-11-01T00:00:00Z');
const RECENT = new Date('2026-11-20T02:30:00Z');

/** A memory store that records deletions, can refuse some, and reports chosen modification times. */
class ProbeStore implements ObjectStore {
  readonly location = 'memory://probe';
  readonly inner = new MemoryStore('probe');
  readonly deletes: string[][] = [];
  readonly refuse = new Set<string>();
  readonly modified = new Map<string, Date>();
  /** runs inside each delete call, before it returns */
  onDelete: ((keys: readonly string[]) => Promise<void>) | undefined;

  put: ObjectStore['put'] = (key, body, options) => this.inner.put(key, body, options);
  putIfAbsent: ObjectStore['putIfAbsent'] = (key, body, options) => this.inner.putIfAbsent(key, body, options);
  get: ObjectStore['get'] = (key, options) => this.inner.get(key, options);
  head: ObjectStore['head'] = (key) => this.inner.head(key);
  cleanupIncomplete: ObjectStore['cleanupIncomplete'] = async () => 0;

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const o of this.inner.list(prefix)) yield { ...o, lastModified: this.modified.get(o.key) ?? o.lastModified };
  }

  async delete(keys: readonly string[]): Promise<DeleteResult[]> {
    this.deletes.push(keys.map((k) => k.replace(/^shop\//, '')));
    await this.inner.delete(keys.filter((k) => !this.refuse.has(k)));
    await this.onDelete?.(keys);
    return keys.map((key) =>
      this.refuse.has(key) ? { key, error: new RetryableError(`object '${key}': delete refused`) } : { key },
    );
  }

  async keys(): Promise<string[]> {
    const out: string[] = [];
    for await (const o of this.inner.list('shop/')) out.push(o.key.slice('shop/'.length));
    return out;
  }
}

const pack = (n: number): string => `packs/0${n}/0${n}${'0'.repeat(30)}.tar.zst`;

interface Fixture {
  readonly store: ProbeStore;
  readonly repo: Repository;
  /** A: old verified (superseded by B), B: verified, C: unverified and old, D: newest verified, E: sampled only */
  readonly ids: { A: string; B: string; C: string; D: string; E: string };
}

async function fixture(): Promise<Fixture> {
  const store = new ProbeStore();
  const repo = new Repository(store, 'shop', codec);
  const ids = {
    A: newSnapshotId(new Date('2026-10-10T00:00:00Z'), 'aaaaaa'),
    B: newSnapshotId(new Date('2026-10-20T00:00:00Z'), 'bbbbbb'),
    C: newSnapshotId(new Date('2026-11-15T06:00:00Z'), 'cccccc'),
    D: newSnapshotId(new Date('2026-11-19T00:00:00Z'), 'dddddd'),
    E: newSnapshotId(new Date('2026-11-19T12:00:00Z'), 'eeeeee'),
  };
  const packsOf: Record<keyof typeof ids, number[]> = { A: [1, 2], B: [2, 3], C: [5], D: [3, 4], E: [4] };
  for (const [name, id] of Object.entries(ids) as [keyof typeof ids, string][]) {
    const db = await repo.writeObject(`snapshots/${id}/db.sql.zst`, Readable.from([randomBytes(2000)]), { format: 'sql' });
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      cluster: 'shop',
      node: 'n1',
      tool: { name: 'lifeboat', version: 'test' },
      startedAt: OLD.toISOString(),
      finishedAt: OLD.toISOString(),
      parts: { files: { packs: packsOf[name].map(pack) } },
      objects: [db],
    };
    await repo.commit(manifest);
    if (name !== 'C') {
      await recordVerification(repo, { id, verifiedAt: NOW.toISOString(), ok: true, objects: [], sampled: name === 'E' });
    }
  }
  for (const n of [1, 2, 3, 4, 5, 6, 7]) {
    await store.put(`shop/${pack(n)}`, randomBytes(100));
    store.modified.set(`shop/${pack(n)}`, n === 7 ? RECENT : OLD);
  }
  store.deletes.length = 0;
  return { store, repo, ids };
}

const referencedPacks = async (m: Manifest): Promise<string[]> => (m.parts.files as { packs: string[] }).packs;

test('removes expired snapshots manifest first, then their objects, then unreferenced old packs', async (t) => {
  const { store, repo, ids } = await fixture();
  const result = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });

  t.deepEqual(result.plan.remove, [
    { id: ids.A, reason: `monthly 2026-10 keeps newer ${ids.B}` },
    { id: ids.C, reason: 'unverified and older than 3 days' },
  ]);
  t.deepEqual(
    result.plan.keep.map((k) => [k.id, k.reasons]),
    [
      [ids.B, ['weekly 2026-W43', 'monthly 2026-10']],
      [ids.D, ['within 3 days', 'newest verified', 'keep-last 1', 'daily 2026-11-19', 'weekly 2026-W47', 'monthly 2026-11']],
      [ids.E, ['within 3 days']],
    ],
  );
  t.deepEqual(store.deletes, [
    [`snapshots/${ids.A}/manifest.json`],
    [`snapshots/${ids.A}/db.sql.zst`, `snapshots/${ids.A}/verify-2026-11-20T03-30-00Z.json`],
    [`snapshots/${ids.C}/manifest.json`],
    [`snapshots/${ids.C}/db.sql.zst`],
    [pack(1), pack(5), pack(6)],
  ]);
  t.deepEqual(result.removed, [ids.A, ids.C]);
  t.deepEqual(result.deleted, store.deletes.flat());
  t.deepEqual(result.packs, {
    skipped: null,
    scanned: 7,
    referenced: 3,
    young: 1,
    unreferenced: [pack(1), pack(5), pack(6)],
    deletedBytes: 300,
  });
  t.deepEqual(result.errors, []);
  t.true(result.ok);
  t.deepEqual(await repo.snapshotIds(), [ids.B, ids.D, ids.E]);
  const left = await store.keys();
  t.false(left.some((k) => k.includes(ids.A) || k.includes(ids.C)));
  t.deepEqual(
    left.filter((k) => k.startsWith('packs/')),
    [pack(2), pack(3), pack(4), pack(7)],
  );
});

test('a dry run deletes nothing and reports the same plan and the packs that would go', async (t) => {
  const { store, repo } = await fixture();
  const before = await store.keys();
  const dry = await prune({ repo, policy: POLICY, now: () => NOW, dryRun: true, referencedPacks });
  t.deepEqual(store.deletes, []);
  t.deepEqual(await store.keys(), before);
  t.true(dry.dryRun);
  t.deepEqual(dry.removed, []);
  t.deepEqual(dry.deleted, []);
  t.deepEqual(dry.packs.unreferenced, [pack(1), pack(5), pack(6)]);
  t.is(dry.packs.deletedBytes, 0);
  const real = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });
  t.deepEqual(real.plan, dry.plan);
});

test('failed deletions are reported per key; a snapshot whose manifest stays keeps its objects and packs', async (t) => {
  const { store, repo, ids } = await fixture();
  store.refuse.add(`shop/snapshots/${ids.A}/db.sql.zst`);
  store.refuse.add(`shop/snapshots/${ids.C}/manifest.json`);
  const result = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });
  t.false(result.ok);
  t.deepEqual(
    result.errors.map((e) => e.key),
    [`snapshots/${ids.A}/db.sql.zst`, `snapshots/${ids.C}/manifest.json`],
  );
  t.regex(result.errors[0]?.error ?? '', /^object 'snapshots\/.*\/db\.sql\.zst': delete failed: .*delete refused/);
  t.deepEqual(result.removed, [ids.A], 'A is gone (its manifest is), C still exists');
  t.deepEqual(await repo.snapshotIds(), [ids.B, ids.C, ids.D, ids.E]);
  t.deepEqual(store.deletes.slice(2, 3), [[`snapshots/${ids.C}/manifest.json`]], "C's other objects were not touched");
  t.deepEqual(result.packs.unreferenced, [pack(1), pack(6)], "C's pack 5 is still referenced");
  t.true((await store.keys()).includes(`snapshots/${ids.A}/db.sql.zst`));
});

test('nothing is removed while runs fail or the newest snapshot is too old', async (t) => {
  const { store, repo, ids } = await fixture();
  const failing = await prune({ repo, policy: POLICY, now: () => NOW, recentFailures: true, referencedPacks });
  t.regex(failing.plan.blocked ?? '', /recent runs failed/);
  t.deepEqual(failing.plan.remove, []);
  t.regex(failing.packs.skipped ?? '', /pruning is blocked/);
  const stale = await prune({ repo, policy: POLICY, now: () => NOW, maxAgeWithoutSnapshotHours: 12, referencedPacks });
  t.is(stale.plan.blocked, `newest snapshot '${ids.E}' is 15.5 h old (limit 12 h): snapshots are failing`);
  t.deepEqual(store.deletes, []);
  t.true(failing.ok && stale.ok);
  const fresh = await prune({ repo, policy: POLICY, now: () => NOW, maxAgeWithoutSnapshotHours: 16, referencedPacks });
  t.is(fresh.removed.length, 2);
});

test('packs are not collected while a remaining manifest is unreadable', async (t) => {
  const { store, repo, ids } = await fixture();
  const key = `shop/snapshots/${ids.E}/manifest.json`;
  await store.put(key, Buffer.from((await getBuffer(store, key)).toString().replace('"n1"', '"n2"')));
  const result = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });
  t.deepEqual(result.removed, [ids.A, ids.C], 'a damaged manifest is unverified; E is within 3 days and stays');
  t.regex(result.packs.skipped ?? '', new RegExp(`snapshot '${ids.E}' remains but its manifest cannot be read`));
  t.false(store.deletes.flat().some((k) => k.startsWith('packs/')));
  t.deepEqual(
    result.errors.map((e) => e.key),
    [`snapshots/${ids.E}/manifest.json`],
  );
  t.false(result.ok);
});

test('a pack referenced only by a snapshot committed during the prune survives', async (t) => {
  const { store, repo, ids } = await fixture();
  const late = newSnapshotId(new Date('2026-11-20T03:00:00Z'), 'ffffff');
  // once the last expired snapshot is gone, a snapshot referencing pack 6 commits
  store.onDelete = async (keys) => {
    if (!keys.includes(`shop/snapshots/${ids.C}/db.sql.zst`)) return;
    await repo.commit({ ...(await repo.manifest(ids.D)), id: late, parts: { files: { packs: [pack(6)] } } });
  };
  const result = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });
  t.deepEqual(result.removed, [ids.A, ids.C]);
  t.deepEqual(result.packs.unreferenced, [pack(1), pack(5)]);
});

test('folders of snapshots that never committed go once past the grace period; a fresh one stays; a dry run lists them', async (t) => {
  const { store, repo, ids } = await fixture();
  const old = newSnapshotId(new Date('2026-11-10T00:00:00Z'), 'f00001');
  const fresh = newSnapshotId(new Date('2026-11-20T01:00:00Z'), 'f00002');
  const touched = newSnapshotId(new Date('2026-11-10T00:00:00Z'), 'f00003');
  const leftover = (id: string): string[] => [
    `snapshots/${id}/files-pub-media.jsonl.zst`,
    `snapshots/${id}/pack-0a${'0'.repeat(30)}.json.zst`,
    `snapshots/${id}/db.xbstream.zst`,
  ];
  for (const id of [old, fresh, touched]) {
    for (const key of leftover(id)) {
      await store.put(`shop/${key}`, randomBytes(50));
      store.modified.set(`shop/${key}`, id === fresh ? RECENT : OLD);
    }
  }
  store.modified.set(`shop/snapshots/${touched}/db.xbstream.zst`, RECENT); // still being written to
  // the committed snapshots' objects are old too, but they have a manifest
  for await (const o of store.inner.list('shop/snapshots/')) if (!store.modified.has(o.key)) store.modified.set(o.key, OLD);

  const dry = await prune({ repo, policy: POLICY, now: () => NOW, dryRun: true, referencedPacks });
  t.deepEqual(dry.unfinished, { skipped: null, snapshots: [old], keys: leftover(old).sort() });
  t.deepEqual(store.deletes, []);

  const before = await store.keys();
  const result = await prune({ repo, policy: POLICY, now: () => NOW, referencedPacks });
  t.deepEqual(result.unfinished.snapshots, [old]);
  const after = await store.keys();
  for (const key of leftover(old)) t.false(after.includes(key), key);
  for (const key of [...leftover(fresh), ...leftover(touched)]) t.true(after.includes(key), key);
  t.true(after.includes(`snapshots/${ids.D}/manifest.json`));
  t.deepEqual(
    before.filter((k) => !after.includes(k) && k.includes(old)),
    leftover(old).sort(),
  );
  t.true(result.ok);
});
