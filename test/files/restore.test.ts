import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { restoreFiles } from '../../restore/files.js';
import { openFileList, type RegularFileEntry } from '../../src/files/index.js';
import { ConflictError, IntegrityError, NotFoundError } from '../../src/lib/errors.js';
import { sha256Hex } from '../../src/lib/hashing.js';
import { FsStore } from '../../src/storage/fs-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { getBuffer } from '../../src/storage/object-store.js';
import { AREAS, cleanup, describeTree, put, repoOn, sampleTree, snapshotAndCommit, tempDir, treeDiff } from './fixtures.js';
import { runRecipe } from './recipe.js';

const notCache = (p: string): boolean => p === 'catalog/product/cache' || p.startsWith('catalog/product/cache/');

async function fileEntries(repo: ReturnType<typeof repoOn>, manifest: Parameters<typeof restoreFiles>[0]['manifest']) {
  const record = manifest.objects.find((o) => o.key.endsWith('files-area.jsonl.zst'));
  if (!record) throw new Error('no list');
  const out: RegularFileEntry[] = [];
  for await (const e of (await openFileList(repo, record)).entries) if (e.type === 'file') out.push(e);
  return out;
}

/** A tree of 60 distinct small files and two larger than the 32 KiB frames used below. */
function manyFiles(root: string): void {
  for (let i = 0; i < 60; i++) put(root, `area/dir${i % 5}/file${i}.txt`, `content of file ${i}\n`.repeat(50 + i));
  put(root, 'area/big/one.bin', Buffer.alloc(100_000, 7));
  put(root, 'area/big/two.bin', Buffer.alloc(70_000, 9));
}

test('packs are plain .tar.zst, and every frame decompresses alone into whole tar entries', async (t) => {
  const root = tempDir('frames');
  const storeDir = tempDir('frames-store');
  t.teardown(() => cleanup(root, storeDir));
  manyFiles(root);
  const repo = repoOn(new FsStore(storeDir));
  const { result, manifest } = await snapshotAndCommit({
    repo,
    root,
    areas: [{ name: 'area', path: 'area' }],
    frameBytes: 32 * 1024,
    packBytes: 256 * 1024,
  });
  t.true(result.stats.packs >= 2);
  t.true(
    (await repo.verify(manifest)).every((r) => r.ok),
    'stored and raw checksums of packs and lists',
  );
  const files = await fileEntries(repo, manifest);

  for (const pack of result.part.packs) {
    const path = join(storeDir, 'shop', pack.key);
    t.regex(pack.key, /^packs\/([0-9a-f]{2})\/\1[0-9a-f]{30}\.tar\.zst$/);
    const listing = spawnSync('bash', ['-c', `zstd -dc '${path}' | tar -t`], { encoding: 'utf8' });
    t.is(listing.status, 0, listing.stderr);
    const names = listing.stdout.trim().split('\n').sort();
    const expected = [...new Set(files.filter((f) => f.pack === pack.key).map((f) => f.sha256))].sort();
    t.deepEqual(names, expected);

    const out = tempDir('frames-x');
    const x = spawnSync('bash', ['-c', `zstd -dc '${path}' | tar -x -C '${out}'`], { encoding: 'utf8' });
    t.is(x.status, 0, x.stderr);
    for (const name of readdirSync(out))
      t.is(sha256Hex(readFileSync(join(out, name))), name, 'each entry is named by its sha256');
    cleanup(out);
  }

  const stored = new Map<string, Buffer>();
  for (const f of files) {
    const pack = f.pack as string;
    if (!stored.has(pack)) stored.set(pack, readFileSync(join(storeDir, 'shop', pack)));
    const frame = f.frame as { offset: number; length: number };
    const bytes = (stored.get(pack) as Buffer).subarray(frame.offset, frame.offset + frame.length);
    const raw = spawnSync('zstd', ['-dc'], { input: bytes });
    t.is(raw.status, 0, `frame of ${f.path} decompresses alone`);
    const tar = raw.stdout as Buffer;
    t.is(tar.length % 512, 0);
    const header = tar.subarray(f.entry as number, (f.entry as number) + 512);
    t.is(header.subarray(0, 64).toString(), f.sha256);
    const content = tar.subarray((f.entry as number) + 512, (f.entry as number) + 512 + f.size);
    t.is(sha256Hex(content), f.sha256);
  }
  t.true(
    files.some((f) => f.path === 'big/one.bin' && f.entry === 0),
    'a large file has a frame of its own',
  );
});

