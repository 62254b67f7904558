import { readFileSync } from 'node:fs';
import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { parse } from 'yaml';
import { paramsObject } from '../../jobs/job.js';
import { jobOf } from '../../jobs/registry.js';
import { createApiServer } from '../../src/app/http-api.js';
import { Metrics } from '../../src/app/metrics.js';
import { ConfigError, RetryableError } from '../../src/lib/errors.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { Secret } from '../../src/lib/secret.js';
import { type JobRecord, JobRunner } from '../../src/scheduler/job-runner.js';
import { repoRoot } from '../helpers/testbed.js';

const TOKEN = 'test-token-0123456789';

interface Fixture {
  readonly base: string;
  readonly runner: JobRunner;
  readonly metrics: Metrics;
  readonly logger: MemoryLogger;
  /** lets the snapshot job that is waiting finish, with this result */
  release(result?: unknown): void;
  auth(extra?: Record<string, string>): Record<string, string>;
}

interface Options {
  readonly token?: string | null;
  readonly maxBodyBytes?: number;
  readonly status?: () => Promise<unknown>;
  readonly snapshots?: () => Promise<unknown[]>;
  readonly cluster?: () => unknown;
}

/** A real server on 127.0.0.1 with a real JobRunner whose snapshot job waits for `release()`. */
async function serve(t: ExecutionContext, options: Options = {}): Promise<Fixture> {
  const logger = new MemoryLogger();
  const metrics = new Metrics({ processMetrics: false });
  const runner = new JobRunner({ onFinish: (r) => metrics.recordJob(r) });
  let release: (result?: unknown) => void = () => {};
  const server: Server = createApiServer({
    ...(options.token === null ? {} : { token: new Secret(options.token ?? TOKEN, 'test') }),
    runner,
    metrics,
    logger,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    // the daemon's startJob: the kind's parameters are checked (as every job does) before it starts
    startJob: async (kind, params) => {
      jobOf(kind);
      paramsObject(params, []);
      return runner.start(
        kind,
        'api',
        () => new Promise((resolve) => (release = (r = { id: 'snap-1', bytes: 1234 }) => resolve(r))),
      );
    },
    status: options.status ?? (async () => ({ rpo: { ageSeconds: 60 }, lease: { holder: 'n1' }, nodes: [] })),
    snapshots: options.snapshots ?? (async () => [{ id: '2026-01-01T00-00-00Z-abcd', node: 'n1' }]),
    ...(options.cluster ? { cluster: options.cluster } : {}),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    release();
    await runner.close(5000);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    runner,
    metrics,
    logger,
    release: (r) => release(r),
    auth: (extra = {}) => ({ authorization: `Bearer ${TOKEN}`, ...extra }),
  };
}

async function body<T = { error: { code: string; message: string } }>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

/** Raw request, for what fetch will not send (a body larger than declared, a stalled body). */
function raw(
  base: string,
  options: { method: string; path: string; headers: Record<string, string | number> },
  write: (req: import('node:http').ClientRequest) => void,
): Promise<{ status: number; headers: import('node:http').IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${options.path}`, { method: options.method, headers: options.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // The server may close while we still write: the answer has already arrived by then.
    req.on('error', (err) => setTimeout(() => reject(err), 200));
    write(req);
  });
}

test('health answers without a token', async (t) => {
  const f = await serve(t);
  const res = await fetch(`${f.base}/v1/health`);
  t.is(res.status, 200);
  t.is(res.headers.get('content-type'), 'application/json');
  t.deepEqual(await body(res), { ok: true });
});

test('protected routes need the right bearer token', async (t) => {
  const f = await serve(t);
  for (const path of ['/v1/status', '/v1/snapshots', '/metrics', '/v1/jobs/nope']) {
    const missing = await fetch(`${f.base}${path}`);
    t.is(missing.status, 401, path);
    t.regex(missing.headers.get('www-authenticate') ?? '', /^Bearer /);
    t.deepEqual(await body(missing), { error: { code: 'unauthorized', message: 'missing bearer token' } });

    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer short', `Basic ${TOKEN}`, TOKEN]) {
      const wrong = await fetch(`${f.base}${path}`, { headers: { authorization } });
      t.is(wrong.status, 401, `${path} ${authorization}`);
      t.regex(wrong.headers.get('www-authenticate') ?? '', /^Bearer /);
      await wrong.body?.cancel();
    }
  }
  const ok = await fetch(`${f.base}/v1/status`, { headers: f.auth() });
  t.is(ok.status, 200);
  t.is(ok.headers.get('content-type'), 'application/json');
  t.deepEqual(await body(ok), { rpo: { ageSeconds: 60 }, lease: { holder: 'n1' }, nodes: [] });
  const lower = await fetch(`${f.base}/v1/snapshots`, { headers: { authorization: `bearer ${TOKEN}` } });
  t.is(lower.status, 200);
  t.deepEqual(await body(lower), { snapshots: [{ id: '2026-01-01T00-00-00Z-abcd', node: 'n1' }] });
});

test('without a configured token protected routes say so, health still answers', async (t) => {
  const f = await serve(t, { token: null });
  const res = await fetch(`${f.base}/v1/status`, { headers: f.auth() });
  t.is(res.status, 401);
  t.regex(res.headers.get('www-authenticate') ?? '', /^Bearer /);
  t.regex((await body(res)).error.message, /token not configured/);
  t.is((await fetch(`${f.base}/v1/health`)).status, 200);
  const empty = await serve(t, { token: '' });
  t.regex(
    (await body(await fetch(`${empty.base}/metrics`, { headers: { authorization: 'Bearer ' } }))).error.message,
    /not configured/,
  );
});

test('unknown routes are 404, wrong methods 405 with Allow', async (t) => {
  const f = await serve(t);
  for (const path of ['/', '/v1', '/v1/nope', '/v1/health/', '/v2/status', '/v1/jobs/a/b']) {
    const res = await fetch(`${f.base}${path}`, { headers: f.auth() });
    t.is(res.status, 404, path);
    t.is((await body(res)).error.code, 'not-found');
  }
  const del = await fetch(`${f.base}/v1/snapshots`, { method: 'DELETE', headers: f.auth() });
  t.is(del.status, 405);
  t.is(del.headers.get('allow'), 'GET, POST');
  t.is((await body(del)).error.code, 'method-not-allowed');
  const post = await fetch(`${f.base}/v1/health`, { method: 'POST' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET');
  await post.body?.cancel();
  const put = await fetch(`${f.base}/metrics`, { method: 'PUT', headers: f.auth(), body: 'x' });
  t.is(put.status, 405);
  await put.body?.cancel();
});

test('POST /v1/snapshots rejects malformed JSON, non-objects and unknown fields', async (t) => {
  const f = await serve(t);
  const post = (b: string) =>
    fetch(`${f.base}/v1/snapshots`, { method: 'POST', headers: f.auth({ 'content-type': 'application/json' }), body: b });

  const malformed = await post('{"a":');
  t.is(malformed.status, 400);
  t.is(malformed.headers.get('content-type'), 'application/json');
  const m = await body(malformed);
  t.is(m.error.code, 'usage');
  t.regex(m.error.message, /^request body: malformed JSON: /);

  const array = await post('[1]');
  t.is(array.status, 400);
  t.is((await body(array)).error.message, 'request body: expected a JSON object');

  const unknown = await post('{"force": true}');
  t.is(unknown.status, 400);
  t.is((await body(unknown)).error.message, "request body: unknown field 'force'");
  const two = await post('{"force": true, "node": "n2"}');
  t.is((await body(two)).error.message, "request body: unknown fields 'force', 'node'");

  const latin1 = await fetch(`${f.base}/v1/snapshots`, {
    method: 'POST',
    headers: f.auth(),
    body: Buffer.from([0x7b, 0xff, 0x7d]),
  });
  t.is(latin1.status, 400);
  t.is((await body(latin1)).error.message, 'request body: not valid UTF-8');
  t.false(f.runner.isRunning('snapshot'), 'nothing started on a bad request');
});

test('a body over the limit is refused with 413 without being read', async (t) => {
  const f = await serve(t, { maxBodyBytes: 1024 });
  const declared = await raw(
    f.base,
    { method: 'POST', path: '/v1/snapshots', headers: { ...f.auth(), 'content-length': 10_000_000 } },
    (req) => req.write('{'), // never sends the rest: the answer must not wait for it
  );
  t.is(declared.status, 413);
  t.is(declared.headers.connection, 'close');
  t.is((JSON.parse(declared.text) as { error: { code: string } }).error.code, 'payload-too-large');

  // chunked: the server stops once the limit is passed, while the client still holds the request open
  const chunked = await raw(f.base, { method: 'POST', path: '/v1/snapshots', headers: f.auth() }, (req) => {
    req.write(`{"pad": "${'x'.repeat(4096)}`);
  });
  t.is(chunked.status, 413);

  const fits = await fetch(`${f.base}/v1/snapshots`, { method: 'POST', headers: f.auth(), body: ' {} ' });
  t.is(fits.status, 202);
  await fits.body?.cancel();
  t.false(f.runner.list().length > 1, 'oversize requests started nothing');
});

