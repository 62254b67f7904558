import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import test from 'ava';
import { repoRoot } from '../helpers/testbed.js';

/**
 * The import rules of docs/architecture.md: each third-party package has one owning module, each
 * folder imports only the folders below it, and there are no import cycles.
 */

const OWNERS: Record<string, readonly string[]> = {
  '@aws-sdk/client-s3': ['src/storage/s3-store.ts'],
  '@aws-sdk/lib-storage': ['src/storage/s3-store.ts'],
  'p-queue': ['src/lib/limit.ts'],
  picomatch: ['src/files/'],
  'fast-xml-parser': ['src/gluster/volume.ts'],
  'zstd-codec': ['src/codec/'],
  mysql2: ['src/galera/'],
  'tar-stream': ['src/files/'],
  'node-cron': ['src/scheduler/'],
  winston: ['src/app/logging.ts'],
  commander: ['src/app/cli.ts', 'src/app/commands/'],
  'prom-client': ['src/app/metrics.ts'],
  zod: ['config/'],
  yaml: ['config/'],
};

/** The domain modules that jobs and restore playbooks compose. */
const DOMAIN = [
  'src/lib',
  'src/storage',
  'src/codec',
  'src/repo',
  'src/galera',
  'src/coord',
  'src/gluster',
  'src/files',
  'src/staging',
  'src/health',
];

const LAYERS: Record<string, readonly string[]> = {
  'src/lib': [],
  // the scheduler's pure cron and time-zone checks (schedule-check.ts): config accepts what it schedules
  config: ['src/lib', 'src/scheduler'],
  'src/storage': ['src/lib'],
  'src/codec': ['src/lib'],
  'src/repo': ['src/lib', 'src/storage', 'src/codec'],
  'src/galera': ['src/lib'],
  'src/gluster': ['src/lib'],
  // coordination owns its small SQL interface (galera's SqlClient fits it) instead of importing galera
  'src/coord': ['src/lib'],
  'src/files': ['src/lib', 'src/codec', 'src/repo', 'src/storage', 'src/gluster'],
  'src/staging': ['src/lib', 'src/galera'],
  'src/health': ['src/lib', 'src/galera', 'src/coord'],
  'src/scheduler': ['src/lib'],
  // a job definition reads its own settings from the loaded config
  // and runs restore playbooks (a Staging sync restores a snapshot; recovery will too)
  jobs: [...DOMAIN, 'src/scheduler', 'config', 'restore'],
  // restore never imports jobs: a restore must work whatever the jobs do (checked on its own below)
  restore: DOMAIN,
  'src/app': ['*'],
};

const ROOTS = ['src', 'jobs', 'restore', 'config'];

function sources(dir: string): string[] {
  let out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(repoRoot, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out = out.concat(sources(rel));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

function imports(file: string): string[] {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(
    /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g,
  )) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) found.push(spec);
  }
  return found;
}

function layerOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'src' ? `src/${parts[1]}` : (parts[0] ?? '');
}

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? spec);
}

const resolveSpec = (file: string, spec: string): string =>
  relative(repoRoot, resolve(repoRoot, dirname(file), spec)).replace(/\.js$/, '.ts');

const files = ROOTS.flatMap(sources);
const graph = new Map(
  files.map((f) => [
    f,
    imports(f)
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveSpec(f, s)),
  ]),
);

test('sources exist to check', (t) => {
  t.true(files.length > 10);
});

test('each third-party package is imported only by its owning module', (t) => {
  const problems: string[] = [];
  for (const file of files) {
    for (const spec of imports(file)) {
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      const pkg = packageName(spec);
      const owners = OWNERS[pkg];
      if (!owners) problems.push(`${file}: imports '${pkg}', which has no owner in the architecture table`);
      else if (!owners.some((o) => (o.endsWith('/') ? file.startsWith(o) : file === o))) {
        problems.push(`${file}: imports '${pkg}', owned by ${owners.join(', ')}`);
      }
    }
  }
  t.deepEqual(problems, []);
});

test('folders import only the layers they may', (t) => {
  const problems: string[] = [];
  for (const file of files) {
    const from = layerOf(file);
    const allowed = LAYERS[from];
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const to = layerOf(resolveSpec(file, spec));
      if (to === from) continue;
      if (!allowed) problems.push(`${file}: folder '${from}' is not in the layer table`);
      else if (!allowed.includes('*') && !allowed.includes(to))
        problems.push(`${file}: '${from}' may not import '${to}' (${spec})`);
    }
  }
  t.deepEqual(problems, []);
});

test('restore/ never imports jobs/', (t) => {
  const problems = files
    .filter((f) => layerOf(f) === 'restore')
    .flatMap((f) => (graph.get(f) ?? []).filter((to) => layerOf(to) === 'jobs').map((to) => `${f} imports ${to}`));
  t.deepEqual(problems, []);
});

test('there are no import cycles', (t) => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'visiting');
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  t.deepEqual(cycles, []);
});

test('the CLI starts with commander only: a command loads its code when it runs', (t) => {
  // The built files, as Node loads them: type-only imports are gone, import() is not followed.
  const loaded = new Set<string>();
  const problems: string[] = [];
  const load = (file: string): void => {
    if (loaded.has(file)) return;
    loaded.add(file);
    if (/^dist\/(jobs|restore|src\/app\/actions)\//.test(file)) problems.push(`${file} loads at start-up`);
    const text = readFileSync(join(repoRoot, file), 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\b[^'"(]*?\bfrom\s*['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? '';
      if (spec.startsWith('.')) load(relative(repoRoot, resolve(repoRoot, dirname(file), spec)));
      else if (!spec.startsWith('node:') && packageName(spec) !== 'commander')
        problems.push(`${file}: '${spec}' loads at start-up`);
    }
  };
  load('dist/src/app/main.js');
  t.true(loaded.has('dist/src/app/commands/snapshot.js'));
  t.deepEqual(problems, []);
});