test('a corrupted pack fails the restore with an IntegrityError naming the file and the pack', async (t) => {
  const root = tempDir('corrupt');
  const storeDir = tempDir('corrupt-store');
  const target = tempDir('corrupt-dst');
  t.teardown(() => cleanup(root, storeDir, target));
  put(root, 'area/only.bin', Buffer.alloc(50_000, 3));
  const repo = repoOn(new FsStore(storeDir));
  const { manifest, result } = await snapshotAndCommit({ repo, root, areas: [{ name: 'area', path: 'area' }] });
  const pack = result.part.packs[0]?.key as string;
  const path = join(storeDir, 'shop', pack);
  const bytes = readFileSync(path);
  const at = Math.floor(bytes.length / 3);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
  const err = await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target, force: true }));
  t.true(err instanceof IntegrityError, String(err));
  t.regex(err?.message ?? '', /file 'only\.bin'/);
  t.true(err?.message.includes(pack), err?.message);
});

test('content that decodes but differs is caught by the sha256, naming the file and the pack', async (t) => {
  const root = tempDir('swap');
  const target = tempDir('swap-dst');
  t.teardown(() => cleanup(root, target));
  put(root, 'area/x.txt', randomBytes(2000));
  const store = new MemoryStore();
  const repo = repoOn(store);
  const { manifest, result } = await snapshotAndCommit({ repo, root, areas: [{ name: 'area', path: 'area' }] });
  const pack = result.part.packs[0]?.key as string;
  const [entry] = await fileEntries(repo, manifest);
  const frame = entry?.frame as { offset: number; length: number };
  const original = await getBuffer(store, `shop/${pack}`);
  // the same tar entry with one byte of content changed, recompressed, padded with a skippable
  // frame to the recorded length: it decodes fine, only the sha256 can tell
  const raw = spawnSync('zstd', ['-dc'], { input: original.subarray(frame.offset, frame.offset + frame.length) })
    .stdout as Buffer;
  raw[512 + 800] = (raw[512 + 800] ?? 0) ^ 0xff;
  const forged = spawnSync('zstd', ['-q', '-c', '-3', '-T1'], { input: raw }).stdout as Buffer;
  const room = frame.length - forged.length;
  t.true(room === 0 || room >= 8, `forged frame fits (${room} bytes to spare)`);
  const skippable = Buffer.alloc(room);
  if (room > 0) {
    skippable.writeUInt32LE(0x184d2a50, 0);
    skippable.writeUInt32LE(room - 8, 4);
  }
  await store.put(
    `shop/${pack}`,
    Buffer.concat([original.subarray(0, frame.offset), forged, skippable, original.subarray(frame.offset + frame.length)]),
  );
  const err = await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target, force: true }));
  t.true(err instanceof IntegrityError, String(err));
  t.regex(err?.message ?? '', /^file 'x\.txt': restored content .* differs from the list/);
  t.true(err?.message.includes(pack), err?.message);
  t.false(existsSync(join(target, 'x.txt')), 'the bad file is not left behind');
});

