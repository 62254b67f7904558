/**
 * Magento-like file tree for file-backup tests: product images (incompressible),
 * large media, compressible static assets, app/etc config, logs, caches and
 * sessions (which backups normally exclude), relative symlinks and empty
 * directories. Content is a pure function of (seed, path, size), and files are
 * written with many requests in flight because the usual target is a
 * GlusterFS FUSE mount where per-file latency dominates.
 */
import { createHash } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import { binaryFor, textAsset } from './media-content.js';
import { cacheEntry, configPhp, envPhp, logFile, sessionFile } from './media-fixtures.js';
import { Rng } from './prng.js';

export interface GenerateMediaOptions {
  /** Created if missing; existing files at generated paths are overwritten, others are left alone. */
  root: string;
  /** Product images of 5-50 KB under pub/media/catalog/product. */
  smallFiles: number;
  /** Images of 1-5 MB under pub/media/catalog/product and pub/media/wysiwyg. */
  largeFiles: number;
  /** Text assets of 1-30 KB under pub/static/frontend/Magento/luma/en_US. */
  staticFiles: number;
  seed?: number;
}

export interface GenerateMediaResult {
  /** Regular files written (fixtures included). */
  files: number;
  bytes: number;
  seconds: number;
}

export interface MutateMediaOptions {
  root: string;
  /** Share of existing pub/media files to rewrite, 0-100. */
  percent: number;
  seed?: number;
}

export interface MutateMediaResult {
  /** Paths relative to root, '/'-separated, sorted. */
  changed: string[];
  added: string[];
  deleted: string[];
}

/** Concurrent file operations; sized for FUSE/GlusterFS round trips. */
const IN_FLIGHT = 16;
const KB = 1024;
const MB = 1024 * KB;

interface FileSpec {
  readonly path: string;
  readonly size: number;
  readonly content: () => Buffer | string;
}

const SYMLINKS: readonly (readonly [string, string])[] = [
  ['pub/media/current', 'catalog'],
  ['pub/static/frontend/Magento/luma/default', 'en_US'],
  ['var/log/latest.log', 'system.log'],
];

const EMPTY_DIRS = [
  'pub/media/import',
  'pub/media/tmp/catalog/product',
  'pub/media/downloadable/files',
  'var/import_history',
  'var/export',
  'generated/code',
];

const PRODUCT_COLORS = ['black', 'blue', 'gray', 'green', 'orange', 'purple', 'red', 'white', 'yellow'];
const VIEWS = ['main', 'back', 'alt1', 'alt2', 'side'];
const WYSIWYG_DIRS = ['banners', 'home', 'lookbook', 'cms/landing'];
const STATIC_MODULES = [
  'Magento_Catalog',
  'Magento_Checkout',
  'Magento_Customer',
  'Magento_Theme',
  'Magento_Ui',
  'Magento_Swatches',
  'Magento_Sales',
  'Magento_Search',
  'Magento_PageBuilder',
  'Magento_Review',
  'Magento_Wishlist',
  'Magento_Paypal',
  'mage',
  'jquery/ui-modules',
];
const CACHE_HASHES = ['3c7a1a1e8a2b8b6f1d6f7c9a4e2d5b10', 'a8f2c4d6e1b3a5c7d9e0f1a2b3c4d5e6'];

/** Creates the tree described in GenerateMediaOptions under `root`. */
export async function generateMedia(opts: GenerateMediaOptions): Promise<GenerateMediaResult> {
  const started = performance.now();
  const seed = opts.seed ?? 1;
  const specs = [
    ...smallImages(seed, opts.smallFiles),
    ...largeImages(seed, opts.largeFiles),
    ...staticAssets(seed, opts.staticFiles),
    ...fixtures(seed, opts.smallFiles),
  ];
  const dirs = new Set<string>(EMPTY_DIRS);
  for (const s of specs) dirs.add(posix.dirname(s.path));
  for (const [link] of SYMLINKS) dirs.add(posix.dirname(link));
  await forEachLimit([...dirs], IN_FLIGHT, (d) => mkdir(join(opts.root, d), { recursive: true }).then(() => {}));
  let bytes = 0;
  await forEachLimit(specs, IN_FLIGHT, async (s) => {
    const data = s.content();
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    await writeFile(join(opts.root, s.path), data);
  });
  for (const [link, target] of SYMLINKS) {
    await rm(join(opts.root, link), { force: true });
    await symlink(target, join(opts.root, link));
  }
  return { files: specs.length, bytes, seconds: secondsSince(started) };
}