test('Expect: 100-continue with an oversize body is refused before the body is sent', async (t) => {
  const f = await serve(t, { maxBodyBytes: 1024 });
  const res = await raw(
    f.base,
    { method: 'POST', path: '/v1/snapshots', headers: { ...f.auth(), expect: '100-continue', 'content-length': 5000 } },
    (req) => req.on('continue', () => t.fail('server asked for the body')),
  );
  t.is(res.status, 413);
  const ok = await raw(
    f.base,
    { method: 'POST', path: '/v1/snapshots', headers: { ...f.auth(), expect: '100-continue', 'content-length': 2 } },
    (req) => req.on('continue', () => req.end('{}')),
  );
  t.is(ok.status, 202);
});

test('POST /v1/snapshots starts a job: 202 with Location, then 409 while it runs; GET /v1/jobs/{id} follows it', async (t) => {
  const f = await serve(t);
  const res = await fetch(`${f.base}/v1/snapshots`, { method: 'POST', headers: f.auth() });
  t.is(res.status, 202);
  const { job } = await body<{ job: JobRecord }>(res);
  t.is(job.kind, 'snapshot');
  t.is(job.trigger, 'api');
  t.is(job.state, 'running');
  t.is(res.headers.get('location'), `/v1/jobs/${job.id}`);

  const again = await fetch(`${f.base}/v1/snapshots`, {
    method: 'POST',
    headers: f.auth({ 'content-type': 'application/json' }),
    body: '{}',
  });
  t.is(again.status, 409);
  const conflict = await body(again);
  t.is(conflict.error.code, 'conflict');
  t.regex(conflict.error.message, /already running/);

  const running = await fetch(`${f.base}${res.headers.get('location')}`, { headers: f.auth() });
  t.is(running.status, 200);
  t.is((await body<JobRecord>(running)).state, 'running');

  f.release({ id: 'snap-1', bytes: 4321 });
  await f.runner.wait('snapshot');
  const done = await body<JobRecord>(await fetch(`${f.base}/v1/jobs/${job.id}`, { headers: f.auth() }));
  t.is(done.state, 'succeeded');
  t.deepEqual(done.result, { id: 'snap-1', bytes: 4321 });
  t.not(done.finishedAt, null);

  const missing = await fetch(`${f.base}/v1/jobs/00000000-0000-0000-0000-000000000000`, { headers: f.auth() });
  t.is(missing.status, 404);
  t.regex((await body(missing)).error.message, /^job '00000000-0000-0000-0000-000000000000': not found$/);

  const next = await fetch(`${f.base}/v1/snapshots`, { method: 'POST', headers: f.auth() });
  t.is(next.status, 202, 'a new run may start once the previous one finished');
  await next.body?.cancel();
});