test('a subpath restore writes only that subpath (and its parent directories)', async (t) => {
  const root = tempDir('sub');
  const target = tempDir('sub-dst');
  t.teardown(() => cleanup(root, target));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const result = await restoreFiles({ repo, manifest, area: 'pub/media', path: 'catalog/product/a', target });
  t.is(result.files, 2);
  const tree = describeTree(target);
  t.deepEqual(Object.keys(tree).sort(), [
    'catalog',
    'catalog/product',
    'catalog/product/a',
    'catalog/product/a/b',
    'catalog/product/a/b/ab-red.jpg',
    'catalog/product/a/c',
    'catalog/product/a/c/ac-blue.jpg',
  ]);
  const source = describeTree(join(root, 'pub/media'), (p) => notCache(p) || !/^catalog(\/product(\/a(\/.*)?)?)?$/.test(p));
  t.deepEqual(treeDiff(source, tree), []);

  const one = tempDir('sub-one');
  t.teardown(() => cleanup(one));
  await restoreFiles({ repo, manifest, area: 'pub/media', path: 'wysiwyg/banners/hero.png', target: one });
  t.deepEqual(Object.keys(describeTree(one)).sort(), ['wysiwyg', 'wysiwyg/banners', 'wysiwyg/banners/hero.png']);

  const none = tempDir('sub-none');
  t.teardown(() => cleanup(none));
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'pub/media', path: 'no/such/thing', target: none }), {
    instanceOf: NotFoundError,
    message: /area 'pub\/media' has no path 'no\/such\/thing'/,
  });
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'var', target }), {
    instanceOf: NotFoundError,
    message: /no file area 'var'/,
  });
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'pub/media', path: '../etc', target }), {
    message: /without '\.' or '\.\.'/,
  });
});

test('a dry run lists what would be written and touches nothing; a non-empty target needs force', async (t) => {
  const root = tempDir('dry');
  const target = join(tempDir('dry-dst'), 'not-yet');
  t.teardown(() => cleanup(root, join(target, '..')));
  sampleTree(root);
  const repo = repoOn(new MemoryStore());
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const dry = await restoreFiles({ repo, manifest, area: 'pub/media', path: 'wysiwyg', target, dryRun: true });
  t.deepEqual(dry.planned, [
    'wysiwyg/',
    'wysiwyg/banners/',
    'wysiwyg/banners/copy-of-hero.txt',
    'wysiwyg/banners/hero.png',
    'wysiwyg/banners/same.txt',
  ]);
  t.is(dry.files, 3);
  t.is(dry.bytes, 300_000 + 2 * 1900);
  t.false(existsSync(target));
  const all = await restoreFiles({ repo, manifest, area: 'pub/media', target, dryRun: true });
  t.true(all.planned?.includes('current -> catalog'));
  t.true(all.planned?.includes('import/deep/empty/'));

  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'keep-me'), 'x');
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'app/etc', target }), {
    instanceOf: ConflictError,
    message: /not empty/,
  });
  t.true(existsSync(join(target, 'keep-me')));
  await restoreFiles({ repo, manifest, area: 'app/etc', target, force: true });
  t.deepEqual(readdirSync(target).sort(), ['config.php', 'env.php']);
});

test('the documented emergency recipe (zstd, tar, jq, sh) restores the same tree', async (t) => {
  const root = tempDir('recipe');
  const storeDir = tempDir('recipe-store');
  const work = tempDir('recipe-work');
  t.teardown(() => cleanup(root, storeDir, work));
  sampleTree(root);
  manyFiles(join(root, 'pub/media/more'));
  const repo = repoOn(new FsStore(storeDir));
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS, frameBytes: 32 * 1024, packBytes: 128 * 1024 });
  const list = manifest.objects.find((o) => o.key.endsWith('files-pub-media.jsonl.zst'))?.key as string;
  const target = join(work, 'tree');
  const run = runRecipe(`cat "${join(storeDir, 'shop')}/$1"`, { LIST: list, TARGET: target, WORK: join(work, 'scratch') });
  t.is(run.status, 0, run.stderr);
  t.deepEqual(treeDiff(describeTree(join(root, 'pub/media'), notCache), describeTree(target)), []);
  const [src, dst] = [statSync(join(root, 'pub/media'), { bigint: true }), statSync(target, { bigint: true })];
  t.is(dst.mode & 0o7777n, src.mode & 0o7777n, 'the area directory’s mode');
  t.is(dst.mtimeNs, src.mtimeNs, 'the area directory’s mtime, to the nanosecond (touch -d)');
});
