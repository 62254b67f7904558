import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import test from 'ava';
import { loadConfig, parseConfig, redacted } from '../../config/load.js';
import { localServer } from '../../jobs/settings.js';
import { ConfigError } from '../../src/lib/errors.js';
import { repoRoot } from '../helpers/testbed.js';

const env = { LIFEBOAT_DB_PASSWORD: 'db-pw-123', LIFEBOAT_S3_ACCESS_KEY: 'AKIA-TEST', LIFEBOAT_API_TOKEN: 'tok-456' };
const dir = mkdtempSync(join(tmpdir(), 'lifeboat-config-'));
writeFileSync(join(dir, 's3-secret'), 's3-secret-789\n', { mode: 0o600 });

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

const example = readFileSync(join(repoRoot, 'config/lifeboat.example.yaml'), 'utf8').replace(
  '/etc/lifeboat/s3-secret',
  join(dir, 's3-secret'),
);

test('the example config is valid and documents defaults', (t) => {
  const config = parseConfig(example, 'example', { env, hostname: 'node2' });
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

for (const node of ['node1', 'node2', 'node3']) {
  test(`the example config works unchanged on ${node} (the local server the daemon uses)`, (t) => {
    const config = parseConfig(example, 'example', { env: { ...env, LIFEBOAT_NODE: node } });
    t.is(config.cluster.node, node);
    t.like(localServer(config), { socket: '/run/mysqld/mysqld.sock', user: 'lifeboat', password: 'db-pw-123' });
  });
}

test('a node may override the shared socket and datadir', (t) => {
  const config = parseConfig(
    `cluster: { name: shop, node: n2, nodes: [{ name: n1, host: a }, { name: n2, host: b, socket: /tmp/n2.sock, datadir: /data/n2 }] }
database: { socket: /tmp/shared.sock, datadir: /data/shared }
storage: { url: "file:///var/backups/lifeboat" }
`,
    'x',
    { env: {} },
  );
  t.like(config.cluster.nodes[0], { socket: '/tmp/shared.sock', datadir: '/data/shared' });
  t.like(localServer(config), { socket: '/tmp/n2.sock', datadir: '/data/n2' });
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
  t.true(issues.includes("schedules.snapshot: invalid cron expression 'every six hours' (expected 5 or 6 fields but got 3)"));
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

/** `minimal` plus `extra` (YAML lines at the top level). */
const withExtra = (extra: string) => `${minimal}${extra}\n`;

test('crons and time zones are checked exactly as the scheduler checks them', (t) => {
  t.deepEqual(
    issuesOf(() =>
      parseConfig(withExtra('schedules: { snapshot: "99 99 * * *", prune: "a b c d e", timezone: Mars/Olympus }'), 'x'),
    ),
    [
      "schedules.timezone: unknown time zone 'Mars/Olympus' (expected an IANA name such as UTC or Europe/Berlin)",
      "schedules.snapshot: invalid cron expression '99 99 * * *' (minute: 99 is a invalid expression for minute; hour: 99 is a invalid expression for hour)",
      "schedules.prune: invalid cron expression 'a b c d e' (minute: a is a invalid expression for minute; hour: b is a invalid expression for hour; dayOfMonth: c is a invalid expression for day of month; month: d is a invalid expression for month; dayOfWeek: e is a invalid expression for week day)",
    ],
  );
  t.deepEqual(
    issuesOf(() => parseConfig(withExtra('schedules: { timezone: "", verify: "0 0 31 2 *" }'), 'x')),
    [
      "schedules.timezone: unknown time zone '' (expected an IANA name such as UTC or Europe/Berlin)",
      "schedules.verify: invalid cron expression '0 0 31 2 *' (dayOfMonth: 31 2 is an impossible day of month for the given month)",
    ],
  );
  const ok = parseConfig(withExtra('schedules: { timezone: Europe/Berlin, snapshot: "*/30 * * * * *" }'), 'x');
  t.is(ok.schedules.timezone, 'Europe/Berlin');
});

test('api.listen: a port out of range or a bad host is refused; a non-loopback address needs a token', (t) => {
  t.deepEqual(
    issuesOf(() => parseConfig(withExtra('api: { listen: "127.0.0.1:99999" }'), 'x')),
    ['api.listen: port 99999 is out of range (0-65535)'],
  );
  t.deepEqual(
    issuesOf(() => parseConfig(withExtra('api: { listen: "300.1.1.1:80" }'), 'x')),
    ["api.listen: expected host:port, e.g. 127.0.0.1:8470, got '300.1.1.1:80'"],
  );
  t.deepEqual(
    issuesOf(() => parseConfig(withExtra('api: { listen: "0.0.0.0:8470" }'), 'x')),
    ["api.token: required when api.listen is not a loopback address ('0.0.0.0:8470')"],
  );
  t.is(
    parseConfig(withExtra('api: { listen: "0.0.0.0:8470", token: { env: T } }'), 'x', { env: { T: 'x' } }).api.listen,
    '0.0.0.0:8470',
  );
  t.is(parseConfig(withExtra('api: { listen: "localhost:0" }'), 'x').api.listen, 'localhost:0');
});

test('area names and paths cannot leave files.root', (t) => {
  t.deepEqual(
    issuesOf(() =>
      parseConfig(
        withExtra(
          'files: { areas: [{ name: "../etc" }, { name: var/.. }, { name: a, path: "../../etc" }, { name: b, path: /etc }, { name: c, path: "x//y" }] }',
        ),
        'x',
      ),
    ),
    [
      'files.areas.0.name: expected a relative path such as pub/media',
      'files.areas.1.name: expected a relative path such as pub/media',
      "files.areas.2.path: expected a relative path below files.root without '.' or '..', e.g. pub/media",
      "files.areas.3.path: expected a relative path below files.root without '.' or '..', e.g. pub/media",
      "files.areas.4.path: expected a relative path below files.root without '.' or '..', e.g. pub/media",
    ],
  );
});

test('a wrong type says what was expected and what it got', (t) => {
  const issues = issuesOf(() =>
    parseConfig(
      `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: 127.0.0.1, port: "3306" }] }
storage: { url: "file:///x", concurrency: 1.5, forcePathStyle: "yes" }
files: { areas: pub/media }
database: { password: 5, tools: [] }
log: { level: verbose }
alerts: { rpoHours: }
`,
      'x',
    ),
  );
  t.deepEqual(issues, [
    'cluster.nodes.0.port: expected an integer, got the string "3306"',
    'database.password: expected a secret: { env: NAME }, { file: /path } or a string, got the number 5',
    'database.tools: expected a mapping, got a list',
    'storage.forcePathStyle: expected true or false, got the string "yes"',
    'storage.concurrency: expected an integer, got the number 1.5',
    'files.areas: expected a list, got the string "pub/media"',
    'log.level: expected one of error, warn, info, debug, got the string "verbose"',
    'alerts.rpoHours: expected a number, got an empty value',
  ]);
});

test('numbers have upper bounds', (t) => {
  t.deepEqual(
    issuesOf(() =>
      parseConfig(
        withExtra(
          'retention: { keepLast: 99999999, dailyDays: 100000 }\nalerts: { rpoHours: .inf }\ndaemon: { leaseTtlSeconds: 1e300 }',
        ),
        'x',
      ),
    ),
    [
      'retention.dailyDays: expected at most 3650, got the number 100000',
      'retention.keepLast: expected at most 1000, got the number 99999999',
      'daemon.leaseTtlSeconds: expected at most 3600, got the number 1e+300',
      'alerts.rpoHours: expected a number, got the number Infinity',
    ],
  );
});

test('a top-level list, a scalar, a binary file or an alias bomb is a config error saying what the file should be', (t) => {
  const expected = 'expected a YAML config file like config/lifeboat.example.yaml';
  t.deepEqual(
    issuesOf(() => parseConfig('- cluster\n- storage\n', 'x')),
    [`: ${expected} (a mapping of settings), got a list`],
  );
  t.deepEqual(
    issuesOf(() => parseConfig('just words', 'x')),
    [`: ${expected} (a mapping of settings), got the string "just words"`],
  );
  const binary = join(dir, 'binary.yaml');
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0xff, 0xfe]));
  t.deepEqual(
    issuesOf(() => loadConfig(binary)),
    [`: not a text file: ${expected}`],
  );
  t.deepEqual(
    issuesOf(() => loadConfig(dir)),
    [`: not a regular file: ${expected}`],
  );
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${'abcdefghij'[i]}: &${'abcdefghij'[i]} [${Array(9)
        .fill(`*${'abcdefghij'[i - 1]}`)
        .join(',')}]`,
    );
  t.deepEqual(
    issuesOf(() => parseConfig(levels.join('\n'), 'bomb.yaml')),
    [': yaml: Excessive alias count indicates a resource exhaustion attack'],
  );
});

test('a secret file readable by group or others is refused', (t) => {
  const open = join(dir, 'open-secret');
  writeFileSync(open, 'pw\n');
  chmodSync(open, 0o640);
  t.deepEqual(
    issuesOf(() => parseConfig(withExtra(`database: { password: { file: ${open} } }`), 'x')),
    [`database.password: secret file ${open} is readable by group or others (mode 0640); chmod 600 it`],
  );
  chmodSync(open, 0o600);
  t.is(parseConfig(withExtra(`database: { password: { file: ${open} } }`), 'x').database.password?.reveal(), 'pw');
});

test('health: defaults, per-node brick port and daemon address, every problem named by its field', (t) => {
  const config = parseConfig(minimal, 'minimal', { env });
  t.deepEqual(config.health, {
    enabled: true,
    intervalSeconds: 1,
    probeTimeoutMs: 800,
    suspectAfterSeconds: 0,
    lostAfterSeconds: 5,
    recoverAfterSeconds: 10,
    witnessIntervalSeconds: 2,
    witnessStaleSeconds: 8,
  });
  const nodes = parseConfig(
    `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: a, brickPort: 49152, api: "10.0.0.11:8470" }, { name: n2, host: b }] }