test('POST /v1/jobs starts a run of the kind it names; a missing or unknown kind is refused', async (t) => {
  const f = await serve(t);
  const post = (b: string) =>
    fetch(`${f.base}/v1/jobs`, { method: 'POST', headers: f.auth({ 'content-type': 'application/json' }), body: b });

  const res = await post('{"kind": "verify"}');
  t.is(res.status, 202);
  const { job } = await body<{ job: JobRecord }>(res);
  t.like(job, { kind: 'verify', trigger: 'api', state: 'running' });
  t.is(res.headers.get('location'), `/v1/jobs/${job.id}`);
  t.is((await post('{"kind": "verify"}')).status, 409);

  const none = await fetch(`${f.base}/v1/jobs`, { method: 'POST', headers: f.auth() });
  t.is(none.status, 400);
  t.regex((await body(none)).error.message, /^request body: expected a JSON object with the job's kind/);
  const noKind = await post('{"dryRun": true}');
  t.is((await body(noKind)).error.message, 'request body: \'kind\' must name a job kind, e.g. "snapshot"');
  const unknown = await post('{"kind": "backup"}');
  t.is(unknown.status, 400);
  t.is((await body(unknown)).error.message, "job kind 'backup': unknown (known: snapshot, prune, verify, staging-sync)");
  const field = await post('{"kind": "prune", "force": true}');
  t.is((await body(field)).error.message, "request body: unknown field 'force'");
  t.false(f.runner.isRunning('prune'), 'nothing started on a bad request');
  const get = await fetch(`${f.base}/v1/jobs`, { headers: f.auth() });
  t.is(get.status, 405);
  t.is(get.headers.get('allow'), 'POST');
  f.release();
  await f.runner.wait('verify');
});

test('/metrics serves Prometheus text with the gauges of a recorded job', async (t) => {
  const f = await serve(t);
  f.metrics.setRpoAge(120);
  const started = await fetch(`${f.base}/v1/snapshots`, { method: 'POST', headers: f.auth() });
  await started.body?.cancel();
  f.release({ id: 'snap-1', bytes: 1234 });
  await f.runner.wait('snapshot');

  const res = await fetch(`${f.base}/metrics`, { headers: f.auth() });
  t.is(res.status, 200);
  t.regex(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  t.regex(text, /^lifeboat_job_last_success_timestamp_seconds\{kind="snapshot"\} \d+(\.\d+)?$/m);
  t.regex(text, /^lifeboat_job_last_duration_seconds\{kind="snapshot"\} \d/m);
  t.regex(text, /^lifeboat_job_last_bytes\{kind="snapshot"\} 1234$/m);
  t.regex(text, /^lifeboat_job_runs_total\{kind="snapshot",state="succeeded"\} 1$/m);
  t.regex(text, /^lifeboat_job_runs_total\{kind="snapshot",state="failed"\} 0$/m);
  t.regex(text, /^lifeboat_rpo_age_seconds 12\d(\.\d+)?$/m);
});

test('domain errors map to statuses; internal errors give no detail and no stack', async (t) => {
  const internal = await serve(t, {
    status: async () => {
      throw new TypeError('cannot read properties of undefined (reading secretThing)');
    },
    snapshots: async () => {
      throw new RetryableError("storage 's3://bucket': throttled");
    },
  });
  const res = await fetch(`${internal.base}/v1/status`, { headers: internal.auth() });
  t.is(res.status, 500);
  const text = await res.text();
  t.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'internal error' } });
  t.false(text.includes('secretThing'));
  t.true(internal.logger.records.some((r) => r.level === 'error' && String(r.fields.stack).includes('secretThing')));

  const retryable = await fetch(`${internal.base}/v1/snapshots`, { headers: internal.auth() });
  t.is(retryable.status, 503, 'a dependency that is down: try again');
  t.deepEqual(await body(retryable), { error: { code: 'retryable', message: "storage 's3://bucket': throttled" } });

  const config = await serve(t, {
    status: async () => {
      throw new ConfigError('lifeboat.yaml', [{ path: 'api.listen', message: 'expected host:port' }]);
    },
  });
  const bad = await fetch(`${config.base}/v1/status`, { headers: config.auth() });
  t.is(bad.status, 400);
  t.is((await body(bad)).error.code, 'config');
});

