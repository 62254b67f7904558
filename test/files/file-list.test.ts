import test from 'ava';
import { entryLine, type FileEntry, isSameEntryLine, type LineKey, linePack, parseEntry } from '../../src/files/index.js';

// entryLine is hand-built for speed; it must print exactly what JSON.stringify prints for the
// documented field order (docs/files-format.md).
test('entry lines are the JSON of the documented fields, in order', (t) => {
  const base = { mode: '0644', uid: 33, gid: 33, mtime: '2026-11-26T06:00:00.123456789Z' };
  const brick = { ctime: '2026-11-26T06:00:01.000000001Z', inode: '18446744073709551615' };
  const entries: FileEntry[] = [
    { path: 'a "quoted"\\path/été\n', type: 'dir', ...base },
    { path: 'link', type: 'symlink', ...base, target: '../x "y"', brick },
    { path: 'empty', type: 'file', ...base, size: 0, inode: '42', sha256: 'e'.repeat(64) },
    {
      path: 'img.jpg',
      type: 'file',
      ...base,
      size: 20480,
      inode: '11529215046068469761',
      sha256: 'a'.repeat(64),
      pack: 'packs/3f/3f9c.tar.zst',
      frame: { offset: 8388991, length: 4194871 },
      entry: 1536,
      changedDuringBackup: true,
      brick,
    },
  ];
  const reference = (e: FileEntry): string => {
    const head = { path: e.path, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    const tail = e.brick ? { brick: { ctime: e.brick.ctime, inode: e.brick.inode } } : {};
    if (e.type === 'dir') return JSON.stringify({ ...head, ...tail });
    if (e.type === 'symlink') return JSON.stringify({ ...head, target: e.target, ...tail });
    return JSON.stringify({
      ...head,
      size: e.size,
      inode: e.inode,
      sha256: e.sha256,
      ...(e.pack === undefined ? {} : { pack: e.pack, frame: e.frame, entry: e.entry }),
      ...(e.changedDuringBackup ? { changedDuringBackup: true } : {}),
      ...tail,
    });
  };
  for (const e of entries) t.is(entryLine(e), reference(e), e.path);
});

// An incremental snapshot writes a previous line again as it is when isSameEntryLine holds: it
// must hold exactly when the entry it would build has the same line.
test('a previous line is reused only for the same entry, never when flagged', (t) => {
  const base = { mode: '0644', uid: 33, gid: 33, mtime: '2026-11-26T06:00:00.123456789Z' };
  const brick = { ctime: '2026-11-26T06:00:01.000000001Z', inode: '77' };
  const file: FileEntry = {
    path: 'catalog/a "b"\\c/été.jpg',
    type: 'file',
    ...base,
    size: 20480,
    inode: '11529215046068469761',
    sha256: 'a'.repeat(64),
    pack: 'packs/3f/3f9c0e.tar.zst',
    frame: { offset: 8388991, length: 4194871 },
    entry: 1536,
  };
  const onMount: LineKey = {
    path: file.path,
    type: 'file',
    mode: '0644',
    uid: 33,
    gid: 33,
    size: 20480,
    mtime: file.mtime,
    inode: file.inode,
  };
  const line = entryLine(file);
  t.true(isSameEntryLine(line, onMount));
  t.is(linePack(line), 'packs/3f/3f9c0e.tar.zst');
  t.deepEqual(parseEntry(line, 'list', 2), file);
  for (const changed of [
    { mode: '0600' },
    { uid: 0 },
    { gid: 0 },
    { size: 20481 },
    { mtime: '2026-11-26T06:00:00.123456780Z' },
    { inode: '1' },
    { path: 'catalog/other.jpg' },
    { type: 'dir' as const },
    { brick },
  ])
    t.false(isSameEntryLine(line, { ...onMount, ...changed }), JSON.stringify(changed));
  t.false(isSameEntryLine(entryLine({ ...file, changedDuringBackup: true }), onMount), 'a flagged line is read again');
  t.false(isSameEntryLine(entryLine({ ...file, pack: undefined, frame: undefined, entry: undefined } as FileEntry), onMount));

  // on a brick the key vouches for the mount's mtime and inode, which the walk does not know
  const keyed = entryLine({ ...file, brick });
  const onBrick: LineKey = { path: file.path, type: 'file', mode: '0644', uid: 33, gid: 33, size: 20480, brick };
  t.true(isSameEntryLine(keyed, onBrick));
  t.false(isSameEntryLine(keyed, onMount), 'a keyed line is not a mount entry');
  t.false(isSameEntryLine(line, onBrick), 'an unkeyed line is not a brick entry');
  t.false(isSameEntryLine(keyed, { ...onBrick, brick: { ...brick, inode: '78' } }));
  t.false(isSameEntryLine(keyed, { ...onBrick, size: 1 }));

  const empty = entryLine({ ...file, size: 0, pack: undefined, frame: undefined, entry: undefined } as FileEntry);
  t.true(isSameEntryLine(empty, { ...onMount, size: 0 }));
  t.is(linePack(empty), undefined);

  const link = entryLine({ path: 'current', type: 'symlink', ...base, target: '../x', brick });
  const linkKey: LineKey = { path: 'current', type: 'symlink', mode: '0644', uid: 33, gid: 33, target: '../x', brick };
  t.true(isSameEntryLine(link, linkKey));
  t.false(isSameEntryLine(link, { ...linkKey, target: '../y' }));
  // a line entryLine would never write is not copied: leading zeros, a control character in a time
  t.false(isSameEntryLine(line.replace('"offset":8388991', '"offset":08388991'), onMount));
  t.false(isSameEntryLine(keyed.replace(brick.ctime, '\t'), { ...onBrick, brick: { ...brick, ctime: '\t' } }));

  const dir = entryLine({ path: 'catalog', type: 'dir', ...base });
  t.true(isSameEntryLine(dir, { path: 'catalog', type: 'dir', mode: '0644', uid: 33, gid: 33, mtime: base.mtime }));
  t.false(isSameEntryLine(dir, { path: 'catalog', type: 'dir', mode: '0644', uid: 33, gid: 33, mtime: base.mtime, brick }));
});
