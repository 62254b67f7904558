import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { cli } from '../helpers/cli.js';

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
    'help',
  ]);
  t.deepEqual(await listed(['config', '--help']), ['check', 'help']);
  t.deepEqual(await listed(['restore', '--help']), ['db', 'files', 'help']);
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