test('each request is logged at debug without the token', async (t) => {
  const f = await serve(t);
  const res = await fetch(`${f.base}/v1/status?verbose=1`, { headers: f.auth() });
  await res.body?.cancel();
  const wrong = await fetch(`${f.base}/v1/status`, { headers: { authorization: 'Bearer not-the-token' } });
  await wrong.body?.cancel();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const requests = f.logger.records.filter((r) => r.message === 'http request');
  t.is(requests.length, 2);
  const first = requests[0];
  t.is(first?.level, 'debug');
  t.like(first?.fields, { method: 'GET', path: '/v1/status', status: 200 });
  t.is(typeof first?.fields.ms, 'number');
  t.like(requests[1]?.fields, { status: 401 });
  const all = JSON.stringify(f.logger.records);
  t.false(all.includes(TOKEN));
  t.false(all.includes('not-the-token'));
  t.false(all.toLowerCase().includes('authorization'));
});

test("GET /v1/cluster: the loss monitor's view behind the token; 404 naming the setting while detection is off", async (t) => {
  const view = { observer: 'n1', minority: false, nodes: [{ name: 'n2', observers: { n1: { state: 'healthy' } } }] };
  const on = await serve(t, { cluster: () => view });
  t.is((await fetch(`${on.base}/v1/cluster`)).status, 401);
  const res = await fetch(`${on.base}/v1/cluster`, { headers: on.auth() });
  t.is(res.status, 200);
  t.deepEqual(await res.json(), view);
  t.is((await fetch(`${on.base}/v1/cluster`, { method: 'POST', headers: on.auth() })).status, 405);
  const off = await serve(t);
  const missing = await fetch(`${off.base}/v1/cluster`, { headers: off.auth() });
  t.is(missing.status, 404);
  t.regex((await body(missing)).error.message, /health\.enabled: false/);
});

