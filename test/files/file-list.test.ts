import test from 'ava';
import { entryLine } from '../../src/files/file-list.js';
import type { FileEntry } from '../../src/files/index.js';

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
