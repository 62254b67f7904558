import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { restoreDatabase } from '../../restore/database.js';
import { restoreFiles } from '../../restore/files.js';
import { openFileList } from '../../src/files/index.js';
import { RetryableError, UsageError } from '../../src/lib/errors.js';
import { FsStore } from '../../src/storage/fs-store.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import type { ObjectStore } from '../../src/storage/object-store.js';
import { cli } from '../helpers/cli.js';
import { cleanup, commitDatabaseSnapshot, describeTree, put, repoOn, snapshotAndCommit, tempDir, treeDiff } from './fixtures.js';

/** 120 files in 12 directories, each file in a frame of its own (so a restore takes many range reads). */
function wideTree(root: string): void {
  for (let i = 0; i < 120; i++) put(root, `area/d${i % 12}/f${i}.bin`, randomBytes(3000 + i));
}

/** `store` whose range reads fail after the first `okReads`. */
function failingReads(store: ObjectStore, okReads: number): ObjectStore {
  let reads = 0;
  return {
    location: store.location,
    put: (k, b, o) => store.put(k, b, o),
    putIfAbsent: (k, b, o) => store.putIfAbsent(k, b, o),
    get: async (k, o) => {
      if (o?.range && ++reads > okReads) throw new RetryableError(`object '${k}': injected read failure`);
      return store.get(k, o);
    },
    head: (k) => store.head(k),
    list: (p) => store.list(p),
    delete: (k) => store.delete(k),
    cleanupIncomplete: (p, d) => store.cleanupIncomplete(p, d),
  };
}

async function wideSnapshot(label: string) {
  const root = tempDir(label);
  wideTree(root);
  const store = new MemoryStore();
  const repo = repoOn(store);
  const { manifest } = await snapshotAndCommit({ repo, root, areas: [{ name: 'area', path: 'area' }], frameBytes: 2048 });
  return { root, store, manifest };
}

test('a files restore failing part-way leaves the target as it was: absent, empty, or with its old contents under --force', async (t) => {
  const { root, store, manifest } = await wideSnapshot('aside');
  const dst = tempDir('aside-dst');
  t.teardown(() => cleanup(root, dst));
  const repo = repoOn(failingReads(store, 40));

  const absent = join(dst, 'absent', 'area');
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target: absent, concurrency: 2 }), {
    message: /injected read failure/,
  });
  t.deepEqual(readdirSync(dst), [], 'a target that did not exist does not exist afterwards (nor its parents made for it)');

  const empty = join(dst, 'empty');
  mkdirSync(empty);
  await t.throwsAsync(restoreFiles({ repo: repoOn(failingReads(store, 40)), manifest, area: 'area', target: empty }));
  t.deepEqual(readdirSync(empty), []);

  const full = join(dst, 'full');
  put(full, 'old/keep.txt', 'old contents');
  put(full, 'd1/f1.bin', 'an old file where the restore writes one');
  const before = describeTree(full);
  await t.throwsAsync(restoreFiles({ repo: repoOn(failingReads(store, 40)), manifest, area: 'area', target: full, force: true }));
  t.deepEqual(describeTree(full), before);

  // and the same restore without the failure replaces the old contents
  await restoreFiles({ repo: repoOn(store), manifest, area: 'area', target: full, force: true });
  t.deepEqual(treeDiff(describeTree(join(root, 'area')), describeTree(full)), []);
});

test('an aborted files restore leaves the target as it was', async (t) => {
  const { root, store, manifest } = await wideSnapshot('abort');
  const dst = tempDir('abort-dst');
  t.teardown(() => cleanup(root, dst));
  const stop = new AbortController();
  let advanced = 0;
  const progress = {
    phase: () => {},
    advance: () => {
      if (++advanced === 30) stop.abort();
    },
    done: () => {},
  };
  const target = join(dst, 'area');
  await t.throwsAsync(restoreFiles({ repo: repoOn(store), manifest, area: 'area', target, progress, signal: stop.signal }));
  t.true(advanced >= 30, 'files were being written when it was aborted');
  t.deepEqual(readdirSync(dst), []);
});

test('a target that is a file, or below one, is a usage error naming it', async (t) => {
  const { root, store, manifest } = await wideSnapshot('notdir');
  const dst = tempDir('notdir-dst');
  t.teardown(() => cleanup(root, dst));
  const file = join(dst, 'a-file');
  writeFileSync(file, 'x');
  const repo = repoOn(store);
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target: file }), {
    instanceOf: UsageError,
    message: `target '${file}': not a directory`,
  });
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target: join(file, 'below') }), {
    instanceOf: UsageError,
    message: `target '${join(file, 'below')}': a parent of it is not a directory`,
  });
  await t.throwsAsync(restoreFiles({ repo, manifest, area: 'area', target: join(file, 'below'), force: true }), {
    instanceOf: UsageError,
  });
});