test('docs/openapi.yaml documents every route, method and status code the server answers', (t) => {
  const doc = parse(readFileSync(join(repoRoot, 'docs/openapi.yaml'), 'utf8')) as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>>;
  };
  t.regex(doc.openapi, /^3\.1\./);
  const answered: Record<string, Record<string, string[]>> = {
    '/v1/health': { get: ['200', '405'] },
    '/v1/status': { get: ['200', '401', '405', '500'] },
    '/v1/snapshots': { get: ['200', '401', '405', '500'], post: ['202', '400', '401', '405', '409', '413', '500'] },
    '/v1/jobs': { post: ['202', '400', '401', '405', '409', '413', '500'] },
    '/v1/staging/sync': { post: ['202', '400', '401', '405', '409', '413', '500'] },
    '/v1/jobs/{id}': { get: ['200', '401', '404', '405', '500'] },
    '/v1/cluster': { get: ['200', '401', '404', '405', '500'] },
    '/metrics': { get: ['200', '401', '405', '500'] },
  };
  t.deepEqual(Object.keys(doc.paths).sort(), Object.keys(answered).sort());
  for (const [path, methods] of Object.entries(answered)) {
    t.deepEqual(Object.keys(doc.paths[path] ?? {}).sort(), Object.keys(methods).sort(), path);
    for (const [method, statuses] of Object.entries(methods)) {
      const documented = Object.keys(doc.paths[path]?.[method]?.responses ?? {});
      for (const status of statuses) t.true(documented.includes(status), `${method} ${path} ${status}`);
    }
  }
  t.deepEqual(doc.paths['/v1/health']?.get?.security, [], 'health needs no token');
  // every $ref points at something that exists
  const text = readFileSync(join(repoRoot, 'docs/openapi.yaml'), 'utf8');
  const whole = parse(text) as Record<string, unknown>;
  for (const [, ref] of text.matchAll(/\$ref: '#\/([^']+)'/g)) {
    let node: unknown = whole;
    for (const part of (ref ?? '').split('/')) node = (node as Record<string, unknown> | undefined)?.[part];
    t.not(node, undefined, ref);
  }
});
