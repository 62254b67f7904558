import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import test from 'ava';
import { detectCodec } from '../../src/codec/zstd.js';
import { ConflictError, IntegrityError, NotFoundError } from '../../src/lib/errors.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import { newSnapshotId, snapshotTime } from '../../src/repo/snapshot-id.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { getBuffer } from '../../src/storage/object-store.js';

const codec = await detectCodec();

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function manifestFor(id: string, objects: Manifest['objects']): Manifest {
  const now = new Date().toISOString();
  return {
    format: MANIFEST_FORMAT,
    id,
    cluster: 'shop',
    node: 'n1',
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: now,
    finishedAt: now,
    parts: {},
    objects,
  };
}

test('snapshot ids sort by time and encode it', (t) => {
  const a = newSnapshotId(new Date('2026-11-26T06:00:00Z'), 'aaaaaa');
  const b = newSnapshotId(new Date('2026-11-26T12:00:00Z'), '000000');
  t.is(a, '2026-11-26T06-00-00Z-aaaaaa');
  t.true(a < b);
  t.is(snapshotTime(b).toISOString(), '2026-11-26T12:00:00.000Z');
});

test('objects round-trip with both checksums; only committed snapshots are listed', async (t) => {
  const repo = new Repository(new MemoryStore(), 'shop', codec);
  const content = Buffer.concat([Buffer.alloc(500_000, 'x'), randomBytes(100_000)]);
  const id = newSnapshotId();
  const record = await repo.writeObject(`snapshots/${id}/db.xbstream.zst`, Readable.from([content]), { format: 'xbstream' });
  t.is(record.raw?.size, content.length);
  t.true(record.stored.size < content.length);
  t.deepEqual(await repo.snapshotIds(), [], 'no manifest yet: the snapshot does not exist');
  await repo.commit(manifestFor(id, [record]));
  t.deepEqual(await repo.snapshotIds(), [id]);
  const manifest = await repo.resolve('latest');
  t.is(manifest.id, id);
  t.true((await drain(await repo.openObject(record))).equals(content));
  t.deepEqual(await repo.verify(manifest), [{ key: record.key, ok: true }]);
  await repo.commit(manifest); // a retried commit whose first attempt was stored
  await t.throwsAsync(repo.commit({ ...manifest, node: 'n2' }), { instanceOf: ConflictError, message: /already committed/ });
});

test('content compressed outside (no raw checksum) round-trips; the zstd content checksum still catches damaged content', async (t) => {
  const repo = new Repository(new MemoryStore(), 'shop', codec);
  const content = Buffer.concat([Buffer.alloc(300_000, 'y'), randomBytes(100_000)]);
  const compressed = await drain(Readable.from([content]).pipe(codec.compress()));
  const id = newSnapshotId();
  const record = await repo.writeObject(`snapshots/${id}/db.xbstream.zst`, Readable.from([compressed]), {
    format: 'xbstream',
    compressed: true,
  });
  t.is(record.raw, undefined);
  t.is(record.stored.size, compressed.length);
  t.true((await drain(await repo.openObject(record))).equals(content));

  // Damage made before the bytes reached us: the stored checksum matches them, only zstd can tell.
  const damaged = Buffer.from(compressed);
  const at = damaged.length - 1000; // inside the random (stored as-is) tail, before the checksum
  damaged[at] = (damaged[at] ?? 0) ^ 0x01;
  const bad = await repo.writeObject(`snapshots/${id}/bad.xbstream.zst`, Readable.from([damaged]), {
    format: 'xbstream',
    compressed: true,
  });
  await repo.commit(manifestFor(id, [record, bad]));
  const results = await repo.verify(await repo.manifest(id));
  t.deepEqual(results[0], { key: record.key, ok: true });
  t.false(results[1]?.ok);
  t.regex(results[1]?.error ?? '', /bad\.xbstream\.zst/);
});

test('a flipped stored byte fails verify and reads, naming the object', async (t) => {
  const store = new MemoryStore();
  const repo = new Repository(store, 'shop', codec);
  const id = newSnapshotId();
  const record = await repo.writeObject(`snapshots/${id}/db.sql.zst`, Readable.from([randomBytes(200_000)]), { format: 'sql' });
  await repo.commit(manifestFor(id, [record]));
  const key = `shop/${record.key}`;
  const bytes = await getBuffer(store, key);
  const at = Math.floor(bytes.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x01;
  await store.put(key, bytes);
  const [result] = await repo.verify(await repo.manifest(id));
  t.false(result?.ok);
  t.regex(result?.error ?? '', /db\.sql\.zst/);
  const err = await t.throwsAsync(async () => drain(await repo.openObject(record)));
  t.true(err instanceof IntegrityError);
  t.regex(err?.message ?? '', /db\.sql\.zst/);
});

test('a tampered manifest is rejected', async (t) => {
  const store = new MemoryStore();
  const repo = new Repository(store, 'shop', codec);
  const id = newSnapshotId();
  await repo.commit(manifestFor(id, []));
  const key = `shop/snapshots/${id}/manifest.json`;
  await store.put(key, Buffer.from((await getBuffer(store, key)).toString().replace('"n1"', '"n2"')));
  await t.throwsAsync(repo.manifest(id), { instanceOf: IntegrityError, message: /manifest checksum mismatch/ });
  await t.throwsAsync(repo.manifest('2026-01-01T00-00-00Z-abcdef'), { instanceOf: NotFoundError });
});

test('a failing source stores nothing', async (t) => {
  const store = new MemoryStore();
  const repo = new Repository(store, 'shop', codec);
  const source = new Readable({
    read() {
      this.destroy(new Error('mariadb-backup died'));
    },
  });
  await t.throwsAsync(repo.writeObject('snapshots/x/db.xbstream.zst', source, { format: 'xbstream' }), {
    message: /mariadb-backup died/,
  });
  const keys: string[] = [];
  for await (const o of store.list('')) keys.push(o.key);
  t.deepEqual(keys, []);
});
