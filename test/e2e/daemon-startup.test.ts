import { createServer, type Server } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { type Run, removeTestRepos, startLifeboat, type TestRepo, testRepo } from '../helpers/lifeboat.js';

test.after.always(removeTestRepos);

// Start-up either succeeds completely or ends the process at once with one line; SIGTERM always
// ends it within daemon.shutdownTimeoutSeconds. The local database is the real testbed node, so
// start-up gets past it (nothing here desyncs or writes to the cluster beyond the lifeboat schema).

const QUICK_MS = 10_000;

function daemonRepo(extra: Record<string, unknown>): TestRepo {
  return testRepo('n1', {
    extra: {
      schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
      api: { listen: '127.0.0.1:0', token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
      ...extra,
    },
  });
}

/** Runs the daemon; if it is still alive after `ms`, SIGKILLs it and says so. */
async function runBounded(repo: TestRepo, ms: number): Promise<Run & { ms: number; killed: boolean }> {
  const started = Date.now();
  const d = startLifeboat(repo, ['daemon']);
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    d.child.kill('SIGKILL');
  }, ms);
  const run = await d.done;
  clearTimeout(timer);
  return { ...run, ms: Date.now() - started, killed };
}

/** The daemon's own lines on stderr (log lines are JSON and left out). */
function messages(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{'));
}

function assertOneLineFailure(t: ExecutionContext, run: Run & { ms: number; killed: boolean }, mention: RegExp): void {
  t.false(run.killed, `the daemon still ran after ${QUICK_MS} ms: ${run.stderr.slice(-1500)}`);
  t.not(run.code, 0);
  const lines = messages(run.stderr);
  t.is(lines.length, 1, lines.join('\n'));
  t.regex(lines[0] ?? '', /^lifeboat: /);
  t.regex(lines[0] ?? '', mention);
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  t.log(`${run.ms} ms, exit ${run.code}: ${lines[0]}`);
}

async function occupiedPort(t: ExecutionContext): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

test.serial('api.listen on a port in use: exit non-zero at once with one line', async (t) => {
  const port = await occupiedPort(t);
  const run = await runBounded(daemonRepo({ api: { listen: `127.0.0.1:${port}` } }), QUICK_MS);
  assertOneLineFailure(t, run, /api\.listen.*in use/);
});

test.serial('api.listen with a port out of range: exit non-zero at once, no stack trace', async (t) => {
  const run = await runBounded(daemonRepo({ api: { listen: '127.0.0.1:99999' } }), QUICK_MS);
  t.false(run.killed, run.stderr.slice(-1500));
  t.not(run.code, 0);
  t.regex(run.stderr, /api\.listen/);
  t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  // the config loader may report it first (as a config problem, exit 2); the daemon says it in one line
  if (!/problem\(s\)/.test(run.stderr)) assertOneLineFailure(t, run, /api\.listen.*port/);
});

test.serial('api.listen with a host that does not resolve: exit non-zero at once with one line', async (t) => {
  const run = await runBounded(
    daemonRepo({ api: { listen: 'no-such-host.invalid:8470', token: { env: 'LIFEBOAT_TEST_API_TOKEN' } } }),
    QUICK_MS,
  );
  assertOneLineFailure(t, run, /api\.listen.*no-such-host\.invalid/);
});

for (const [schedule, expression] of [
  ['prune', '99 99 * * *'],
  ['verify', 'a b c d e'],
] as const) {
  test.serial(`an invalid ${schedule} cron: exit non-zero at once with one line, no schedule left running`, async (t) => {
    const run = await runBounded(
      daemonRepo({ schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *', [schedule]: expression } }),
      QUICK_MS,
    );
    t.false(run.killed, run.stderr.slice(-1500));
    t.not(run.code, 0);
    t.regex(run.stderr, new RegExp(`schedules\\.${schedule}`));
    t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
    if (!/problem\(s\)/.test(run.stderr)) assertOneLineFailure(t, run, new RegExp(`schedules\\.${schedule}.*invalid cron`));
  });
}

test.serial('SIGTERM while a job hangs on a silent object store: the process ends within shutdownTimeoutSeconds', async (t) => {
  // An S3 endpoint that accepts connections and never answers: the verify run hangs in a listing.
  const sockets = new Set<import('node:net').Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as import('node:net').AddressInfo;
  const repo = daemonRepo({
    schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '* * * * * *' },
    daemon: { shutdownTimeoutSeconds: 2 },
    storage: {
      url: 's3://silent-bucket/prefix',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'x',
      secretAccessKey: 'y',
      forcePathStyle: true,
    },
  });
  const d = startLifeboat(repo, ['daemon']);
  const killer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
  try {
    for (
      let i = 0;
      i < 100 && !/"job":"verify".*"message":"job started"|"message":"job started".*"job":"verify"/.test(d.stderr());
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.regex(d.stderr(), /job started/, 'a verify run started');
    const sent = Date.now();
    d.child.kill('SIGTERM');
    const run = await d.done;
    const ms = Date.now() - sent;
    t.log(`ended ${ms} ms after SIGTERM, exit ${run.code}, signal ${run.signal}`);
    t.is(run.signal, null, 'ended by itself, not by the test');
    t.true(ms < 2000 + 1500, `${ms} ms`);
    t.notRegex(run.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    clearTimeout(killer);
  }
});