test('restored mtimes are the listed ones to the microsecond; the area directory gets its own mode and mtime', async (t) => {
  const root = tempDir('mtime');
  const dst = tempDir('mtime-dst');
  t.teardown(() => cleanup(root, dst));
  // nanosecond mtimes (only `touch` sets them): the sub-microsecond digits cannot be restored
  // through Node, everything above them must be exact
  const stamps: string[] = [];
  for (let i = 0; i < 300; i++) {
    const path = join(root, 'area', `d${i % 3}`, `f${i}`);
    put(root, `area/d${i % 3}/f${i}`, `file ${i}`);
    const stamp = `@${1_600_000_000 + i * 7919}.${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
    execFileSync('touch', ['-d', stamp, path]);
    stamps.push(stamp);
  }
  execFileSync('touch', ['-d', '@1500000000.123456789', join(root, 'area', 'd1')]);
  execFileSync('chmod', ['0710', join(root, 'area')]);
  execFileSync('touch', ['-d', '@1400000000.987654321', join(root, 'area')]);
  const repo = repoOn(new FsStore(tempDir('mtime-store', dst)));
  const { manifest } = await snapshotAndCommit({ repo, root, areas: [{ name: 'area', path: 'area' }] });
  const target = join(dst, 'restored');
  await restoreFiles({ repo, manifest, area: 'area', target });

  const record = manifest.objects.find((o) => o.key.endsWith('files-area.jsonl.zst'));
  if (!record) throw new Error('no list');
  const list = await openFileList(repo, record);
  let off = 0;
  let entries = 0;
  let maxDrift = 0n;
  for await (const e of list.entries) {
    entries++;
    const listed = lstatSync(join(root, 'area', e.path), { bigint: true }).mtimeNs;
    const restored = lstatSync(join(target, e.path), { bigint: true }).mtimeNs;
    if (restored !== (listed / 1000n) * 1000n) off++;
    const drift = listed - restored;
    if (drift > maxDrift) maxDrift = drift;
  }
  t.is(entries, 303);
  t.is(off, 0, 'every mtime equals the listed one truncated to the microsecond');
  t.true(maxDrift < 1000n, `largest difference ${maxDrift} ns`);
  t.deepEqual(list.header.root?.mode, '0710');
  const top = statSync(target, { bigint: true });
  t.is(Number(top.mode & 0o7777n), 0o710);
  t.is(top.mtimeNs, 1_400_000_000_987_654_000n);
});

/** A committed snapshot with only a database part whose object holds `content`. */
test('a database restore that fails (unpacking, or prepare) leaves the target as it was', async (t) => {
  const dir = tempDir('db-aside');
  t.teardown(() => cleanup(dir));
  const store = new MemoryStore();
  const manifest = await commitDatabaseSnapshot(repoOn(store), 'physical', randomBytes(200_000));
  const tool = (name: string, body: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return path;
  };
  // an unpacker that writes part of a datadir, then fails
  const mbstreamFails = tool(
    'mbstream-fails',
    'cd "$3" && mkdir -p mysql && echo x > ibdata1 && echo y > mysql/user.frm && head -c 50000 >/dev/null; exit 3',
  );
  const mbstreamOk = tool('mbstream-ok', 'cd "$3" && mkdir -p mysql && echo x > ibdata1 && cat >/dev/null');
  const prepareFails = tool('prepare-fails', 'echo "[ERROR] injected" >&2; exit 1');
  const prepareOk = tool('prepare-ok', 'exit 0');
  const repo = repoOn(store);

  const datadir = join(dir, 'datadir');
  await t.throwsAsync(
    restoreDatabase({ repo, snapshot: manifest.id, target: datadir, tools: { mbstream: mbstreamFails, backup: prepareOk } }),
  );
  t.deepEqual(
    readdirSync(dir).filter((n) => n === 'datadir'),
    [],
  );

  put(datadir, 'old-datadir/ibdata1', 'the old datadir');
  const before = describeTree(datadir);
  await t.throwsAsync(
    restoreDatabase({
      repo,
      snapshot: manifest.id,
      target: datadir,
      force: true,
      tools: { mbstream: mbstreamOk, backup: prepareFails },
    }),
  );
  t.deepEqual(describeTree(datadir), before);

  const stop = new AbortController();
  setTimeout(() => stop.abort(), 100);
  const slow = tool('mbstream-slow', 'cd "$3" && echo x > ibdata1 && sleep 5');
  await t.throwsAsync(
    restoreDatabase({
      repo,
      snapshot: manifest.id,
      target: datadir,
      force: true,
      tools: { mbstream: slow, backup: prepareOk },
      signal: stop.signal,
    }),
  );
  t.deepEqual(describeTree(datadir), before);

  await restoreDatabase({
    repo,
    snapshot: manifest.id,
    target: datadir,
    force: true,
    tools: { mbstream: mbstreamOk, backup: prepareOk },
  });
  t.deepEqual(readdirSync(datadir).sort(), ['grastate.dat', 'ibdata1', 'mysql']);
});

test('restore files --to a file: exit 2 and one line naming the path, no stack trace', async (t) => {
  const root = tempDir('cli-notdir');
  const storeDir = tempDir('cli-notdir-store');
  t.teardown(() => cleanup(root, storeDir));
  put(root, 'area/a.txt', 'a');
  const repo = repoOn(new FsStore(storeDir));
  await snapshotAndCommit({ repo, root, areas: [{ name: 'area', path: 'area' }] });
  const config = join(storeDir, 'lifeboat.yaml');
  writeFileSync(
    config,
    `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: 127.0.0.1 }] }\nstorage: { url: "file://${storeDir}" }\nfiles: { root: ${root}, areas: [{ name: area }] }\n`,
  );
  const file = join(root, 'area', 'a.txt');
  const r = await cli(['restore', 'files', '--config', config, '--snapshot', 'latest', '--area', 'area', '--to', file]);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, new RegExp(`target '${file}': not a directory`));
  t.notRegex(r.stderr, /\n\s+at /);
});
