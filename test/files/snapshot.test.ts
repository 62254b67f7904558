import { appendFileSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { restoreFiles } from '../../restore/files.js';
import { openFileList, type RegularFileEntry } from '../../src/files/index.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { AREAS, cleanup, describeTree, put, repoOn, sampleTree, snapshotAndCommit, tempDir, treeDiff } from './fixtures.js';

const notCache = (p: string): boolean => p === 'catalog/product/cache' || p.startsWith('catalog/product/cache/');

async function listEntries(
  repo: ReturnType<typeof repoOn>,
  manifest: Parameters<typeof restoreFiles>[0]['manifest'],
  area: string,
) {
  const key = `snapshots/${manifest.id}/files-${area.replaceAll('/', '-')}.jsonl.zst`;
  const record = manifest.objects.find((o) => o.key === key);
  if (!record) throw new Error(`no list ${key}`);
  const list = await openFileList(repo, record);
  const entries = [];
  for await (const e of list.entries) entries.push(e);
  return { header: list.header, entries };
}

test('a snapshot restores to an identical tree: content, modes, mtimes, symlinks, empty dirs', async (t) => {
  const root = tempDir('src');
  const target = tempDir('dst');
  t.teardown(() => cleanup(root, target));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const { result, manifest } = await snapshotAndCommit({ repo, root, areas: AREAS, frameBytes: 64 * 1024 });
  t.is(result.status, 'complete');
  t.deepEqual(result.problems, []);
  t.is(result.stats.files, 10, 'cache excluded, empty file kept');
  t.is(result.stats.dedupedFiles, 1, 'two files with the same content are stored once');
  t.is(result.stats.symlinks, 2);
  t.true(result.objects.some((o) => o.key.startsWith('packs/')));

  const restored = await restoreFiles({ repo, manifest, area: 'pub/media', target: join(target, 'media') });
  t.is(restored.files, 8);
  t.deepEqual(treeDiff(describeTree(join(root, 'pub/media'), notCache), describeTree(join(target, 'media'))), []);
  await restoreFiles({ repo, manifest, area: 'app/etc', target: join(target, 'etc') });
  t.deepEqual(treeDiff(describeTree(join(root, 'app/etc')), describeTree(join(target, 'etc'))), []);

  const { header, entries } = await listEntries(repo, manifest, 'pub/media');
  t.is(header.format, 'lifeboat-files/1');
  t.is(header.entries, entries.length);
  t.deepEqual(
    entries.map((e) => e.path),
    [...entries.map((e) => e.path)].sort(),
  );
  const hero = entries.find((e) => e.path === 'wysiwyg/banners/hero.png') as RegularFileEntry;
  t.is(hero.size, 300_000);
  t.is(hero.entry, 0, 'a file larger than a frame has a frame of its own');
  const red = entries.find((e) => e.path === 'catalog/product/a/b/ab-red.jpg') as RegularFileEntry;
  t.is(red.mtime, '2023-11-14T22:13:20.123456000Z');
});

test('globs: excluded directories are not descended, includes keep the directories leading to matches', async (t) => {
  const root = tempDir('globs');
  t.teardown(() => cleanup(root));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const { manifest } = await snapshotAndCommit({
    repo,
    root,
    areas: [{ name: 'images', path: 'pub/media', include: ['**/*.jpg'], exclude: ['catalog/product/cache'] }],
  });
  const { entries } = await listEntries(repo, manifest, 'images');
  t.deepEqual(
    entries.map((e) => `${e.type} ${e.path}`),
    [
      'dir catalog',
      'dir catalog/product',
      'dir catalog/product/a',
      'dir catalog/product/a/b',
      'file catalog/product/a/b/ab-red.jpg',
      'dir catalog/product/a/c',
      'file catalog/product/a/c/ac-blue.jpg',
    ],
  );
});

test('an unchanged file is not read again; changed, added and deleted files are noticed', async (t) => {
  const root = tempDir('incr');
  const target = tempDir('incr-dst');
  t.teardown(() => cleanup(root, target));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const first = await snapshotAndCommit({ repo, root, areas: AREAS });
  t.is(first.result.stats.reusedFiles, 0);

  const reads: string[] = [];
  const readHook = (path: string): void => {
    reads.push(path);
  };
  const second = await snapshotAndCommit({ repo, root, areas: AREAS, previous: first.manifest, readHook });
  t.deepEqual(reads, [], 'nothing is read when nothing changed');
  t.is(second.result.stats.reusedFiles, 10);
  t.is(second.result.stats.packs, 0);
  t.is(second.result.stats.newBytes, 0);
  t.deepEqual(
    second.result.part.packs.map((p) => p.key),
    first.result.part.packs.map((p) => p.key),
    'the packs of the first snapshot are carried forward',
  );
  for (const area of AREAS) {
    t.deepEqual(
      (await listEntries(repo, second.manifest, area.name)).entries,
      (await listEntries(repo, first.manifest, area.name)).entries,
      `${area.name}: an unchanged tree is listed the same`,
    );
  }
  t.deepEqual(
    second.result.part.areas.map((a) => [a.files, a.dirs, a.symlinks, a.bytes]),
    first.result.part.areas.map((a) => [a.files, a.dirs, a.symlinks, a.bytes]),
  );

  put(root, 'pub/media/catalog/product/a/b/ab-red.jpg', 'new red\n');
  put(root, 'pub/media/new/added.txt', 'added\n');
  put(root, 'pub/media/new/dup-of-env.php', "<?php return ['db' => 'x'];\n");
  rmSync(join(root, 'pub/media/wysiwyg/banners/hero.png'));
  // given as a promise, as `lifeboat snapshot` does while it still looks for the previous snapshot
  const third = await snapshotAndCommit({ repo, root, areas: AREAS, previous: Promise.resolve(second.manifest), readHook });
  t.deepEqual(reads.sort(), ['catalog/product/a/b/ab-red.jpg', 'new/added.txt', 'new/dup-of-env.php']);
  t.is(third.result.stats.newBlobs, 2, 'content already stored in another area is not stored again');
  t.is(third.result.stats.newBytes, 'new red\n'.length + 'added\n'.length);
  const { entries } = await listEntries(repo, third.manifest, 'pub/media');
  t.false(
    entries.some((e) => e.path === 'wysiwyg/banners/hero.png'),
    'a deleted file is absent',
  );
  t.true(entries.some((e) => e.path === 'new/added.txt'));

  await restoreFiles({ repo, manifest: third.manifest, area: 'pub/media', target });
  t.deepEqual(treeDiff(describeTree(join(root, 'pub/media'), notCache), describeTree(target)), []);
});

test('a file changed between reads is read again; one that never settles is flagged, never torn', async (t) => {
  const root = tempDir('torn');
  const target = tempDir('torn-dst');
  t.teardown(() => cleanup(root, target));
  const T0 = 1_600_000_000;
  put(root, 'area/settles.log', 'line\n'.repeat(100));
  put(root, 'area/busy.log', 'line\n'.repeat(100), { mtime: T0 });
  put(root, 'area/big.bin', Buffer.alloc(200_000, 1));
  const attempts = new Map<string, number>();
  // appends between the read and the second stat; busy.log gets whole-second mtimes so that its
  // recorded stat can be reproduced exactly afterwards
  const readHook = (path: string, attempt: number): void => {
    attempts.set(path, attempt);
    const abs = join(root, 'area', path);
    if (path === 'settles.log' && attempt === 1) appendFileSync(abs, 'more\n');
    if (path === 'big.bin') appendFileSync(abs, 'more\n');
    if (path === 'busy.log') {
      appendFileSync(abs, 'more\n');
      utimesSync(abs, T0 + attempt, T0 + attempt);
    }
  };
  const logger = new MemoryLogger();
  const repo = repoOn(new MemoryStore());
  const area = [{ name: 'area', path: 'area' }];
  const { result, manifest } = await snapshotAndCommit({ repo, root, areas: area, frameBytes: 64 * 1024, readHook, logger });
  t.is(attempts.get('settles.log'), 2);
  t.is(attempts.get('busy.log'), 3);
  t.is(attempts.get('big.bin'), 3);
  t.is(result.status, 'complete');
  t.is(result.stats.changedDuringBackup, 2);
  const warnings = logger.records.filter((r) => r.level === 'warn' && /kept changing/.test(r.message));
  t.deepEqual(warnings.map((w) => w.fields.path).sort(), ['big.bin', 'busy.log']);
  const { entries } = await listEntries(repo, manifest, 'area');
  const byPath = new Map(entries.map((e) => [e.path, e as RegularFileEntry]));
  t.is(byPath.get('settles.log')?.changedDuringBackup, undefined);
  t.is(byPath.get('settles.log')?.size, 'line\n'.length * 100 + 'more\n'.length, 'the settled content');
  t.true(byPath.get('busy.log')?.changedDuringBackup);
  // what is stored is exactly what the last read saw (its first stat's size), with its own sha256
  t.is(byPath.get('busy.log')?.size, 'line\n'.length * 100 + 2 * 'more\n'.length);
  t.is(byPath.get('busy.log')?.mtime, '2020-09-13T12:26:42.000000000Z');
  t.is(byPath.get('big.bin')?.size, 200_000 + 2 * 'more\n'.length);
  await restoreFiles({ repo, manifest, area: 'area', target });
  t.is(readFileSync(join(target, 'busy.log'), 'utf8'), `${'line\n'.repeat(100)}${'more\n'.repeat(2)}`);
  t.is(statSync(join(target, 'big.bin')).size, 200_010);

  // a flagged file is never trusted as unchanged, even when its stat matches the list again
  truncateSync(join(root, 'area/busy.log'), 510);
  utimesSync(join(root, 'area/busy.log'), T0 + 2, T0 + 2);
  attempts.clear();
  await snapshotAndCommit({ repo, root, areas: area, previous: manifest, readHook: (p, a) => void attempts.set(p, a) });
  t.deepEqual([...attempts.keys()].sort(), ['big.bin', 'busy.log']);
});

test('a vanished file is skipped and counted; an unreadable one makes the run partial', async (t) => {
  const root = tempDir('problems');
  t.teardown(() => cleanup(root));
  put(root, 'area/a.txt', 'a');
  put(root, 'area/b.txt', 'b');
  put(root, 'area/c.txt', 'c');
  const readHook = (path: string): void => {
    if (path === 'a.txt') rmSync(join(root, 'area/b.txt'));
    if (path === 'c.txt') throw Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
  };
  const logger = new MemoryLogger();
  const repo = repoOn(new MemoryStore());
  const { result, manifest } = await snapshotAndCommit({
    repo,
    root,
    areas: [{ name: 'area', path: 'area' }],
    concurrency: 1,
    readHook,
    logger,
  });
  t.is(result.status, 'partial');
  t.is(result.stats.vanished, 1);
  t.is(result.part.status, 'partial');
  t.is(result.part.problemCount, 1);
  t.like(result.problems[0], { area: 'area', path: 'c.txt', code: 'EIO' });
  t.regex(result.problems[0]?.message ?? '', /area 'area': file 'c\.txt': EIO/);
  t.true(logger.records.some((r) => r.level === 'warn' && /partial/.test(r.message)));
  const { entries } = await listEntries(repo, manifest, 'area');
  t.deepEqual(
    entries.map((e) => e.path),
    ['a.txt'],
  );
});

test('a previous snapshot that cannot be found fails the run, leaving nothing stored', async (t) => {
  const root = tempDir('noprev');
  t.teardown(() => cleanup(root));
  sampleTree(root);
  const store = new MemoryStore();
  const repo = repoOn(store);
  const previous = Promise.reject(new Error('listing snapshots failed'));
  await t.throwsAsync(snapshotAndCommit({ repo, root, areas: AREAS, previous }), { message: 'listing snapshots failed' });
  const left = [];
  for await (const o of store.list('')) left.push(o.key);
  t.deepEqual(left, []);
});

test('a missing area directory is a problem, not a silent empty success', async (t) => {
  const root = tempDir('missing');
  t.teardown(() => cleanup(root));
  put(root, 'app/etc/env.php', 'x');
  const repo = repoOn(new MemoryStore());
  const { result } = await snapshotAndCommit({
    repo,
    root,
    areas: [
      { name: 'var', path: 'var' },
      { name: 'app/etc', path: 'app/etc' },
    ],
  });
  t.is(result.status, 'partial');
  t.like(result.problems[0], { area: 'var', path: '', code: 'ENOENT' });
  t.is(result.stats.files, 1);
});

test('area names are validated all at once', async (t) => {
  const repo = repoOn(new MemoryStore());
  await t.throwsAsync(
    snapshotAndCommit({
      repo,
      root: '/nonexistent',
      areas: [
        { name: 'pub/media', path: '../etc' },
        { name: 'pub-media', path: 'x' },
      ],
    }),
    { message: /path '\.\.\/etc'.*collides with area 'pub\/media'/ },
  );
});

test('many small files fill frames and packs; frames and packs rotate at their sizes', async (t) => {
  const root = tempDir('many');
  const target = tempDir('many-dst');
  t.teardown(() => cleanup(root, target));
  for (let i = 0; i < 120; i++) put(root, `area/d${i % 7}/f${i}.bin`, Buffer.alloc(3000 + i, i));
  writeFileSync(join(root, 'area/zero'), '');
  const repo = repoOn(new MemoryStore());
  const { result, manifest } = await snapshotAndCommit({
    repo,
    root,
    areas: [{ name: 'area', path: 'area' }],
    frameBytes: 32 * 1024,
    packBytes: 128 * 1024,
  });
  t.true(result.stats.packs >= 3, `${result.stats.packs} packs`);
  t.true(
    result.part.packs.every((p) => (p.raw?.size ?? Infinity) <= 128 * 1024 + 1024),
    'a pack closes before a blob would take it past packBytes',
  );
  const { entries } = await listEntries(repo, manifest, 'area');
  const frames = new Set(entries.map((e) => (e.type === 'file' && e.pack ? `${e.pack}@${e.frame?.offset}` : '')).filter(Boolean));
  t.true(frames.size >= 10, `${frames.size} frames`);
  await restoreFiles({ repo, manifest, area: 'area', target, concurrency: 4 });
  t.deepEqual(treeDiff(describeTree(join(root, 'area')), describeTree(target)), []);
});
