import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { walkArea } from '../../src/files/index.js';
import { cleanup, tempDir } from './fixtures.js';

// picomatch's `*` and `**` never match line breaks: names holding one must still be backed up.
test('names with line breaks are matched by globs like any other character', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  mkdirSync(join(root, 'a/cache'), { recursive: true });
  writeFileSync(join(root, 'a/sp ace\nnew"line.jpg'), 'odd');
  writeFileSync(join(root, 'a/cache/x\r.jpg'), 'cached');
  execFileSync('mkfifo', [join(root, 'a/fifo')]);
  const all = await walkArea(root, { name: 'all', path: '.' });
  t.deepEqual(
    all.entries.map((e) => e.path),
    ['a', 'a/cache', 'a/cache/x\r.jpg', 'a/sp ace\nnew"line.jpg'],
  );
  t.is(all.special, 1, 'the FIFO is skipped and counted');
  const some = await walkArea(root, { name: 'some', path: '.', include: ['**/*.jpg'], exclude: ['a/cache/**'] });
  t.deepEqual(
    some.entries.map((e) => e.path),
    ['a', 'a/sp ace\nnew"line.jpg'],
    'a/cache/** excludes the directory itself too',
  );
});
