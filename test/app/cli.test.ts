import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import test from 'ava';
import { reportError } from '../../src/app/cli.js';
import { cli } from '../helpers/cli.js';
import { lifeboatBin } from '../helpers/lifeboat.js';
import { repoRoot } from '../helpers/testbed.js';

const dir = mkdtempSync(join(tmpdir(), 'lifeboat-cli-'));
const good = join(dir, 'good.yaml');
writeFileSync(
  good,
  `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: 127.0.0.1 }] }
storage: { url: "s3://bucket/prefix", accessKeyId: { env: KEY }, secretAccessKey: { env: SECRET } }
`,
);
const bad = join(dir, 'bad.yaml');
writeFileSync(bad, 'cluster: { name: shop, nodes: [] }\nstorage: { url: "ftp://nope" }\n');
const env = { KEY: 'AKIA1', SECRET: 'super-secret-value' };

test('--help and --version exit 0', async (t) => {
  const help = await cli(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /Usage: lifeboat/);
  t.regex(help.stdout, /Exit codes: 0 ok, 1 the operation failed, 2 usage/);
  const version = await cli(['--version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^\d+\.\d+\.\d+/);
});

test('--help lists every command', async (t) => {
  const listed = async (argv: string[]) =>
    [...((await cli(argv)).stdout.split('Commands:\n')[1] ?? '').matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
  t.deepEqual(await listed(['--help']), [
    'config',
    'snapshot',
    'snapshots',
    'show',
    'verify',
    'daemon',
    'restore',
    'prune',
    'verify-all',
    'staging',
    'cluster',
    'recover',
    'help',
  ]);
  t.deepEqual(await listed(['config', '--help']), ['check', 'help']);
  t.deepEqual(await listed(['restore', '--help']), ['db', 'files', 'help']);
  t.deepEqual(await listed(['staging', '--help']), ['sync', 'status', 'help']);
});

test('unknown flags and commands are usage errors with a message, not a stack trace', async (t) => {
  for (const argv of [['--bogus'], ['frobnicate'], ['config', 'check', '--nope'], ['--log-level', 'loud', 'config', 'check']]) {
    const r = await cli(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, /lifeboat: error: /);
    t.notRegex(r.stderr, /\n\s+at /);
  }
});

test('config check prints the resolved config with secrets redacted', async (t) => {
  const r = await cli(['config', 'check', '--config', good], env);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /: ok/);
  t.regex(r.stdout, /secretAccessKey: "\[redacted\] \(env SECRET\)"/);
  t.false(r.stdout.includes('super-secret-value'));
  const json = await cli(['--json', 'config', 'check', '--config', good], env);
  t.is(json.code, 0);
  t.is((JSON.parse(json.stdout) as { schedules: { snapshot: string } }).schedules.snapshot, '0 */6 * * *');
});

test('a bad config exits 2 naming every field', async (t) => {
  const r = await cli(['config', 'check', '--config', bad]);
  t.is(r.code, 2);
  t.regex(r.stderr, /storage\.url: expected s3:\/\/bucket\/prefix or file:\/\/\/path/);
  t.regex(r.stderr, /cluster\.nodes: expected at least one node/);
  const json = await cli(['--json', 'config', 'check', '--config', bad]);
  t.is((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'config');
});

test('LIFEBOAT_CONFIG names the config file', async (t) => {
  const r = await cli(['config', 'check'], { ...env, LIFEBOAT_CONFIG: good });
  t.is(r.code, 0, r.stderr);
});

/** Runs the built `lifeboat` executable (dist/bundle), as an operator would. */
function bundle(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [lifeboatBin, ...argv], { env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const fileRepo = join(dir, 'files.yaml');
writeFileSync(
  fileRepo,
  `cluster: { name: shop, node: n1, nodes: [{ name: n1, host: 127.0.0.1 }] }\nstorage: { url: "file://${join(dir, 'repo')}" }\n`,
);

test('a bad snapshot id is a usage error (exit 2, not a snapshot id), never a stack trace', async (t) => {
  for (const argv of [
    ['show', '../../etc'],
    ['verify', '/etc/passwd'],
    ['restore', 'db', '--snapshot', '../../etc', '--to', join(dir, 'db')],
    ['restore', 'files', '--snapshot', '/etc/passwd', '--area', 'var', '--to', join(dir, 'files')],
  ]) {
    const r = await bundle(['--config', fileRepo, ...argv]);
    t.is(r.code, 2, `${argv.join(' ')}\n${r.stderr}`);
    t.regex(r.stderr, /not a snapshot id/);
    t.notRegex(r.stderr, /\n\s+at |TypeError/);
  }
});

test('restore, config and staging without a subcommand print help and exit 2', async (t) => {
  for (const command of ['restore', 'config', 'staging']) {
    const r = await bundle([command]);
    t.is(r.code, 2, command);
    t.regex(r.stderr, new RegExp(`Usage: lifeboat ${command}`));
  }
  t.is((await bundle(['restore', '--help'])).code, 0);
  t.is((await bundle(['help', 'config'])).code, 0);
});

test('an internal error is one line; its stack only at --log-level debug', (t) => {
  const report = (debug: boolean) => {
    const stderr = new PassThrough();
    reportError(new TypeError('boom'), { stdout: new PassThrough(), stderr, env: {} }, false, debug);
    return String(stderr.read());
  };
  t.is(report(false), 'lifeboat: boom (an internal error: --log-level debug shows where)\n');
  t.regex(report(true), /^lifeboat: boom\nTypeError: boom\n\s+at /);
});

/** `config check` on a config that is `good` plus `extra` YAML lines. */
async function checkWith(extra: string, envOverride: NodeJS.ProcessEnv = env) {
  const path = join(mkdtempSync(join(dir, 'check-')), 'lifeboat.yaml');
  writeFileSync(path, `${readFileSync(good, 'utf8')}${extra}\n`);
  return cli(['config', 'check', '--config', path], envOverride);
}

test('config check rejects what the daemon would reject, naming the field', async (t) => {
  const cases: [string, string][] = [
    ['schedules: { snapshot: "99 99 * * *" }', "schedules.snapshot: invalid cron expression '99 99 * * *'"],
    ['schedules: { prune: "a b c d e" }', "schedules.prune: invalid cron expression 'a b c d e'"],
    ['schedules: { timezone: Mars/Olympus }', "schedules.timezone: unknown time zone 'Mars/Olympus'"],
    ['schedules: { timezone: "" }', "schedules.timezone: unknown time zone ''"],
    ['api: { listen: "127.0.0.1:99999" }', 'api.listen: port 99999 is out of range (0-65535)'],
    ['api: { listen: "0.0.0.0:8470" }', "api.token: required when api.listen is not a loopback address ('0.0.0.0:8470')"],
    ['files: { areas: [{ name: "../etc" }] }', 'files.areas.0.name: expected a relative path such as pub/media'],
    [
      'files: { areas: [{ name: var, path: "../../etc" }] }',
      "files.areas.0.path: expected a relative path below files.root without '.' or '..'",
    ],
    ['retention: { keepLast: "3" }', 'retention.keepLast: expected an integer, got the string "3"'],
  ];
  for (const [extra, message] of cases) {
    const r = await checkWith(extra);
    t.is(r.code, 2, extra);
    t.true(r.stderr.includes(message), `${extra}\n${r.stderr}`);
    t.notRegex(r.stderr, /\n\s+at /);
  }
});

test('config check: a binary file, a top-level list or an alias bomb exit 2 saying what the file should be', async (t) => {
  const binary = join(dir, 'binary.yaml');
  writeFileSync(binary, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0xff]));
  const list = join(dir, 'list.yaml');
  writeFileSync(list, '- cluster\n- storage\n');
  const bomb = join(dir, 'bomb.yaml');
  const names = 'abcdefghij';
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(', ')}]`,
    );
  writeFileSync(bomb, lines.join('\n'));
  for (const [path, message] of [
    [binary, 'not a text file: expected a YAML config file like config/lifeboat.example.yaml'],
    [list, 'expected a YAML config file like config/lifeboat.example.yaml (a mapping of settings), got a list'],
    [bomb, 'yaml: Excessive alias count'],
  ] as const) {
    const r = await bundle(['config', 'check', '--config', path]);
    t.is(r.code, 2, path);
    t.true(r.stderr.includes(message), r.stderr);
    t.notRegex(r.stderr, /\n\s+at /);
  }
});

test('config check passes the example config unchanged on every node', async (t) => {
  const secret = join(dir, 's3-secret');
  writeFileSync(secret, 'x\n', { mode: 0o600 });
  const example = join(dir, 'example.yaml');
  writeFileSync(
    example,
    readFileSync(join(repoRoot, 'config/lifeboat.example.yaml'), 'utf8').replace('/etc/lifeboat/s3-secret', secret),
  );
  for (const node of ['node1', 'node2', 'node3']) {
    const r = await cli(['--json', 'config', 'check', '--config', example], {
      LIFEBOAT_NODE: node,
      LIFEBOAT_DB_PASSWORD: 'p',
      LIFEBOAT_S3_ACCESS_KEY: 'k',
      LIFEBOAT_API_TOKEN: 't',
    });
    t.is(r.code, 0, r.stderr);
    const config = JSON.parse(r.stdout) as { cluster: { node: string; nodes: { name: string; socket: string }[] } };
    t.is(config.cluster.node, node);
    t.is(config.cluster.nodes.find((n) => n.name === node)?.socket, '/run/mysqld/mysqld.sock');
  }
});
