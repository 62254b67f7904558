import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { snapshotFiles } from '../../jobs/files-snapshot.js';
import { restoreFiles } from '../../restore/files.js';
import { type AreaSpec, type FileEntry, filesPartOf, openFileList, type RegularFileEntry } from '../../src/files/index.js';
import { defaultGlusterd } from '../../src/gluster/index.js';
import { IntegrityError } from '../../src/lib/errors.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { isoFromNs } from '../../src/lib/time.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import { withPrefix } from '../../src/storage/decorators.js';
import { getBuffer } from '../../src/storage/object-store.js';
import { cleanup, codec, describeTree, snapshotAndCommit, tempDir, treeDiff } from '../files/fixtures.js';
import { runRecipe } from '../files/recipe.js';
import { testbedStore } from '../helpers/lifeboat.js';
import { need, s3Facts, uniqueName } from '../helpers/testbed.js';
import { generateMedia, mutateMedia } from '../testbed/datagen/generate-media.js';

// File snapshots of trees on the real GlusterFS FUSE mount, stored in Ceph RGW. Every test has its
// own directory under the mount and its own bucket prefix, and removes both.

const MOUNT = need('GLUSTER_MOUNT');
const CLUSTER = 'testbed';
const s3 = testbedStore();
test.after.always(() => s3.destroy());

/** Magento's areas with the documented default excludes. */
const AREAS: readonly AreaSpec[] = [
  { name: 'pub/media', path: 'pub/media', exclude: ['catalog/product/cache/**'] },
  { name: 'pub/static', path: 'pub/static' },
  { name: 'app/etc', path: 'app/etc' },
  { name: 'var', path: 'var', exclude: ['cache/**', 'page_cache/**', 'session/**', 'tmp/**'] },
];
const isCache = (p: string): boolean => p === 'catalog/product/cache' || p.startsWith('catalog/product/cache/');

interface Fixture {
  readonly root: string;
  readonly repo: Repository;
  readonly prefix: string;
}

/** A generated Magento tree on the mount and an empty repository under a fresh prefix. */
async function fixture(t: { teardown: (fn: () => Promise<void> | void) => void }, smallFiles = 40): Promise<Fixture> {
  const name = uniqueName('files');
  const root = join(MOUNT, name);
  const prefix = `${name}/repo`;
  t.teardown(async () => {
    cleanup(root, `${root}-restore`);
    const keys: string[] = [];
    for await (const o of s3.list(`${prefix}/`)) keys.push(o.key);
    if (keys.length > 0) await s3.delete(keys);
  });
  await generateMedia({ root, smallFiles, largeFiles: 1, staticFiles: 15, seed: 7 });
  return { root, repo: new Repository(withPrefix(s3, prefix), CLUSTER, codec), prefix };
}

async function listOf(repo: Repository, manifest: Manifest, area: string): Promise<RegularFileEntry[]> {
  const record = manifest.objects.find((o) => o.key.endsWith(`files-${area.replaceAll('/', '-')}.jsonl.zst`));
  if (!record) throw new Error(`no list for ${area}`);
  const out: RegularFileEntry[] = [];
  for await (const e of (await openFileList(repo, record)).entries) if (e.type === 'file') out.push(e);
  return out;
}