storage: { url: "file:///var/backups/lifeboat" }
`,
    'nodes',
    { env },
  ).cluster.nodes;
  t.like(nodes[0], { brickPort: 49152, api: '10.0.0.11:8470' });
  t.is(nodes[1]?.brickPort, undefined);
  t.deepEqual(
    issuesOf(() =>
      parseConfig(
        `${minimal}health: { enabled: "yes", intervalSeconds: 0, probeTimeoutMs: 10, lostAfterSeconds: 99999, bogus: 1 }\n`,
        'x',
        { env },
      ),
    ),
    [
      'health.enabled: expected true or false, got the string "yes"',
      'health.intervalSeconds: expected at least 0.1, got the number 0',
      'health.probeTimeoutMs: expected at least 50, got the number 10',
      'health.lostAfterSeconds: expected at most 3600, got the number 99999',
      'health.bogus: unknown key',
    ],
  );
  t.deepEqual(
    issuesOf(() =>
      parseConfig(
        `${minimal}health: { intervalSeconds: 1, probeTimeoutMs: 1500, suspectAfterSeconds: 5, lostAfterSeconds: 5, witnessIntervalSeconds: 5, witnessStaleSeconds: 6 }\n`,
        'x',
        { env },
      ),
    ),
    [
      'health.probeTimeoutMs: expected at most health.intervalSeconds (1000 ms), got 1500',
      'health.suspectAfterSeconds: expected less than health.lostAfterSeconds (5), got 5',
      'health.witnessStaleSeconds: expected at least twice health.witnessIntervalSeconds (10), got 6',
    ],
  );
  t.deepEqual(
    issuesOf(() =>
      parseConfig(
        `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: a, brickPort: 0, api: "nope" }] }
storage: { url: "file:///var/backups/lifeboat" }
`,
        'x',
        { env },
      ),
    ),
    [
      'cluster.nodes.0.brickPort: expected at least 1, got the number 0',
      "cluster.nodes.0.api: expected host:port, e.g. 127.0.0.1:8470, got 'nope'",
    ],
  );
});
