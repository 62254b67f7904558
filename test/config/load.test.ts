import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import test from 'ava';
import { loadConfig, parseConfig, redacted } from '../../config/load.js';
import { ConfigError } from '../../src/lib/errors.js';
import { repoRoot } from '../helpers/testbed.js';

const env = { LIFEBOAT_DB_PASSWORD: 'db-pw-123', LIFEBOAT_S3_ACCESS_KEY: 'AKIA-TEST', LIFEBOAT_API_TOKEN: 'tok-456' };
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
writeFileSync(join(dir, 's3-secret'), 's3-secret-789\n');

const minimal = `
cluster: { name: shop, node: n1, nodes: [{ name: n1, host: 127.0.0.1 }] }
storage: { url: "file:///var/backups/lifeboat" }
`;

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  throw new Error('expected a ConfigError');
}

test('the example config is valid and documents defaults', (t) => {
  const text = readFileSync(join(repoRoot, 'config/lifeboat.example.yaml'), 'utf8').replace(
    '/etc/lifeboat/s3-secret',
    join(dir, 's3-secret'),
  );
  const config = parseConfig(text, 'example', { env, hostname: 'node2' });
  t.is(config.cluster.node, 'node2');
  t.is(config.schedules.snapshot, '0 */6 * * *');
  t.is(config.database.password?.reveal(), 'db-pw-123');
  t.is(config.storage.secretAccessKey?.reveal(), 's3-secret-789');
  t.deepEqual(
    config.files.areas.map((a) => a.path),
    ['var', 'pub/media', 'pub/static', 'app/etc'],
  );
  t.true(Object.isFrozen(config) && Object.isFrozen(config.files.areas[0]));
});

test('defaults fill a minimal config', (t) => {
  const config = parseConfig(minimal, 'minimal', { env: {} });
  t.is(config.storage.concurrency, 8);
  t.is(config.retention.keepAllDays, 3);
  t.is(config.api.listen, '127.0.0.1:8470');
  t.is(config.cluster.nodes[0]?.port, 3306);
});

test('every problem is reported at once with its field path', (t) => {
  const issues = issuesOf(() =>
    parseConfig(
      `
cluster: { name: Shop!, nodes: [] }
storage: { url: "ftp://x", concurrency: 0 }
schedules: { snapshot: "every six hours" }
colour: blue
`,
      'bad.yaml',
      { env: {} },
    ),
  );
  t.true(issues.includes('storage.url: expected s3://bucket/prefix or file:///path'), issues.join('\n'));
  t.true(issues.some((i) => i.startsWith('cluster.name: expected lowercase')));
  t.true(issues.includes('cluster.nodes: expected at least one node'));
  t.true(issues.some((i) => i.startsWith('storage.concurrency:')));
  t.true(issues.some((i) => i.startsWith('schedules.snapshot: expected a cron expression')));
  t.true(issues.includes('colour: unknown key'));
});

test('cross-field problems name the field', (t) => {
  const issues = issuesOf(() =>
    parseConfig(
      `
cluster: { name: shop, node: n9, nodes: [{ name: n1, host: a }, { name: n1, host: b }] }
database: { preferredNodes: [n7], password: { env: MISSING_PW } }
storage: { url: "s3://bucket/prefix", secretAccessKey: { file: /nonexistent/secret } }
`,
      'bad.yaml',
      { env: {} },
    ),
  );
  t.deepEqual(issues.sort(), [
    "cluster.node: 'n9' is not one of cluster.nodes (n1, n1); set cluster.node or LIFEBOAT_NODE",
    "cluster.nodes: node name 'n1' appears twice",
    'database.password: environment variable MISSING_PW is not set',
    "database.preferredNodes.0: unknown node 'n7'",
    'storage.accessKeyId: required for s3:// storage',
    'storage.secretAccessKey: cannot read secret file /nonexistent/secret: ENOENT',
  ]);
});

test('secrets never print', (t) => {
  const config = parseConfig(`${minimal}\napi: { token: { env: LIFEBOAT_API_TOKEN } }\n`, 'x', { env });
  const shown = [
    JSON.stringify(redacted(config)),
    inspect(config, { depth: 10 }),
    String(config.api.token),
    `${JSON.stringify(config)}`,
  ];
  for (const text of shown) t.false(text.includes('tok-456'), text);
  t.is(config.api.token?.reveal(), 'tok-456');
});

test('yaml syntax errors and missing files are config errors', (t) => {
  t.throws(() => parseConfig('cluster: [unclosed', 'broken.yaml'), {
    instanceOf: ConfigError,
    message: /broken\.yaml.*\n.*yaml:/,
  });
  t.throws(() => loadConfig('/nonexistent/lifeboat.yaml'), { instanceOf: ConfigError, message: /cannot read file/ });
});
