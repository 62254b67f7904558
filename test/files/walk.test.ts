import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { type WalkOptions, WalkThreads, walkArea } from '../../src/files/walk.js';
import { AbortedError } from '../../src/lib/errors.js';
import { cleanup, tempDir } from './fixtures.js';

// The two ways to walk (a promise per call for mounts, blocking calls on threads for local disks)
// must find the same things: every case below runs against both.
const threads = new WalkThreads(2);
test.after.always(() => threads.close());
const modes: { name: string; options: Pick<WalkOptions, 'threads'> }[] = [
  { name: 'async', options: {} },
  { name: 'threads', options: { threads } },
];

for (const mode of modes) {
  // picomatch's `*` and `**` never match line breaks: names holding one must still be backed up.
  test(`${mode.name}: names with line breaks are matched by globs like any other character`, async (t) => {
    const root = tempDir('walk');
    t.teardown(() => cleanup(root));
    mkdirSync(join(root, 'a/cache'), { recursive: true });
    writeFileSync(join(root, 'a/sp ace\nnew"line.jpg'), 'odd');
    writeFileSync(join(root, 'a/cache/x\r.jpg'), 'cached');
    execFileSync('mkfifo', [join(root, 'a/fifo')]);
    const all = await walkArea(root, { name: 'all', path: '.' }, mode.options);
    t.deepEqual(
      all.entries.map((e) => e.path),
      ['a', 'a/cache', 'a/cache/x\r.jpg', 'a/sp ace\nnew"line.jpg'],
    );
    t.is(all.special, 1, 'the FIFO is skipped and counted');
    const some = await walkArea(root, { name: 'some', path: '.', include: ['**/*.jpg'], exclude: ['a/cache/**'] }, mode.options);
    t.deepEqual(
      some.entries.map((e) => e.path),
      ['a', 'a/sp ace\nnew"line.jpg'],
      'a/cache/** excludes the directory itself too',
    );
  });

  test(`${mode.name}: a deep tree is found whole, sorted, with symlinks, empty directories and lstat fields`, async (t) => {
    const root = tempDir('walk');
    t.teardown(() => cleanup(root));
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      const dir = `d${i % 3}/e${i % 7}/f${i}`;
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'file'), String(i));
      expected.push(`d${i % 3}`, `d${i % 3}/e${i % 7}`, dir, `${dir}/file`);
    }
    mkdirSync(join(root, 'empty'));
    symlinkSync('d0/e0', join(root, 'link'));
    expected.push('empty', 'link');
    const walk = await walkArea(root, { name: 'all', path: '.' }, mode.options);
    t.deepEqual(
      walk.entries.map((e) => e.path),
      [...new Set(expected)].sort(),
    );
    const link = walk.entries.find((e) => e.path === 'link');
    t.is(link?.type, 'symlink');
    t.is(link?.target, 'd0/e0');
    const file = walk.entries.find((e) => e.path === 'd1/e1/f1/file');
    t.is(file?.type, 'file');
    t.is(file?.size, 1);
    t.regex(file?.mtime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    t.regex(file?.inode ?? '', /^\d+$/);
  });

  test(`${mode.name}: top-level names can be ignored; a missing area is a problem, not a throw`, async (t) => {
    const root = tempDir('walk');
    t.teardown(() => cleanup(root));
    mkdirSync(join(root, '.glusterfs/00'), { recursive: true });
    mkdirSync(join(root, 'x/.glusterfs'), { recursive: true });
    const walk = await walkArea(root, { name: 'all', path: '.' }, { ...mode.options, ignoreTop: /^\.glusterfs$/ });
    t.deepEqual(
      walk.entries.map((e) => e.path),
      ['x', 'x/.glusterfs'],
      'only at the top',
    );
    const missing = await walkArea(root, { name: 'gone', path: 'nope' }, mode.options);
    t.deepEqual(missing.entries, []);
    t.is(missing.problems[0]?.code, 'ENOENT');
  });
}

/** A tree deep enough for the threads to split it into subtree jobs. */
function deepTree(root: string, dirs = 40, files = 5): void {
  for (let i = 0; i < dirs; i++) {
    const dir = join(root, `d${i % 4}`, `e${i % 9}`, `f${i}`);
    mkdirSync(dir, { recursive: true });
    for (let j = 0; j < files; j++) writeFileSync(join(dir, `${j}.${j % 2 ? 'txt' : 'jpg'}`), String(j));
  }
}

test('both modes give the same result on a deep tree, with includes and excludes below the top', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  deepTree(root);
  const area = { name: 'some', path: '.', include: ['**/*.txt'], exclude: ['d1/**', '**/e3'] };
  const plain = await walkArea(root, area);
  const threaded = await walkArea(root, area, { threads });
  t.true(plain.entries.length > 50);
  t.deepEqual(threaded, plain);
  t.false(plain.entries.some((e) => e.path.startsWith('d1/') || e.path.includes('/e3')));
  t.true(plain.entries.filter((e) => e.type === 'file').every((e) => e.path.endsWith('.txt')));
});

test('every entry of a walk is handed to onEntries while it runs, as the same object', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  deepTree(root);
  const area = { name: 'some', path: '.', include: ['**/*.txt'] };
  for (const mode of modes) {
    const seen = new Set<object>();
    let batches = 0;
    const walk = await walkArea(root, area, {
      ...mode.options,
      onEntries: (entries) => {
        batches++;
        for (const e of entries) seen.add(e);
      },
    });
    t.true(walk.entries.length > 100, mode.name);
    t.true(
      walk.entries.every((e) => seen.has(e)),
      mode.name,
    );
    if (mode.options.threads) t.true(batches > 1, 'threads hand back their parts one by one');
  }
});

test('a throw from onEntries fails the walk with it, in both modes', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  deepTree(root);
  for (const mode of modes) {
    const boom = new Error('callback failed');
    await t.throwsAsync(
      walkArea(
        root,
        { name: 'all', path: '.' },
        {
          ...mode.options,
          onEntries: () => {
            throw boom;
          },
        },
      ),
      { is: boom },
      mode.name,
    );
  }
});

test('threads: an abort during the walk fails it at once; closing the threads fails a running walk', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  deepTree(root, 400, 20);
  const own = new WalkThreads(1);
  t.teardown(() => own.close());
  const controller = new AbortController();
  const walking = walkArea(root, { name: 'all', path: '.' }, { threads: own, signal: controller.signal });
  setImmediate(() => controller.abort(new Error('stop')));
  await t.throwsAsync(walking, { instanceOf: AbortedError });
  const closing = walkArea(root, { name: 'all', path: '.' }, { threads: own });
  setImmediate(() => {
    own.close().catch(() => {});
  });
  await t.throwsAsync(closing, { message: /walk threads closed/ });
});

test('threads: an aborted walk fails with AbortedError; closed threads refuse work', async (t) => {
  const root = tempDir('walk');
  t.teardown(() => cleanup(root));
  for (let i = 0; i < 50; i++) mkdirSync(join(root, `d${i}/e`), { recursive: true });
  const threads = new WalkThreads(1);
  const aborted = new AbortController();
  aborted.abort(new Error('stop'));
  await t.throwsAsync(walkArea(root, { name: 'all', path: '.' }, { threads, signal: aborted.signal }), {
    instanceOf: AbortedError,
  });
  await threads.close();
  await t.throwsAsync(walkArea(root, { name: 'all', path: '.' }, { threads }), { message: /walk threads closed/ });
});
