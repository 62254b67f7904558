import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { apiBase, waitFor } from '../helpers/daemon.js';
import { lifeboat, removeTestRepos, startLifeboat, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { need, s3Facts } from '../helpers/testbed.js';

test.after.always(removeTestRepos);

// The daemon on a node whose MariaDB is down: it starts, answers, says what is down and since
// when, fails database jobs clearly and reconnects when the server is back. The "down" server is
// a socket path that does not exist (a symlink to the real node's socket brings it "back"): the
// shared testbed cluster is never stopped.

const AUTH = { authorization: 'Bearer test-token-1' };

interface DatabaseStatus {
  readonly state: 'connecting' | 'up' | 'down';
  readonly since: string;
  readonly lastError: string | null;
}

function outageRepo(socket: string, extra: Record<string, unknown> = {}): TestRepo {
  return testRepo('n1', {
    socket,
    extra: {
      schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
      api: { listen: '127.0.0.1:0', token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
      daemon: { shutdownTimeoutSeconds: 5 },
      ...extra,
    },
  });
}

function missingSocket(): { dir: string; socket: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-outage-'));
  return { dir, socket: join(dir, 'mysqld.sock') };
}

async function databaseStatus(base: string): Promise<DatabaseStatus> {
  const res = await fetch(`${base}/v1/status`, { headers: AUTH });
  if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { database: DatabaseStatus }).database;
}

test('object store and database down: status still answers, saying the object store could not be read', async (t) => {
  const { dir, socket } = missingSocket();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // nothing listens on port 9 of the loopback: every request is refused at once
  const s3 = s3Facts();
  const storage = {
    url: `s3://${s3.bucket}/unreachable`,
    endpoint: 'http://127.0.0.1:9',
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: { env: 'LIFEBOAT_TEST_S3_SECRET' },
  };
  const daemon = startLifeboat(outageRepo(socket, { storage }), ['daemon']);
  try {
    const base = await apiBase(daemon.stderr);
    const res = await fetch(`${base}/v1/status`, { headers: AUTH, signal: AbortSignal.timeout(60_000) });
    t.is(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { rpo: { error?: string }; database: DatabaseStatus };
    t.regex(body.rpo.error ?? '', /^object store: /);
  } finally {
    daemon.child.kill('SIGTERM');
    await daemon.done;
  }
});

test('database down at start: the daemon serves health, status and metrics, and a snapshot fails clearly', async (t) => {
  const { dir, socket } = missingSocket();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = startLifeboat(outageRepo(socket), ['daemon']);
  try {
    const base = await apiBase(daemon.stderr);
    t.is((await fetch(`${base}/v1/health`)).status, 200);
    const db = await waitFor('the database reported down', async () => {
      const s = await databaseStatus(base);
      return s.state === 'down' ? s : undefined;
    });
    t.false(Number.isNaN(Date.parse(db.since)), `since: ${db.since}`);
    t.regex(db.lastError ?? '', /node 'n1'/);
    const metrics = await (await fetch(`${base}/metrics`, { headers: AUTH })).text();
    t.regex(metrics, /^lifeboat_database_up 0$/m);
    t.regex(metrics, /^lifeboat_rpo_age_seconds /m, 'the RPO check still runs');

    const posted = await fetch(`${base}/v1/snapshots`, { method: 'POST', headers: AUTH });
    t.is(posted.status, 202);
    const { job } = (await posted.json()) as { job: { id: string } };
    const done = await waitFor('the snapshot run to end', async () => {
      const r = (await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: AUTH })).json()) as {
        state: string;
        error: { message: string } | null;
      };
      return r.state === 'running' ? undefined : r;
    });
    t.is(done.state, 'failed');
    t.regex(done.error?.message ?? '', /node 'n1': database unreachable/);
    t.log(done.error?.message);
  } finally {
    daemon.child.kill('SIGTERM');
    const run = await daemon.done;
    t.is(run.code, 0, run.stderr.slice(-2000));
  }
});

test('the database comes back: the daemon reconnects with backoff and says it is up', async (t) => {
  const { dir, socket } = missingSocket();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const daemon = startLifeboat(outageRepo(socket), ['daemon']);
  try {
    const base = await apiBase(daemon.stderr);
    const down = await waitFor('the database reported down', async () => {
      const s = await databaseStatus(base);
      return s.state === 'down' ? s : undefined;
    });
    symlinkSync(need('GALERA_NODE1_SOCKET'), socket);
    const cameBack = Date.now();
    const up = await waitFor('the database reported up', async () => {
      const s = await databaseStatus(base);
      return s.state === 'up' ? s : undefined;
    });
    t.log(`up ${Date.now() - cameBack} ms after the socket came back`);
    t.true(Date.parse(up.since) > Date.parse(down.since));
    const metrics = await (await fetch(`${base}/metrics`, { headers: AUTH })).text();
    t.regex(metrics, /^lifeboat_database_up 1$/m);
    t.regex(daemon.stderr(), /database reachable again/);
  } finally {
    daemon.child.kill('SIGTERM');
    const run = await daemon.done;
    t.is(run.code, 0, run.stderr.slice(-2000));
  }
});

test('database down with daemon.filesWhenDatabaseDown: the scheduled snapshot takes the files part only', async (t) => {
  const { dir, socket } = missingSocket();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'www');
  mkdirSync(join(root, 'media'), { recursive: true });
  writeFileSync(join(root, 'media', 'a.jpg'), 'a'.repeat(1000));
  // the whole cluster is down as this daemon sees it: no other node answers either
  const nodes = [
    { name: 'n1', host: need('GALERA_NODE1_HOST'), port: Number(need('GALERA_NODE1_PORT')), socket },
    { name: 'n2', host: '127.0.0.1', port: 1 },
    { name: 'n3', host: '127.0.0.1', port: 1 },
  ];
  const repo = outageRepo(socket, {
    cluster: { name: 'testbed', node: 'n1', nodes },
    // the embedded file store: this test is about the daemon, not about S3
    storage: { url: `file://${join(dir, 'repo')}` },
    schedules: { snapshot: '*/2 * * * * *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
    files: { root, source: 'mount', areas: [{ name: 'media' }] },
    daemon: { filesWhenDatabaseDown: true, staggerSeconds: 0, shutdownTimeoutSeconds: 5 },
  });
  const daemon = startLifeboat(repo, ['daemon']);
  try {
    const id = await waitFor('a files-only snapshot', async () => {
      const r = await lifeboat(repo, ['--json', 'snapshots']);
      // until the first commit the embedded store's folder may not exist
      return r.code === 0 ? (JSON.parse(r.stdout) as { id: string }[])[0]?.id : undefined;
    });
    const show = await lifeboat(repo, ['--json', 'show', id]);
    const manifest = JSON.parse(show.stdout) as { slot?: string; parts: Record<string, unknown> };
    t.deepEqual(Object.keys(manifest.parts), ['files']);
    t.truthy(manifest.slot, 'the scheduled slot is recorded');
    t.regex(daemon.stderr(), /database part skipped/);
    const status = (await (await fetch(`${await apiBase(daemon.stderr)}/v1/status`, { headers: AUTH })).json()) as {
      rpo: { newest: string | null; breached: boolean };
    };
    t.deepEqual([status.rpo.newest, status.rpo.breached], [null, true], 'a files-only snapshot does not reset the RPO');
  } finally {
    daemon.child.kill('SIGTERM');
    const run = await daemon.done;
    t.is(run.code, 0, run.stderr.slice(-2000));
  }
});
