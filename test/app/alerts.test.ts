import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { type AlertPayload, createAlerter } from '../../src/app/alerts.js';
import { MemoryLogger } from '../../src/lib/logger.js';
import { Secret } from '../../src/lib/secret.js';

interface Hook {
  /** webhook URL, with a token in its path as chat webhooks have */
  readonly url: string;
  readonly received: AlertPayload[];
  readonly requests: { method: string; contentType: string | undefined }[];
}

const HOOK_TOKEN = 'T000-B000-hook-secret';

/** A local webhook receiver; `answer` decides the reply to the n-th request (0-based). */
async function webhook(
  t: ExecutionContext,
  answer: (n: number, res: ServerResponse) => void = (_n, res) => res.end('ok'),
): Promise<Hook> {
  const received: AlertPayload[] = [];
  const requests: Hook['requests'] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => {
      text += c;
    });
    req.on('end', () => {
      const n = requests.length;
      requests.push({ method: req.method ?? '', contentType: req.headers['content-type'] });
      received.push(JSON.parse(text) as AlertPayload);
      answer(n, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/${HOOK_TOKEN}`, received, requests };
}

test('a failed job is POSTed as JSON with cluster, node and a text line', async (t) => {
  const hook = await webhook(t);
  const alerter = createAlerter({ url: hook.url, cluster: 'shop', node: 'n2', now: () => Date.parse('2026-01-01T06:00:00Z') });
  await alerter.alert({ kind: 'job-failed', job: 'snapshot', runId: 'run-1', error: "node 'n2': not synced" });
  t.deepEqual(hook.requests, [{ method: 'POST', contentType: 'application/json' }]);
  t.deepEqual(hook.received[0], {
    kind: 'job-failed',
    job: 'snapshot',
    runId: 'run-1',
    error: "node 'n2': not synced",
    source: 'lifeboat',
    cluster: 'shop',
    node: 'n2',
    at: '2026-01-01T06:00:00.000Z',
    text: "lifeboat shop (n2): job 'snapshot' failed (run run-1): node 'n2': not synced",
  });
});

test('the URL may be a Secret and is never logged; long errors are cut', async (t) => {
  const hook = await webhook(t, (_n, res) => {
    res.statusCode = 500;
    res.end();
  });
  const logger = new MemoryLogger();
  const alerter = createAlerter({ url: new Secret(hook.url, 'test'), logger, retries: 1, backoffMs: 1 });
  await alerter.alert({ kind: 'job-failed', job: 'prune', runId: 'r', error: 'e'.repeat(10_000) });
  t.is(hook.received.length, 2, 'a 5xx is retried');
  const first = hook.received[0];
  t.true(first?.kind === 'job-failed' && first.error.length < 2100 && first.error.endsWith('…'));
  const logs = JSON.stringify(logger.records);
  t.false(logs.includes(HOOK_TOKEN));
  t.true(logs.includes(new URL(hook.url).origin));
  t.true(logger.records.some((r) => r.level === 'error' && r.message === 'alert dropped'));
});

test('a webhook that does not answer, refuses or rejects never makes alert() throw', async (t) => {
  const silent = await webhook(t, () => {}); // never answers
  const logger = new MemoryLogger();
  const slow = createAlerter({ url: silent.url, logger, timeoutMs: 100, retries: 1, backoffMs: 10 });
  const started = Date.now();
  await t.notThrowsAsync(slow.alert({ kind: 'job-failed', job: 'snapshot', runId: 'r', error: 'x' }));
  t.true(Date.now() - started < 2000);
  t.is(silent.received.length, 2);
  t.true(logger.records.some((r) => r.level === 'warn' && String(r.fields.error).includes('no answer within 100 ms')));

  const refused = createAlerter({ url: 'http://127.0.0.1:1/hook', retries: 1, backoffMs: 1 });
  await t.notThrowsAsync(refused.alert({ kind: 'job-failed', job: 'snapshot', runId: 'r', error: 'x' }));

  const badRequest = await webhook(t, (_n, res) => {
    res.statusCode = 400;
    res.end();
  });
  await createAlerter({ url: badRequest.url, retries: 3, backoffMs: 1 }).alert({
    kind: 'job-failed',
    job: 'snapshot',
    runId: 'r',
    error: 'x',
  });
  t.is(badRequest.received.length, 1, 'a 4xx is not retried');

  const throwing = createAlerter({
    url: 'http://127.0.0.1:9/hook',
    retries: 0,
    fetchImpl: () => {
      throw new Error('boom');
    },
  });
  await t.notThrowsAsync(throwing.alert({ kind: 'job-failed', job: 'snapshot', runId: 'r', error: 'x' }));
});

test('a failure on the first attempt is retried after a backoff', async (t) => {
  const hook = await webhook(t, (n, res) => {
    res.statusCode = n === 0 ? 503 : 204;
    res.end();
  });
  await createAlerter({ url: hook.url, retries: 2, backoffMs: 20 }).alert({
    kind: 'job-failed',
    job: 'verify',
    runId: 'r',
    error: 'x',
  });
  t.is(hook.received.length, 2);
});

test('an RPO breach is sent at most once an hour while it lasts; recovery resets it', async (t) => {
  const hook = await webhook(t);
  let now = Date.parse('2026-01-01T12:00:00Z');
  const alerter = createAlerter({ url: hook.url, cluster: 'shop', now: () => now });
  const breach = (ageSeconds: number) =>
    alerter.alert({ kind: 'rpo-breach', ageSeconds, limitSeconds: 43_200, newest: '2025-12-31T18-00-00Z-abcd' });
  const recovered = () => alerter.alert({ kind: 'rpo-recovered', ageSeconds: 60, limitSeconds: 43_200, newest: 'new' });

  await recovered();
  t.is(hook.received.length, 0, 'no recovery without an alerted breach');
  await Promise.all([breach(64_800), breach(64_800)]);
  t.is(hook.received.length, 1, 'overlapping checks send once');
  t.regex(
    hook.received[0]?.text ?? '',
    /newest snapshot 2025-12-31T18-00-00Z-abcd is 18\.0 h old, over the RPO limit of 12\.0 h/,
  );
  now += 30 * 60_000;
  await breach(66_600);
  t.is(hook.received.length, 1, 'still within the hour');
  now += 31 * 60_000;
  await breach(68_460);
  t.is(hook.received.length, 2, 'an hour later it is repeated');

  await recovered();
  t.is(hook.received.length, 3);
  t.is(hook.received[2]?.kind, 'rpo-recovered');
  await recovered();
  t.is(hook.received.length, 3, 'recovery is sent once');
  now += 60_000;
  await breach(50_000);
  t.is(hook.received.length, 4, 'a new breach after recovery is sent at once');
});

test('an undelivered RPO breach is tried again at the next check', async (t) => {
  const hook = await webhook(t, (n, res) => {
    res.statusCode = n === 0 ? 500 : 200;
    res.end();
  });
  const alerter = createAlerter({ url: hook.url, retries: 0 });
  const breach = () => alerter.alert({ kind: 'rpo-breach', ageSeconds: 1e9, limitSeconds: 3600, newest: null });
  await breach();
  await breach();
  t.is(hook.received.length, 2);
  t.regex(hook.received[1]?.text ?? '', /no complete snapshot exists/);
  await breach();
  t.is(hook.received.length, 2);
});

test('without a webhook alerts are dropped quietly; bad options are refused', async (t) => {
  const logger = new MemoryLogger();
  await t.notThrowsAsync(createAlerter({ logger }).alert({ kind: 'job-failed', job: 'snapshot', runId: 'r', error: 'x' }));
  t.true(logger.records.some((r) => r.level === 'debug' && r.message.includes('no webhook')));
  t.throws(() => createAlerter({ url: 'not a url/secret-in-here' }), { message: 'alerter: the webhook is not a valid URL' });
  t.throws(() => createAlerter({ url: 'ftp://host/x' }), { message: /must be http or https/ });
  t.throws(() => createAlerter({ url: 'http://h/', timeoutMs: 0 }), { message: /timeoutMs must be a positive number/ });
});

test('flush waits for deliveries in flight', async (t) => {
  let answer: (() => void) | undefined;
  const hook = await webhook(t, (_n, res) => {
    answer = () => res.end('ok');
  });
  const alerter = createAlerter({ url: hook.url });
  let done = false;
  void alerter.alert({ kind: 'job-failed', job: 'snapshot', runId: 'r', error: 'x' }).then(() => {
    done = true;
  });
  while (!answer) await new Promise((resolve) => setTimeout(resolve, 5));
  t.false(done);
  const flushed = alerter.flush();
  answer();
  await flushed;
  t.true(done);
});

test('the database going down is sent; coming back is sent only after a sent down', async (t) => {
  const hook = await webhook(t);
  const alerter = createAlerter({ url: hook.url, cluster: 'shop', node: 'n1' });
  await alerter.alert({ kind: 'database-up', downSince: '2026-01-01T00:00:00.000Z' });
  t.is(hook.received.length, 0, 'no "back" without an alerted outage');
  await alerter.alert({ kind: 'database-down', since: '2026-01-01T00:00:00.000Z', error: "node 'n1': connect ENOENT" });
  await alerter.alert({ kind: 'database-up', downSince: '2026-01-01T00:00:00.000Z' });
  await alerter.alert({ kind: 'database-up', downSince: '2026-01-01T00:00:00.000Z' });
  t.deepEqual(
    hook.received.map((p) => p.text),
    [
      "lifeboat shop (n1): database unreachable since 2026-01-01T00:00:00.000Z: node 'n1': connect ENOENT",
      'lifeboat shop (n1): database reachable again (down since 2026-01-01T00:00:00.000Z)',
    ],
  );
});

test.serial(
  'node verdicts: once per verdict, a new verdict sends again, resolved only after an alerted verdict; minority likewise',
  async (t) => {
    const hook = await webhook(t);
    const alerter = createAlerter({ url: hook.url, cluster: 'shop', node: 'n1' });
    const since = '2026-01-01T06:00:00.000Z';
    await alerter.alert({ kind: 'node-healthy', peer: 'n3', was: 'lost', evidence: 'never alerted' });
    await alerter.alert({ kind: 'node-partitioned', peer: 'n2', since, evidence: 'every probe failed for 5000 ms' });
    await alerter.alert({ kind: 'node-partitioned', peer: 'n2', since, evidence: 'back from recovering: not again' });
    await alerter.alert({ kind: 'node-lost', peer: 'n2', since, evidence: 'witness heartbeat 9000 ms old' });
    await alerter.alert({ kind: 'node-lost', peer: 'n2', since, evidence: 'not again' });
    await alerter.alert({ kind: 'node-healthy', peer: 'n2', was: 'lost', evidence: 'every probe answered for 10000 ms' });
    await alerter.alert({ kind: 'node-healthy', peer: 'n2', was: 'lost', evidence: 'not again' });
    await alerter.alert({ kind: 'node-minority-resolved', evidence: 'never alerted' });
    await alerter.alert({ kind: 'node-minority', since, evidence: 'no peer answers' });
    await alerter.alert({ kind: 'node-minority-resolved', evidence: 'a peer answers again' });
    t.deepEqual(
      hook.received.map((p) => p.text),
      [
        'lifeboat shop (n1): node n2 is PARTITIONED (alive, cut off from this node) since 2026-01-01T06:00:00.000Z: every probe failed for 5000 ms',
        'lifeboat shop (n1): node n2 is LOST since 2026-01-01T06:00:00.000Z: witness heartbeat 9000 ms old',
        'lifeboat shop (n1): node n2 is healthy again (was lost): every probe answered for 10000 ms',
        'lifeboat shop (n1): this node is the MINORITY of a partition since 2026-01-01T06:00:00.000Z: no peer answers',
        'lifeboat shop (n1): this node is no longer the minority of a partition: a peer answers again',
      ],
    );
    t.like(hook.received[1], { kind: 'node-lost', peer: 'n2', node: 'n1', since });
  },
);