test('round trip through Gluster and Ceph: the restored tree equals the original', async (t) => {
  const { root, repo } = await fixture(t);
  const { result, manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  t.is(result.status, 'complete', JSON.stringify(result.problems));
  t.true(result.stats.files > 50);
  t.true(result.stats.symlinks >= 3, 'current, default, latest.log');
  t.is(result.stats.brickAreas, AREAS.length, 'the testbed volume is a healthy replica with local bricks: read from one');
  t.true((await repo.verify(manifest)).every((r) => r.ok));

  const target = `${root}-restore`;
  for (const area of AREAS) {
    const into = join(target, area.name);
    await restoreFiles({ repo, manifest, area: area.name, target: into });
    const skip =
      area.name === 'pub/media' ? isCache : area.name === 'var' ? (p: string) => /^(cache|session)(\/|$)/.test(p) : () => false;
    t.deepEqual(treeDiff(describeTree(join(root, area.path), skip), describeTree(into)), [], area.name);
  }
  const media = describeTree(join(target, 'pub/media'));
  t.is(media.import?.type, 'dir', 'empty directories are restored');
  t.is(media['tmp/catalog/product']?.type, 'dir');
  t.is(media.current?.target, 'catalog');
});

async function entriesOf(repo: Repository, manifest: Manifest, area: string): Promise<FileEntry[]> {
  const record = manifest.objects.find((o) => o.key.endsWith(`files-${area.replaceAll('/', '-')}.jsonl.zst`));
  if (!record) throw new Error(`no list for ${area}`);
  const out: FileEntry[] = [];
  for await (const e of (await openFileList(repo, record)).entries) out.push(e);
  return out;
}

const withoutBrick = (entries: FileEntry[]): FileEntry[] => entries.map(({ brick: _, ...e }) => e as FileEntry);

test('reading the local brick lists what the mount shows, and later runs ask the mount only about changes', async (t) => {
  const { root, repo } = await fixture(t);
  // brick keys of entries changed within 2 s of a run are not kept (racily clean): let the fixture age
  await sleep(2100);
  const viaMount = await snapshotAndCommit({ repo, root, areas: AREAS, source: 'mount' });
  t.is(viaMount.result.stats.brickAreas, 0);
  t.is(viaMount.result.stats.mountStats, 0);

  // first brick run after a mount run: every entry's mount view is needed once, nothing is read.
  // Gluster's xattrs on the brick answer (features.ctime is on by default); without them, lstats
  // through the mount do: both give exactly the mount's list.
  const reads: string[] = [];
  const readHook = (path: string): void => void reads.push(path);
  const viaLookups = await snapshotAndCommit({
    repo,
    root,
    areas: AREAS,
    previous: viaMount.manifest,
    readHook,
    brickOptions: { reader: async () => '' },
  });
  const first = await snapshotAndCommit({ repo, root, areas: AREAS, previous: viaMount.manifest, readHook });
  t.is(first.result.stats.brickAreas, AREAS.length);
  t.deepEqual(reads, [], 'size, mtime and inode as the mount shows them match the mount-read list');
  const total = first.result.stats.files + first.result.stats.dirs + first.result.stats.symlinks;
  t.is(viaLookups.result.stats.mountStats, total);
  t.is(first.result.stats.mountFromXattrs, total);
  t.is(first.result.stats.mountStats, 0);
  for (const area of AREAS) {
    const mountList = await entriesOf(repo, viaMount.manifest, area.name);
    for (const run of [viaLookups, first]) {
      const brickList = await entriesOf(repo, run.manifest, area.name);
      t.true(
        brickList.every((e) => e.brick !== undefined),
        `${area.name}: every entry carries its brick key`,
      );
      t.deepEqual(withoutBrick(brickList), mountList, `${area.name}: same list as the mount's`);
    }
  }

  // unchanged brick: no mount lookups at all; every line is the previous one
  const second = await snapshotAndCommit({ repo, root, areas: AREAS, previous: first.manifest, readHook });
  t.is(second.result.stats.mountStats + second.result.stats.mountFromXattrs, 0);
  t.deepEqual(reads, []);
  for (const area of AREAS)
    t.deepEqual(await entriesOf(repo, second.manifest, area.name), await entriesOf(repo, first.manifest, area.name));

  // one file rewritten: it alone is read from the brick; its mtime is the mount's
  const changed = join(root, 'app/etc/env.php');
  appendFileSync(changed, '// changed\n');
  const third = await snapshotAndCommit({ repo, root, areas: AREAS, previous: second.manifest, readHook });
  t.deepEqual(reads, ['env.php']);
  const lookedUp = third.result.stats.mountStats + third.result.stats.mountFromXattrs;
  t.true(lookedUp >= 1 && lookedUp <= 2, `mount views needed: ${lookedUp}`);
  const entry = (await entriesOf(repo, third.manifest, 'app/etc')).find((e) => e.path === 'env.php');
  t.is(entry?.mtime, isoFromNs(statSync(changed, { bigint: true }).mtimeNs));
  t.is(entry?.brick, undefined, 'changed within 2 s of the run: its brick key is not kept');
  t.is(entry?.type === 'file' ? entry.inode : undefined, BigInt.asUintN(64, statSync(changed, { bigint: true }).ino).toString());

  // its line has no brick key to compare, so it is looked at again, and found unchanged
  const fourth = await snapshotAndCommit({ repo, root, areas: AREAS, previous: third.manifest, readHook });
  t.deepEqual(reads, ['env.php'], 'not read again');
  const again = (await entriesOf(repo, fourth.manifest, 'app/etc')).find((e) => e.path === 'env.php');
  t.like(again, { mtime: entry?.mtime, size: entry?.type === 'file' ? entry.size : -1 });
  t.is(fourth.result.stats.reusedFiles, fourth.result.stats.files);
});

test('when the volume is no longer fully healed after the reads, what was read from the brick is flagged', async (t) => {
  const { root, repo } = await fixture(t);
  await sleep(2100);
  const first = await snapshotAndCommit({ repo, root, areas: AREAS });
  appendFileSync(join(root, 'app/etc/env.php'), '// changed\n');
  let healCounts = 0;
  const real = defaultGlusterd();
  const logger = new MemoryLogger();
  const second = await snapshotAndCommit({
    repo,
    root,
    areas: AREAS,
    previous: first.manifest,
    logger,
    brickOptions: {
      // the real glusterd, except that the second heal count (after the reads) shows a pending entry
      glusterd: {
        ...real,
        healCounts: async (volume, signal) => {
          const counts = await real.healCounts(volume, signal);
          if (++healCounts < 2) return counts;
          const [first] = counts.keys();
          return new Map([...counts].map(([brick, n]) => [brick, brick === first ? 1 : n]));
        },
      },
    },
  });
  t.is(healCounts, 2, 'asked once before walking and once after reading');
  const etc = (await entriesOf(repo, second.manifest, 'app/etc')).filter((e) => e.type === 'file');
  t.true(etc.find((e) => e.path === 'env.php')?.changedDuringBackup === true, 'read from the brick: flagged');
  t.true(
    etc.filter((e) => e.path !== 'env.php').every((e) => !e.changedDuringBackup),
    'reused entries are not',
  );
  t.true(logger.records.some((r) => r.level === 'warn' && /not fully healed/.test(r.message)));
});

test('after changing 1 % of the images the next snapshot reads and uploads only about that much', async (t) => {
  const { root, repo } = await fixture(t, 200);
  const first = await snapshotAndCommit({ repo, root, areas: AREAS });
  const mutation = await mutateMedia({ root, percent: 1, seed: 3 });
  const inMedia = (p: string): string => p.replace(/^pub\/media\//, '');
  const touched = [...mutation.changed, ...mutation.added].filter((p) => !isCache(inMedia(p)));
  t.true(touched.length >= 2, JSON.stringify(mutation));
  const touchedBytes = touched.reduce((sum, p) => sum + statSync(join(root, p)).size, 0);

  const reads: string[] = [];
  const second = await snapshotAndCommit({
    repo,
    root,
    areas: AREAS,
    previous: first.manifest,
    readHook: (path) => void reads.push(path),
  });
  const s1 = first.result.stats;
  const s2 = second.result.stats;
  t.deepEqual(reads.sort(), touched.map(inMedia).sort(), 'only the changed and added files are read');
  t.is(s2.newBytes, touchedBytes, 'exactly their content is packed');
  t.true(s2.packBytes <= touchedBytes * 1.02 + 4096, `packs: ${s2.packBytes} bytes for ${touchedBytes} changed`);
  t.true(s2.uploadedBytes <= 0.05 * s1.uploadedBytes, `uploaded ${s2.uploadedBytes} bytes, first snapshot ${s1.uploadedBytes}`);
  t.log(`first snapshot: ${s1.uploadedBytes} bytes in ${s1.seconds} s; after 1 %: ${s2.uploadedBytes} bytes in ${s2.seconds} s`);

  const files = await listOf(repo, second.manifest, 'pub/media');
  const paths = new Set(files.map((f) => f.path));
  for (const gone of mutation.deleted.map(inMedia)) t.false(paths.has(gone), `deleted ${gone} is absent`);
  for (const added of mutation.added.map(inMedia)) t.true(paths.has(added), `added ${added} is present`);
});

test('a subpath restore contains only that subpath', async (t) => {
  const { root, repo } = await fixture(t);
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const sub = `catalog/product/${readdirSync(join(root, 'pub/media/catalog/product')).find((d) => d !== 'cache')}`;
  const inside = (p: string): boolean => p === sub || p.startsWith(`${sub}/`);
  const above = (p: string): boolean => sub.startsWith(`${p}/`);
  const target = `${root}-restore`;
  const result = await restoreFiles({ repo, manifest, area: 'pub/media', path: sub, target });
  const tree = describeTree(target);
  t.true(Object.keys(tree).some((p) => p.startsWith(`${sub}/`)));
  t.deepEqual(
    Object.keys(tree).filter((p) => !inside(p) && !above(p)),
    [],
    'nothing outside the subpath but its parent directories',
  );
  t.is(result.files, Object.values(tree).filter((e) => e.type === 'file').length);
  t.deepEqual(
    treeDiff(
      describeTree(join(root, 'pub/media'), (p) => !inside(p) && !above(p)),
      tree,
    ),
    [],
  );
});

test('a file appended to during the snapshot is never stored torn', async (t) => {
  const { root, repo } = await fixture(t);
  const log = join(root, 'var/log/busy.log');
  // 64-byte records, each one write(2) with O_APPEND, numbered from 0
  const appender: ChildProcess = spawn('bash', ['-c', `i=0; while :; do printf '%063d\\n' $i >> '${log}'; i=$((i+1)); done`], {
    stdio: 'ignore',
  });
  t.teardown(() => {
    appender.kill('SIGKILL');
  });
  while ((statSync(log, { throwIfNoEntry: false })?.size ?? 0) < 64 * 200) await sleep(20);
  const logger = new MemoryLogger();
  const { result, manifest } = await snapshotAndCommit({
    repo,
    root,
    areas: AREAS.filter((a) => a.name === 'var'),
    logger,
    // widen the window between the read and the second stat so appends surely land in it
    readHook: async (path) => {
      if (path === 'log/busy.log') await sleep(50);
    },
  });
  appender.kill('SIGKILL');
  t.is(result.status, 'complete');
  const entry = (await listOf(repo, manifest, 'var')).find((f) => f.path === 'log/busy.log');
  t.true(entry?.changedDuringBackup, 'flagged after three reads that all saw it change');
  t.true(logger.records.some((r) => r.level === 'warn' && r.fields.path === 'log/busy.log'));

  const target = `${root}-restore`;
  await restoreFiles({ repo, manifest, area: 'var', path: 'log/busy.log', target });
  const stored = readFileSync(join(target, 'log/busy.log'), 'utf8');
  t.is(stored.length, entry?.size ?? -1);
  t.is(stored.length % 64, 0, 'whole records only');
  const lines = stored.split('\n').slice(0, -1);
  t.true(
    lines.every((line, i) => line === String(i).padStart(63, '0')),
    'every record intact and in order: a prefix of the file as written',
  );
  t.is(readFileSync(log, 'utf8').slice(0, stored.length), stored);
});

test('a corrupted pack in the bucket makes the restore fail naming the file and the pack', async (t) => {
  const { root, repo, prefix } = await fixture(t);
  const { result, manifest } = await snapshotAndCommit({ repo, root, areas: AREAS.filter((a) => a.name === 'app/etc') });
  const files = await listOf(repo, manifest, 'app/etc');
  const victim = files.find((f) => f.pack !== undefined) as RegularFileEntry;
  const pack = victim.pack as string;
  t.true(result.part.packs.some((p) => p.key === pack));
  const key = `${prefix}/${CLUSTER}/${pack}`;
  const bytes = await getBuffer(s3, key);
  const frame = victim.frame as { offset: number; length: number };
  const at = frame.offset + Math.floor(frame.length / 2);
  bytes[at] = (bytes[at] ?? 0) ^ 0x5a;
  await s3.put(key, bytes);
  const err = await t.throwsAsync(restoreFiles({ repo, manifest, area: 'app/etc', target: `${root}-restore` }));
  t.true(err instanceof IntegrityError, String(err));
  t.true(err?.message.includes(pack), err?.message);
  t.regex(err?.message ?? '', /file '[^']+'/);
  t.true(files.some((f) => err?.message.includes(`file '${f.path}'`)));
});

test('the emergency recipe (aws s3 cp, zstd, tar, jq) restores a tree', async (t) => {
  const { root, repo, prefix } = await fixture(t);
  const { manifest } = await snapshotAndCommit({ repo, root, areas: AREAS });
  const facts = s3Facts();
  const list = manifest.objects.find((o) => o.key.endsWith('files-pub-media.jsonl.zst'))?.key as string;
  const work = tempDir('recipe');
  t.teardown(() => cleanup(work));
  const target = `${root}-restore`;
  const run = runRecipe(
    `aws --endpoint-url '${facts.endpoint}' s3 cp --only-show-errors "s3://${facts.bucket}/${prefix}/${CLUSTER}/$1" -`,
    { LIST: list, TARGET: target, WORK: work },
    {
      ...process.env,
      AWS_ACCESS_KEY_ID: facts.accessKeyId,
      AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
      AWS_DEFAULT_REGION: facts.region,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_PAGER: '',
    },
  );
  t.is(run.status, 0, run.stderr);
  t.deepEqual(treeDiff(describeTree(join(root, 'pub/media'), isCache), describeTree(target)), []);
});

test('after a run that never committed, the next one reuses its packs in Ceph except a damaged one; an interrupted restore onto Gluster leaves nothing', async (t) => {
  const { root, repo, prefix } = await fixture(t);
  const areas = AREAS.slice(0, 2);
  const sizes = { frameBytes: 64 * 1024, packBytes: 512 * 1024 };
  // a run that fails at its commit: everything uploaded, no manifest
  const failed = await snapshotFiles({ repo, root, areas, snapshotId: newSnapshotId(new Date(Date.now() - 60_000)), ...sizes });
  const left = failed.part.packs.map((p) => p.key);
  t.true(left.length >= 3, `${left.length} packs`);
  // one pack replaced by bytes of the same length with one flipped
  const damaged = left[0] as string;
  const bytes = await getBuffer(repo.store, damaged);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 1;
  await s3.put(`${prefix}/${CLUSTER}/${damaged}`, bytes);

  let packPuts = 0;
  const counting = new Repository(
    {
      ...withPrefix(s3, prefix),
      put: (k, b, o) => {
        if (k.startsWith(`${CLUSTER}/packs/`)) packPuts++;
        return withPrefix(s3, prefix).put(k, b, o);
      },
    },
    CLUSTER,
    codec,
  );
  const { result, manifest } = await snapshotAndCommit({ repo: counting, root, areas, ...sizes });
  t.deepEqual(result.stats.leftoverPacks, { reused: left.length - 1, refused: 1 });
  t.true(packPuts >= 1 && packPuts < left.length, `${packPuts} packs uploaded, ${left.length} left by the failed run`);
  const packs = filesPartOf(manifest)?.packs ?? [];
  t.false(packs.some((p) => p.key === damaged));
  t.true((await repo.verify(manifest, { also: packs })).every((r) => r.ok));

  // a restore through FUSE aborted part-way leaves no target behind
  const target = join(`${root}-restore`, 'pub/media');
  const stop = new AbortController();
  let advanced = 0;
  const progress = { phase: () => {}, advance: () => void (++advanced === 5 && stop.abort()), done: () => {} };
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'pub/media', target, progress, signal: stop.signal }));
  t.false(existsSync(`${root}-restore`), 'the directories made for the target are gone again');

  await restoreFiles({ repo, manifest, area: 'pub/media', target });
  t.deepEqual(treeDiff(describeTree(join(root, 'pub/media'), isCache), describeTree(target)), []);
  const [src, dst] = [statSync(join(root, 'pub/media'), { bigint: true }), statSync(target, { bigint: true })];
  t.is(dst.mode & 0o7777n, src.mode & 0o7777n, 'the area directory’s mode');
  t.is(dst.mtimeNs, (src.mtimeNs / 1000n) * 1000n, 'the area directory’s mtime, to the microsecond');
});
