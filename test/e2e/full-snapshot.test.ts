import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeTestRepos, testRepo } from '../helpers/lifeboat.js';
import { need, uniqueName } from '../helpers/testbed.js';
import { generateMedia } from '../testbed/datagen/generate-media.js';

test.after.always(removeTestRepos);

// `lifeboat snapshot` with no flag: database and the four file areas (on the real GlusterFS
// mount) under one id and one manifest; then a subpath restore through the CLI.

test('one restore point: database and files under one manifest, each part timed; subpath restore', (t) =>
  withClusterLock(async () => {
    const root = join(need('GLUSTER_MOUNT'), uniqueName('full'));
    mkdirSync(root);
    const target = mkdtempSync(join(tmpdir(), 'lifeboat-files-'));
    try {
      await generateMedia({ root, smallFiles: 60, largeFiles: 2, staticFiles: 40, seed: 7 });
      const repo = testRepo('n2', {
        extra: {
          files: {
            root,
            areas: [
              { name: 'var', exclude: ['cache/**', 'session/**'] },
              { name: 'pub/media', exclude: ['catalog/product/cache/**'] },
              { name: 'pub/static' },
              { name: 'app/etc' },
            ],
          },
        },
      });
      const snap = await lifeboat(repo, ['--json', 'snapshot']);
      t.is(snap.code, 0, snap.stderr.slice(-2000));
      const { id } = JSON.parse(snap.stdout) as { id: string };
      const show = await lifeboat(repo, ['--json', 'show', id]);
      const manifest = JSON.parse(show.stdout) as {
        parts: {
          database: { startedAt: string; finishedAt: string; galera: unknown };
          files: { startedAt: string; finishedAt: string; status: string; areas: { name: string; files: number }[] };
        };
        objects: { key: string }[];
      };
      const { database, files } = manifest.parts;
      t.truthy(database.galera);
      t.is(files.status, 'complete');
      t.deepEqual(
        files.areas.map((a) => a.name),
        ['var', 'pub/media', 'pub/static', 'app/etc'],
      );
      t.true(files.areas.every((a) => a.files > 0));
      t.true(
        database.startedAt <= database.finishedAt &&
          database.finishedAt <= files.startedAt &&
          files.startedAt <= files.finishedAt,
      );
      t.true(manifest.objects.some((o) => o.key.endsWith('db.xbstream.zst')));
      t.true(manifest.objects.some((o) => o.key.startsWith('packs/')));
      t.is((await lifeboat(repo, ['verify', id])).code, 0);

      const subpath = ['restore', 'files', '--snapshot', id, '--area', 'pub/media', '--path', 'catalog/product', '--to', target];
      const dry = await lifeboat(repo, [...subpath, '--dry-run']);
      t.is(dry.code, 0, dry.stderr);
      t.regex(dry.stdout, /would restore \d+ file/);
      t.deepEqual(readdirSync(target), [], 'a dry run writes nothing');
      const restore = await lifeboat(repo, subpath);
      t.is(restore.code, 0, restore.stderr);
      t.notRegex(restore.stderr, /Warning/, 'a restore prints no Node warnings');
      t.deepEqual(readdirSync(target), ['catalog'], 'only the subpath is restored');
      const again = await lifeboat(repo, ['restore', 'files', '--snapshot', id, '--area', 'pub/media', '--to', target]);
      t.is(again.code, 1, 'a non-empty target is refused without --force');
      t.regex(again.stderr, /not empty.*--force/);
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(target, { recursive: true, force: true });
    }
  }));
