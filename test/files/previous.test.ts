import test from 'ava';
import { entryLine, parseEntry } from '../../src/files/file-list.js';
import type { FileEntry, MountEntry, RegularFileEntry } from '../../src/files/index.js';
import { previousSnapshot } from '../../src/files/previous.js';
import { IntegrityError } from '../../src/lib/errors.js';
import type { ObjectRecord } from '../../src/repo/manifest.js';

const PACK = 'packs/3f/3f9c0e.tar.zst';
const packRecord = { key: PACK } as ObjectRecord;
const base = { mode: '0644', uid: 33, gid: 33, mtime: '2026-11-26T06:00:00.123456789Z' };
const brick = { ctime: '2026-11-26T06:00:01.000000001Z', inode: '77' };
const file: FileEntry = {
  path: 'catalog/a "b"\\c/été.jpg',
  type: 'file',
  ...base,
  size: 20480,
  inode: '11529215046068469761',
  sha256: 'a'.repeat(64),
  pack: PACK,
  frame: { offset: 8388991, length: 4194871 },
  entry: 1536,
};
/** the walk's view of `file` through the mount */
const onMount: MountEntry = {
  path: file.path,
  type: 'file',
  mode: 0o644,
  uid: 33,
  gid: 33,
  size: 20480,
  mtime: file.mtime,
  inode: file.inode,
};

function lookup(previous: FileEntry, now: MountEntry, packs: ObjectRecord[] = [packRecord]) {
  return previousSnapshot([['area', undefined, [previous]]], packs)
    .area('area')
    ?.lookup(now);
}

// An incremental snapshot lists a file's previous content again when lookup holds: only while
// size, mtime and inode are those of the previous entry, never for a flagged entry.
test('a previous entry is reused only for the same content, never when flagged', (t) => {
  const line = entryLine(file);
  t.deepEqual(parseEntry(line, 'list', 2), file);
  t.is(lookup(file, onMount), file, 'unchanged: the previous entry itself');
  for (const changed of [
    { size: 20481 },
    { mtime: '2026-11-26T06:00:00.123456780Z' },
    { inode: '1' },
    { path: 'catalog/other.jpg' },
    { type: 'dir' as const },
  ])
    t.is(lookup(file, { ...onMount, ...changed }), undefined, JSON.stringify(changed));
  // metadata moves without the content: the content is kept, the entry takes the new metadata
  t.deepEqual(lookup(file, { ...onMount, mode: 0o600 }), { ...file, mode: '0600', brick: undefined });
  t.deepEqual(lookup(file, { ...onMount, uid: 0, gid: 0 }), { ...file, uid: 0, gid: 0, brick: undefined });
  t.is(lookup({ ...file, changedDuringBackup: true }, onMount), undefined, 'a flagged entry is read again');
  t.is(lookup({ ...file, pack: undefined, frame: undefined, entry: undefined } as FileEntry, onMount), undefined);
  t.is(lookup(file, onMount, []), undefined, 'a pack the previous snapshot does not reference is not trusted');

  // on a brick the key comes along; a key of its own replaces the previous one
  const keyed: FileEntry = { ...file, brick };
  t.is(lookup(keyed, { ...onMount, brick }), keyed);
  t.deepEqual(lookup(keyed, onMount), { ...file, brick: undefined }, 'a mount entry has no brick key');
  t.deepEqual(lookup(file, { ...onMount, brick }), { ...file, brick });
  t.deepEqual(lookup(keyed, { ...onMount, brick: { ...brick, inode: '78' } }), { ...file, brick: { ...brick, inode: '78' } });

  const empty = { ...file, size: 0, pack: undefined, frame: undefined, entry: undefined } as RegularFileEntry;
  t.is(lookup(empty, { ...onMount, size: 0 }), empty, 'an empty file needs no pack');

  // directories and symlinks have no content to reuse: they are listed from the walk
  const link: FileEntry = { path: 'current', type: 'symlink', ...base, target: '../x', brick };
  t.is(lookup(link, { ...onMount, path: 'current', type: 'symlink', target: '../x', brick }), undefined);

  // a line entryLine would never write is not read: leading zeros, a control character in a time
  t.throws(() => parseEntry(line.replace('"offset":8388991', '"offset":08388991'), 'list', 2), { instanceOf: IntegrityError });
  t.throws(() => parseEntry(entryLine(keyed).replace(brick.ctime, '\t'), 'list', 2), { instanceOf: IntegrityError });
});

test('stored content is found by sha256 in the first unflagged entry pointing into a referenced pack', (t) => {
  const flagged: FileEntry = { ...file, path: 'a', changedDuringBackup: true, frame: { offset: 1, length: 1 } };
  const other: FileEntry = { ...file, path: 'b', pack: 'packs/00/00.tar.zst' };
  const previous = previousSnapshot(
    [
      ['one', undefined, [flagged, other]],
      ['two', undefined, [file]],
    ],
    [packRecord],
  );
  t.deepEqual(previous.blobFor(file.sha256), { pack: PACK, frame: file.frame, entry: file.entry });
  t.is(previous.blobFor('b'.repeat(64)), undefined);
  t.is(previous.pack(PACK), packRecord);
  t.is(previous.area('three'), undefined);
});
