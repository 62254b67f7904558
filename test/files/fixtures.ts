import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { type SnapshotFilesOptions, type SnapshotFilesResult, snapshotFiles } from '../../jobs/files-snapshot.js';
import { detectCodec } from '../../src/codec/zstd.js';
import { MANIFEST_FORMAT, type Manifest } from '../../src/repo/manifest.js';
import { Repository } from '../../src/repo/repository.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';
import type { ObjectStore } from '../../src/storage/object-store.js';

export const codec = await detectCodec();

export function tempDir(label: string, base: string = tmpdir()): string {
  return mkdtempSync(join(base, `lifeboat-${label}-`));
}

export function repoOn(store: ObjectStore): Repository {
  return new Repository(store, 'shop', codec);
}

/** Writes a file (creating parents) with an optional mode and mtime (seconds). */
export function put(root: string, path: string, content: Buffer | string, opts: { mode?: number; mtime?: number } = {}): void {
  const abs = join(root, path);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, content);
  if (opts.mode !== undefined) chmodSync(abs, opts.mode);
  if (opts.mtime !== undefined) utimesSync(abs, opts.mtime, opts.mtime);
}

/**
 * A small Magento-like tree: two areas (`pub/media`, `app/etc`) with nested and empty
 * directories, a symlink, a dot file, an excluded cache, duplicate content, an empty file, odd
 * modes and one file larger than a small frame.
 */
export function sampleTree(root: string): void {
  const media = 'pub/media';
  put(root, `${media}/catalog/product/a/b/ab-red.jpg`, randomBytes(20_000), { mtime: 1_700_000_000.123456 });
  put(root, `${media}/catalog/product/a/c/ac-blue.jpg`, randomBytes(30_000), { mode: 0o600 });
  put(root, `${media}/catalog/product/cache/1/a/b/ab-red.jpg`, randomBytes(5_000));
  put(root, `${media}/wysiwyg/banners/hero.png`, randomBytes(300_000));
  put(root, `${media}/wysiwyg/banners/copy-of-hero.txt`, 'same content twice\n'.repeat(100));
  put(root, `${media}/wysiwyg/banners/same.txt`, 'same content twice\n'.repeat(100), { mode: 0o640 });
  put(root, `${media}/.htaccess`, 'Options -Indexes\n');
  put(root, `${media}/empty-file`, '');
  put(root, `${media}/scripts/run.sh`, '#!/bin/sh\necho hi\n', { mode: 0o755 });
  mkdirSync(join(root, media, 'import/deep/empty'), { recursive: true });
  symlinkSync('catalog', join(root, media, 'current'));
  symlinkSync('../nowhere', join(root, media, 'dangling'));
  chmodSync(join(root, media, 'scripts'), 0o750);
  chmodSync(join(root, media), 0o750); // the area directory's own mode is restored too
  utimesSync(join(root, media, 'import/deep'), 1_600_000_000, 1_600_000_000);
  put(root, 'app/etc/env.php', "<?php return ['db' => 'x'];\n", { mode: 0o640 });
  put(root, 'app/etc/config.php', "<?php return ['modules' => []];\n");
}

export const AREAS = [
  { name: 'pub/media', path: 'pub/media', include: ['**'], exclude: ['catalog/product/cache/**'] },
  { name: 'app/etc', path: 'app/etc' },
] as const;

/** Runs a files snapshot and commits a manifest holding only it; returns both. */
export async function snapshotAndCommit(
  options: Omit<SnapshotFilesOptions, 'snapshotId'> & { snapshotId?: string },
): Promise<{ result: SnapshotFilesResult; manifest: Manifest }> {
  const id = options.snapshotId ?? newSnapshotId(new Date(Date.now() + Math.floor(Math.random() * 1000) * 1000));
  const result = await snapshotFiles({ ...options, snapshotId: id });
  const now = new Date().toISOString();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    cluster: options.repo.cluster,
    node: 'n1',
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: now,
    finishedAt: now,
    parts: { files: result.part },
    objects: result.objects,
  };
  await options.repo.commit(manifest);
  return { result, manifest: await options.repo.manifest(id) };
}

export interface TreeEntry {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly mtimeNs: bigint;
  readonly content?: string;
  readonly target?: string;
}

/** Everything a restore must reproduce, by relative path. */
export function describeTree(root: string, skip: (path: string) => boolean = () => false): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (skip(path)) continue;
      const abs = join(root, path);
      const st = lstatSync(abs, { bigint: true });
      const mtimeNs = st.mtimeNs;
      const mode = Number(st.mode & 0o7777n);
      if (st.isDirectory()) {
        out[path] = { type: 'dir', mode, mtimeNs };
        walk(path);
      } else if (st.isSymbolicLink()) out[path] = { type: 'symlink', mode, mtimeNs, target: readlinkSync(abs) };
      else out[path] = { type: 'file', mode, mtimeNs, content: readFileSync(abs).toString('base64') };
    }
  };
  walk('');
  return out;
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Differences between two described trees; mtimes may differ below the microsecond (Node's
 * utimes takes seconds as a double, libuv keeps microseconds).
 */
export function treeDiff(expected: Record<string, TreeEntry>, actual: Record<string, TreeEntry>): string[] {
  const out: string[] = [];
  for (const path of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    const e = expected[path];
    const a = actual[path];
    if (!e || !a) {
      out.push(`${path}: ${e ? 'missing' : 'unexpected'}`);
      continue;
    }
    if (e.type !== a.type) out.push(`${path}: type ${a.type}, expected ${e.type}`);
    if (e.type !== 'symlink' && e.mode !== a.mode)
      out.push(`${path}: mode ${a.mode.toString(8)}, expected ${e.mode.toString(8)}`);
    if (e.content !== a.content) out.push(`${path}: content differs`);
    if (e.target !== a.target) out.push(`${path}: target ${a.target}, expected ${e.target}`);
    const drift = e.mtimeNs > a.mtimeNs ? e.mtimeNs - a.mtimeNs : a.mtimeNs - e.mtimeNs;
    if (drift > 999n) out.push(`${path}: mtime ${a.mtimeNs}, expected ${e.mtimeNs}`);
  }
  return out.sort();
}

/** Commits a snapshot whose database part is `content` as stored (any bytes: for restore and damage tests). */
export async function commitDatabaseSnapshot(
  repo: Repository,
  method: 'physical' | 'logical',
  content: Buffer,
): Promise<Manifest> {
  const id = newSnapshotId(new Date());
  const key = `snapshots/${id}/${method === 'physical' ? 'db.xbstream.zst' : 'db.sql.zst'}`;
  const record = await repo.writeObject(key, Readable.from([content]), { format: method === 'physical' ? 'xbstream' : 'sql' });
  const now = new Date().toISOString();
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    id,
    cluster: repo.cluster,
    node: 'n1',
    tool: { name: 'lifeboat', version: 'test' },
    startedAt: now,
    finishedAt: now,
    parts: {
      database: {
        method,
        startedAt: now,
        finishedAt: now,
        object: key,
        galera: method === 'physical' ? { uuid: '6b0f2f1e-0000-11ee-8000-000000000001', seqno: 42 } : null,
        gtid: null,
        binlog: null,
        serverVersion: 'test',
      },
    },
    objects: [record],
  };
  await repo.commit(manifest);
  return manifest;
}
