import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { ClusterStatus } from '../../src/app/actions/cluster.js';
import type { ClusterView } from '../../src/health/monitor.js';
import { lifeboat, removeTestRepos, startLifeboat, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { uniqueName } from '../helpers/testbed.js';

test.after.always(removeTestRepos);

// Loss detection on the live testbed, without disturbing it: two daemons (n1, n2) probe their
// peers and write their witness heartbeats; nothing is cut, stopped or killed.

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return address.port;
}

async function repos(): Promise<TestRepo[]> {
  const prefix = uniqueName('cluster');
  const out: TestRepo[] = [];
  for (const node of ['n1', 'n2'] as const) {
    out.push(
      testRepo(node, {
        prefix,
        extra: {
          schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
          api: { listen: `127.0.0.1:${await freePort()}`, token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
          daemon: { shutdownTimeoutSeconds: 10 },
        },
      }),
    );
  }
  return out;
}

const auth = { authorization: 'Bearer test-token-1' };

test('GET /v1/cluster: both peers healthy from n1, n2 reporting through its witness heartbeat; the CLI agrees, and falls back to the witness', async (t) => {
  const [n1, n2] = (await repos()) as [TestRepo, TestRepo];
  const d1 = startLifeboat(n1, ['daemon']);
  const d2 = startLifeboat(n2, ['daemon']);
  const listen = (JSON.parse(readFileSync(n1.config, 'utf8')) as { api: { listen: string } }).api.listen;
  const base = `http://${listen}`;
  try {
    let view: ClusterView | undefined;
    const ready = (v: ClusterView | undefined): boolean =>
      !!v &&
      ['n2', 'n3'].every((n) => v.nodes.find((r) => r.name === n)?.observers.n1?.state === 'healthy') &&
      v.nodes.find((r) => r.name === 'n3')?.observers.n2?.stale === false &&
      v.nodes.find((r) => r.name === 'n1')?.observers.n2?.state === 'healthy';
    for (let i = 0; i < 60 && !ready(view); i++) {
      await sleep(500);
      const r = await fetch(`${base}/v1/cluster`, { headers: auth }).catch(() => undefined);
      if (r?.ok) view = (await r.json()) as ClusterView;
    }
    t.true(ready(view), JSON.stringify(view, null, 1));
    t.is((await fetch(`${base}/v1/cluster`)).status, 401, 'auth like every other route');
    const v = view as ClusterView;
    t.is(v.observer, 'n1');
    t.false(v.minority);
    t.is(v.witness.readError, null);
    const n2row = v.nodes.find((r) => r.name === 'n2');
    t.deepEqual(
      n2row?.probes?.map((p) => [p.probe, p.ok]),
      [
        ['tcp', true],
        ['galera', true],
        ['write', true],
      ],
      JSON.stringify(n2row?.probes),
    );
    // another test file may have a node desynced for a snapshot meanwhile
    t.regex(n2row?.observers.n1?.evidence ?? '', /galera ok \d+ ms \(Primary, (Synced|Donor\/Desynced), size 3/);
    t.regex(
      v.nodes.find((r) => r.name === 'n1')?.heartbeat?.galera?.state ?? '',
      /^(Synced|Donor\/Desynced)$/,
      "n1's own Galera state in its heartbeat",
    );

    const status = (await (await fetch(`${base}/v1/status`, { headers: auth })).json()) as {
      cluster: string;
      clusterHealth: ClusterView;
    };
    t.is(status.cluster, 'testbed');
    t.is(status.clusterHealth.observer, 'n1');

    const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
    t.regex(metrics, /lifeboat_node_state\{node="n2",observer="n1"\} 0/);
    t.regex(metrics, /lifeboat_node_state\{node="n3",observer="n2"\} 0/);
    t.regex(metrics, /lifeboat_node_probe_seconds\{node="n3",probe="write"\} [\d.e-]+/);

    const cli = await lifeboat(n1, ['cluster', 'status', '--json']);
    t.is(cli.code, 0, cli.stderr.slice(-1000));
    const shown = JSON.parse(cli.stdout) as ClusterStatus;
    t.is(shown.source, 'daemon');
    for (const node of ['n2', 'n3'])
      t.is(shown.view.nodes.find((r) => r.name === node)?.observers.n1?.state, 'healthy', `${node} as the CLI shows it`);
    const plan = await lifeboat(n1, ['--json', 'recover', '--plan']);
    t.is(plan.code, 0, plan.stderr.slice(-1000));
    t.like(JSON.parse(plan.stdout), { playbook: 'none', decision: 'every node is healthy', steps: [] });
    const execute = await lifeboat(n1, ['recover', '--execute', '--yes']);
    t.is(execute.code, 0, execute.stderr.slice(-1000));
    t.regex(execute.stdout, /not run: nothing to do: every node is healthy/, 'a healthy cluster: nothing runs');
    t.is((await lifeboat(n1, ['recover'])).code, 2, 'neither --plan nor --execute: a usage error');
    const table = await lifeboat(n1, ['cluster', 'status']);
    t.regex(table.stdout, /as the daemon of n1 sees it/);
    t.regex(table.stdout, /^n2\s+healthy for \d+s\s+-\s+no report/m);
    t.log(table.stdout);
  } finally {
    d1.child.kill('SIGTERM');
    d2.child.kill('SIGTERM');
  }
  const started = Date.now();
  const [r1, r2] = await Promise.all([d1.done, d2.done]);
  t.is(r1.code, 0, r1.stderr.slice(-1000));
  t.is(r2.code, 0, r2.stderr.slice(-1000));
  t.true(Date.now() - started < 5000, 'SIGTERM ends the daemons promptly');
  t.notRegex(r1.stderr, /"level":"error"/);

  // no daemon answers: the CLI reads the witness heartbeats and says so
  const fallback = await lifeboat(n1, ['cluster', 'status', '--json']);
  t.is(fallback.code, 0, fallback.stderr);
  const shown = JSON.parse(fallback.stdout) as ClusterStatus;
  t.is(shown.source, 'witness');
  t.regex(shown.source === 'witness' ? shown.daemonError : '', /daemon API http:\/\/127\.0\.0\.1:\d+\/v1\/cluster/);
  t.is(shown.view.nodes.find((r) => r.name === 'n3')?.observers.n1?.state, 'healthy');
  const table = await lifeboat(n1, ['cluster', 'status']);
  t.regex(table.stdout, /the local daemon does not answer/);
  t.regex(table.stdout, /FROM THE WITNESS HEARTBEATS/);
});
