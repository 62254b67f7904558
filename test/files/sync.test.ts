import { readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { restoreFiles } from '../../restore/files.js';
import { syncFiles } from '../../restore/media-sync.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { AREAS, cleanup, describeTree, put, repoOn, sampleTree, snapshotAndCommit, tempDir, treeDiff } from './fixtures.js';

const notCache = (p: string): boolean => p === 'catalog/product/cache' || p.startsWith('catalog/product/cache/');

test('syncing an area into a copy transfers only what differs and deletes what the snapshot does not have', async (t) => {
  const root = tempDir('sync-src');
  const target = tempDir('sync-dst');
  t.teardown(() => cleanup(root, target));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const expected = describeTree(join(root, 'pub/media'), notCache);

  // an empty target gets everything
  const first = await syncFiles({ repo, manifest, area: 'pub/media', target });
  t.true(first.copied > 0);
  t.is(first.unchanged, 0);
  t.deepEqual(
    treeDiff(expected, describeTree(target)).filter((d) => !d.startsWith('.:')),
    [],
  );

  // Staging drifts: a changed file, a missing one, an extra file and directory, a file where a symlink was
  const [changed, missing] = Object.entries(expected)
    .filter(([, e]) => e.type === 'file')
    .map(([p]) => p);
  writeFileSync(join(target, changed as string), 'edited on Staging');
  rmSync(join(target, missing as string));
  put(target, 'staging-only/upload.jpg', 'x');
  rmSync(join(target, 'current'));
  writeFileSync(join(target, 'current'), 'not a link');
  const second = await syncFiles({ repo, manifest, area: 'pub/media', target });
  t.is(second.copied, 3, 'the changed file, the missing one and the symlink');
  t.is(second.deleted, 3, "the extra file, its directory, and the file in the symlink's place");
  t.is(second.unchanged, first.copied - 3);
  t.deepEqual(
    treeDiff(expected, describeTree(target)).filter((d) => !d.startsWith('.:')),
    [],
  );

  // nothing differs: nothing is written
  const before = statSync(join(target, changed as string)).ino;
  const third = await syncFiles({ repo, manifest, area: 'pub/media', target });
  t.deepEqual([third.copied, third.deleted], [0, 0]);
  t.is(statSync(join(target, changed as string)).ino, before);
  t.not(readFileSync(join(target, changed as string), 'utf8'), 'edited on Staging');
});

test('a restore can be limited to some files (directories are always made)', async (t) => {
  const root = tempDir('only-src');
  const target = tempDir('only-dst');
  t.teardown(() => cleanup(root, target));
  sampleTree(root);
  symlinkSync('x', join(root, 'pub/media', 'extra-link'));
  const repo = repoOn(new MemoryStore());
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const r = await restoreFiles({
    repo,
    manifest,
    area: 'pub/media',
    target: join(target, 'a'),
    include: (e) => e.path === 'extra-link',
  });
  t.deepEqual([r.files, r.symlinks], [0, 1]);
});