/**
 * Rewrites ~percent% of the images under pub/media with different content
 * (half keep their size, so size alone cannot detect the change), adds and
 * deletes a few (about a tenth of the changed count each). Deterministic for
 * a given tree and seed; percent 0 changes nothing.
 */
export async function mutateMedia(opts: MutateMediaOptions): Promise<MutateMediaResult> {
  const seed = opts.seed ?? 1;
  const files = (await listFiles(opts.root, 'pub/media')).filter((p) => IMAGE.test(p)).sort();
  const rng = Rng.derive(seed, `mutate:${files.length}`);
  const order = shuffled(rng, files);
  const changeCount = Math.min(files.length, Math.round((files.length * Math.max(0, opts.percent)) / 100));
  const fewCount = changeCount === 0 ? 0 : Math.max(1, Math.ceil(changeCount / 10));
  const changed = order.slice(0, changeCount).map((path) => ({ path, resize: rng.chance(0.5) ? 0.8 + rng.next() * 0.4 : 1 }));
  const deleted = order.slice(changeCount, changeCount + fewCount);
  const added = newMediaPaths(rng, seed, files, fewCount).map((path) => ({ path, size: rng.int(5 * KB, 50 * KB) }));

  await forEachLimit(changed, IN_FLIGHT, async ({ path, resize }) => {
    const full = join(opts.root, path);
    const current = await readFile(full);
    const digest = createHash('sha256').update(current).digest('hex');
    const size = Math.max(1024, Math.round(current.length * resize));
    await writeFile(full, binaryFor(path, `${seed}:mutate:${path}:${digest}`, size));
  });
  await forEachLimit(added, IN_FLIGHT, async ({ path, size }) => {
    await mkdir(dirname(join(opts.root, path)), { recursive: true });
    await writeFile(join(opts.root, path), binaryFor(path, `${seed}:${path}`, size));
  });
  await forEachLimit(deleted, IN_FLIGHT, (path) => unlink(join(opts.root, path)));
  return {
    changed: changed.map((c) => c.path).sort(),
    added: added.map((a) => a.path).sort(),
    deleted: deleted.sort(),
  };
}

const IMAGE = /\.(jpe?g|png)$/;

// --- plans -----------------------------------------------------------------

function productFileName(rng: Rng, i: number): string {
  const sku = `${rng.chars(2, 'abcdefghijklmnopqrstuvwxyz')}${String(rng.int(1, 99)).padStart(2, '0')}`;
  return `${sku}-${rng.pick(PRODUCT_COLORS)}_${rng.pick(VIEWS)}_${i}`;
}

/** Magento's dispersion path: catalog/product/<c1>/<c2>/<name>. */
function dispersed(name: string): string {
  return `${name[0] ?? '_'}/${name[1] ?? '_'}/${name}`;
}

function smallImages(seed: number, count: number): FileSpec[] {
  const rng = Rng.derive(seed, 'media:small');
  return Array.from({ length: count }, (_, i) => {
    const name = `${productFileName(rng, i)}.jpg`;
    const cached = rng.chance(0.1);
    const path = cached
      ? `pub/media/catalog/product/cache/${rng.pick(CACHE_HASHES)}/${dispersed(name)}`
      : `pub/media/catalog/product/${dispersed(name)}`;
    const size = rng.int(5 * KB, 50 * KB);
    return { path, size, content: () => binaryFor(path, `${seed}:${path}`, size) };
  });
}

function largeImages(seed: number, count: number): FileSpec[] {
  const rng = Rng.derive(seed, 'media:large');
  return Array.from({ length: count }, (_, i) => {
    const inCatalog = rng.chance(0.6);
    const path = inCatalog
      ? `pub/media/catalog/product/${dispersed(`${productFileName(rng, i)}_hires.jpg`)}`
      : `pub/media/wysiwyg/${rng.pick(WYSIWYG_DIRS)}/${rng.pick(['hero', 'banner', 'campaign', 'lookbook'])}-${i}.${rng.chance(0.3) ? 'png' : 'jpg'}`;
    const size = rng.int(1 * MB, 5 * MB);
    return { path, size, content: () => binaryFor(path, `${seed}:${path}`, size) };
  });
}

