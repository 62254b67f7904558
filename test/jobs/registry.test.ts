import test from 'ava';
import type { Config } from '../../config/load.js';
import { JOBS, jobKinds, jobOf } from '../../jobs/registry.js';

/** Just what the parameter checks read of a config. */
const config = {
  files: { root: '/srv/shop', source: 'auto', areas: [{ name: 'media', path: 'pub/media', include: [], exclude: [] }] },
} as unknown as Config;

test('each registered job is filed under its own kind, with a schedule key of the config', (t) => {
  t.deepEqual(jobKinds, ['snapshot', 'prune', 'verify', 'staging-sync']);
  for (const [key, job] of Object.entries(JOBS)) {
    t.is(job.kind, key);
    t.is(jobOf(key), job);
    t.true(job.scheduleKey === undefined || ['snapshot', 'prune', 'verify'].includes(job.scheduleKey));
  }
  t.throws(() => jobOf('toString'), { message: "job kind 'toString': unknown (known: snapshot, prune, verify, staging-sync)" });
});

test('snapshot parameters: defaults, methods, areas checked against the config', (t) => {
  const params = (input: unknown) => JOBS.snapshot.params(input, config);
  t.deepEqual(params(undefined), { database: 'physical', areas: 'all' });
  t.deepEqual(params({ database: 'logical', areas: ['media'] }), { database: 'logical', areas: ['media'] });
  t.deepEqual(params({ database: false }), { database: false, areas: 'all' });
  t.throws(() => params({ database: false, areas: false }), {
    message: 'snapshot: nothing to take (no database, no file areas)',
  });
  t.throws(() => params({ areas: ['var'] }), { message: /^--area: unknown area\(s\) var \(configured: media\)$/ });
  t.throws(() => params({ database: 'hot' }), { message: "request body: 'database' must be 'physical', 'logical' or false" });
  t.throws(() => params({ force: true, node: 'n2' }), { message: "request body: unknown fields 'force', 'node'" });
  t.throws(() => params([1]), { message: 'request body: expected a JSON object' });
});

test('prune and verify parameters', (t) => {
  t.deepEqual(JOBS.prune.params(undefined, config), { dryRun: false, forceWhileFailing: false });
  t.deepEqual(JOBS.prune.params({ dryRun: true }, config), { dryRun: true, forceWhileFailing: false });
  t.throws(() => JOBS.prune.params({ dryRun: 'yes' }, config), { message: "request body: 'dryRun' must be true or false" });
  t.deepEqual(JOBS.verify.params({ snapshot: '2026-11' }, config), { snapshot: '2026-11', readDataSubset: undefined });
  t.throws(() => JOBS.verify.params({ readDataSubset: '1' }, config), { message: /'readDataSubset' must be a number/ });
});

test('staging-sync parameters: refused while Staging is not configured; defaults and checks once it is', (t) => {
  t.throws(() => JOBS['staging-sync'].params(undefined, config), { message: /^staging: not configured/ });
  const staged = {
    ...config,
    staging: {
      sourceDatabase: 'magento',
      target: { socket: '/run/staging.sock', port: 3306, user: 'staging', database: 'magento' },
      hosts: { 'shop.example.com': 'staging.shop.test' },
      overrides: [],
      anonymize: { enabled: false, admins: false, columns: {} },
      preserve: { paths: [] },
    },
  } as unknown as typeof config;
  const params = (input: unknown) => JOBS['staging-sync'].params(input, staged);
  t.deepEqual(params(undefined), {
    source: 'snapshot',
    snapshot: 'latest',
    media: false,
    anonymize: false,
    strip: ['@stripped', 'cron_schedule'],
    dryRun: false,
  });
  t.deepEqual(params({ strip: ['@trade', 'my_log'], dryRun: true }).strip, ['@trade', 'my_log']);
  t.throws(() => params({ strip: ['@nope'] }), { message: /^strip: unknown table group '@nope'/ });
  t.is(params({ source: 'live' }).source, 'live');
  t.throws(() => params({ source: 'mirror' }), { message: /'source' must be "snapshot" or "live", got "mirror"/ });
  t.throws(() => params({ source: 'live', snapshot: 'latest' }), {
    message: /'snapshot' names a snapshot, but 'source' is "live"/,
  });
  t.throws(() => params({ include: ['media'] }), { message: /'include' must be \["db"\] or \["db", "media"\]/ });
  t.throws(() => params({ include: ['db', 'media'] }), { message: /names media, but staging.media is not configured/ });
  t.throws(() => params({ snapshot: '../x' }), { message: /'snapshot' must be a snapshot id or 'latest'/ });
  t.throws(() => params({ anonymize: true }), { message: /staging.anonymize.salt: required/ });
  t.throws(() => params({ bogus: 1 }), { message: "request body: unknown field 'bogus'" });
});
