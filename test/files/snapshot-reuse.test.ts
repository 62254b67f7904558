import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { snapshotFiles } from '../../jobs/files-snapshot.js';
import { takeSnapshot } from '../../jobs/snapshot.js';
import { restoreFiles } from '../../restore/files.js';
import { filesPartOf } from '../../src/files/index.js';
import { PermanentError } from '../../src/lib/errors.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import { FsStore } from '../../src/storage/fs-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { cleanup, describeTree, put, repoOn, snapshotAndCommit, tempDir, treeDiff } from './fixtures.js';

/** `store` counting the packs put, and failing puts whose key `fails` matches (while it does). */
function instrumented(store: ObjectStore) {
  const state = { packPuts: 0, fails: undefined as RegExp | undefined };
  const wrapped: ObjectStore = {
    location: store.location,
    put: async (k, b, o) => {
      if (state.fails?.test(k)) {
        if (!Buffer.isBuffer(b)) for await (const _ of b); // the server answers once it has the body
        throw new PermanentError(`object '${k}': injected put failure`);
      }
      if (/\/packs\//.test(k)) state.packPuts++;
      return store.put(k, b, o);
    },
    putIfAbsent: async (k, b, o) => {
      if (state.fails?.test(k)) throw new PermanentError(`object '${k}': injected put failure`);
      return store.putIfAbsent(k, b, o);
    },
    get: (k, o) => store.get(k, o),
    head: (k) => store.head(k),
    list: (p) => store.list(p),
    delete: (k) => store.delete(k),
    cleanupIncomplete: (p, d) => store.cleanupIncomplete(p, d),
  };
  return { state, store: wrapped };
}

function tree(root: string): void {
  for (let i = 0; i < 40; i++) put(root, `area/d${i % 4}/f${i}.txt`, `file ${i} `.repeat(400 + i * 20));
}

const AREA = [{ name: 'area', path: 'area' }];

test('a snapshot whose commit fails leaves its packs to the next run, which uploads no pack again', async (t) => {
  const root = tempDir('reuse');
  const storeDir = tempDir('reuse-store');
  const dst = tempDir('reuse-dst');
  t.teardown(() => cleanup(root, storeDir, dst));
  tree(root);
  const { state, store } = instrumented(new FsStore(storeDir));
  const repo = repoOn(store);
  const common = { repo, node: 'n1', toolVersion: 'test', files: { root, areas: AREA, source: 'mount' as const } };

  state.fails = /manifest\.json$/;
  await t.throwsAsync(takeSnapshot(common), { message: /injected put failure/ });
  state.fails = undefined;
  t.deepEqual(await repo.snapshotIds(), [], 'nothing committed');
  const firstPuts = state.packPuts;
  t.true(firstPuts >= 1);

  state.packPuts = 0;
  const second = await takeSnapshot(common);
  t.is(state.packPuts, 0, 'no pack uploaded again');
  const part = filesPartOf(second.manifest);
  t.is(part?.packs.length, firstPuts, 'the failed run’s packs are referenced');
  t.true((await repo.verify(second.manifest, { also: part?.packs ?? [] })).every((r) => r.ok));
  await restoreFiles({ repo, manifest: second.manifest, area: 'area', target: join(dst, 'area') });
  t.deepEqual(treeDiff(describeTree(join(root, 'area')), describeTree(join(dst, 'area'))), []);
});

test('a run failing while writing its lists keeps its indexed packs; a corrupted or missing one is not reused', async (t) => {
  const root = tempDir('reuse2');
  const storeDir = tempDir('reuse2-store');
  const dst = tempDir('reuse2-dst');
  t.teardown(() => cleanup(root, storeDir, dst));
  tree(root);
  const { state, store } = instrumented(new FsStore(storeDir));
  const repo = repoOn(store);
  const sizes = { frameBytes: 8 * 1024, packBytes: 40 * 1024, source: 'mount' as const };

  state.fails = /files-area\.jsonl\.zst$/;
  const failedId = newSnapshotId(new Date(Date.now() - 60_000));
  await t.throwsAsync(snapshotFiles({ repo, root, areas: AREA, snapshotId: failedId, ...sizes }), {
    message: /injected put failure/,
  });
  state.fails = undefined;
  const packsDir = join(storeDir, 'shop', 'packs');
  const packs = readdirSync(packsDir).flatMap((aa) => readdirSync(join(packsDir, aa)).map((f) => join(packsDir, aa, f)));
  t.true(packs.length >= 4, `${packs.length} packs`);
  t.is(readdirSync(join(storeDir, 'shop', 'snapshots', failedId)).filter((n) => n.startsWith('pack-')).length, packs.length);

  // one pack damaged (same size), one gone
  const [damaged, gone] = packs as [string, string];
  const bytes = readFileSync(damaged);
  bytes[100] = (bytes[100] ?? 0) ^ 0xff;
  writeFileSync(damaged, bytes);
  rmSync(gone);

  state.packPuts = 0;
  const { result, manifest } = await snapshotAndCommit({ repo, root, areas: AREA, ...sizes });
  t.deepEqual(result.stats.leftoverPacks, { reused: packs.length - 2, refused: 2 });
  t.true(state.packPuts >= 1, 'the refused packs’ content is stored again');
  const keys = (filesPartOf(manifest)?.packs ?? []).map((p) => join(storeDir, 'shop', p.key));
  t.false(keys.includes(damaged));
  t.false(keys.includes(gone));
  t.true((await repo.verify(manifest, { also: filesPartOf(manifest)?.packs ?? [] })).every((r) => r.ok));
  await restoreFiles({ repo, manifest, area: 'area', target: join(dst, 'area') });
  t.deepEqual(treeDiff(describeTree(join(root, 'area')), describeTree(join(dst, 'area'))), []);
});

test('leftovers older than the reuse window are not looked at', async (t) => {
  const root = tempDir('reuse3');
  const storeDir = tempDir('reuse3-store');
  t.teardown(() => cleanup(root, storeDir));
  tree(root);
  const { state, store } = instrumented(new FsStore(storeDir));
  const repo = repoOn(store);
  await snapshotFiles({
    repo,
    root,
    areas: AREA,
    snapshotId: newSnapshotId(new Date(Date.now() - 13 * 3_600_000)),
    source: 'mount',
  });
  state.packPuts = 0;
  const { result } = await snapshotAndCommit({ repo, root, areas: AREA, source: 'mount' });
  t.deepEqual(result.stats.leftoverPacks, { reused: 0, refused: 0 });
  t.true(state.packPuts >= 1);
});