function staticAssets(seed: number, count: number): FileSpec[] {
  const rng = Rng.derive(seed, 'media:static');
  const base = 'pub/static/frontend/Magento/luma/en_US';
  const specs: FileSpec[] = Array.from({ length: count }, (_, i) => {
    const kind = rng.weighted([
      ['js', 0.55],
      ['html', 0.3],
      ['css', 0.15],
    ] as const);
    const dir =
      kind === 'js'
        ? rng.pick(['js', 'js/view', 'js/model'])
        : kind === 'html'
          ? rng.pick(['template', 'template/product'])
          : 'css';
    const path = `${base}/${rng.pick(STATIC_MODULES)}/${dir}/${rng.pick(['list', 'view', 'form', 'grid', 'modal', 'price', 'cart'])}-${i}.${kind}`;
    const size = rng.int(1 * KB, 30 * KB);
    return { path, size, content: () => textAsset(path, `${seed}:${path}`, size) };
  });
  specs.push({ path: 'pub/static/deployed_version.txt', size: 10, content: () => '1719740000' });
  return specs;
}

/** Config, logs, cache and session files; cache/session counts grow with the shop. */
function fixtures(seed: number, smallFiles: number): FileSpec[] {
  const rng = Rng.derive(seed, 'media:fixtures');
  const text = (path: string, make: () => string): FileSpec => {
    const content = make();
    return { path, size: content.length, content: () => content };
  };
  const specs: FileSpec[] = [
    text('app/etc/env.php', () => envPhp(rng)),
    text('app/etc/config.php', () => configPhp()),
    text('var/log/system.log', () => logFile(rng, 256 * KB)),
    text('var/log/exception.log', () => logFile(rng, 64 * KB)),
    text('var/log/debug.log', () => logFile(rng, 128 * KB)),
    text('pub/media/.htaccess', () => 'Options -Indexes\n<IfModule mod_php7.c>\n    php_flag engine 0\n</IfModule>\n'),
  ];
  const cacheFiles = 20 + Math.floor(smallFiles / 50);
  for (let i = 0; i < cacheFiles; i++) {
    const id = `${rng.pick(['CONFIG', 'LAYOUT', 'EAV', 'TRANSLATE', 'BLOCK_HTML'])}_${rng.hex(12).toUpperCase()}`;
    specs.push(text(`var/cache/mage--${rng.hex(1)}/mage---40d_${id}`, () => cacheEntry(rng, id)));
  }
  const sessions = 10 + Math.floor(smallFiles / 100);
  for (let i = 0; i < sessions; i++) {
    specs.push(text(`var/session/sess_${rng.chars(26, 'abcdefghijklmnopqrstuvwxyz0123456789')}`, () => sessionFile(rng)));
  }
  return specs;
}

function newMediaPaths(rng: Rng, seed: number, existing: readonly string[], count: number): string[] {
  const taken = new Set(existing);
  const out: string[] = [];
  while (out.length < count) {
    const name = `${productFileName(rng, seed)}_new${rng.hex(6)}.jpg`;
    const path = rng.chance(0.8)
      ? `pub/media/catalog/product/${dispersed(name)}`
      : `pub/media/wysiwyg/${rng.pick(WYSIWYG_DIRS)}/${name}`;
    if (!taken.has(path)) {
      taken.add(path);
      out.push(path);
    }
  }
  return out;
}

// --- helpers ---------------------------------------------------------------

/** Regular files below root/sub (symlinks are not followed), as '/'-separated paths relative to root. */
async function listFiles(root: string, sub: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.push(relative(root, full).split(sep).join('/'));
    }
  };
  await walk(join(root, sub));
  return out;
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** Runs fn over items with at most `limit` calls in flight; stops scheduling after the first failure. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function secondsSince(started: number): number {
  return Math.round((performance.now() - started) / 100) / 10;
}
