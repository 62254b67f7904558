import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { Lease } from '../../src/coord/index.js';
import { wsrepStatus } from '../../src/galera/index.js';
import { nodeClient, withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeTestRepos, startLifeboat, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { uniqueName } from '../helpers/testbed.js';

test.after.always(removeTestRepos);

// Three daemons, one per Galera node, sharing one repository: one snapshot per slot, takeover.
// Serial: both tests desync nodes of the one testbed cluster.

const NODES = ['n1', 'n2', 'n3'] as const;

function cluster(schedule: string, ttl: number): TestRepo[] {
  const prefix = uniqueName('daemon');
  return NODES.map((node) =>
    testRepo(node, {
      prefix,
      extra: {
        schedules: { snapshot: schedule, prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
        daemon: { leaseTtlSeconds: ttl, staggerSeconds: 1, shutdownTimeoutSeconds: 30 },
        api: { listen: '127.0.0.1:0', token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
        database: { user: 'lifeboat', password: { env: 'LIFEBOAT_TEST_DB_PASSWORD' }, preferredNodes: ['n3', 'n2', 'n1'] },
      },
    }),
  );
}

interface Listed {
  readonly id: string;
  readonly node: string;
  readonly slot: string | null;
}

async function snapshots(repo: TestRepo): Promise<Listed[]> {
  const r = await lifeboat(repo, ['--json', 'snapshots']);
  if (r.code !== 0) throw new Error(r.stderr);
  const ids = (JSON.parse(r.stdout) as { id: string; node: string }[]).map((s) => s.id);
  const out: Listed[] = [];
  for (const id of ids) {
    const show = await lifeboat(repo, ['--json', 'show', id]);
    const m = JSON.parse(show.stdout) as { id: string; node: string; slot?: string };
    out.push({ id: m.id, node: m.node, slot: m.slot ?? null });
  }
  return out;
}

async function desynced(n: number): Promise<boolean> {
  const c = await nodeClient(n as 1 | 2 | 3);
  try {
    return (await wsrepStatus(c)).desync;
  } finally {
    await c.close();
  }
}

/** Waits until no one holds the cluster lease `name`. */
async function leaseFree(name: string, withinMs: number): Promise<void> {
  const c = await nodeClient(1);
  try {
    await Lease.ensureSchema(c);
    const lease = new Lease(c, name, 'test', 1);
    for (const started = Date.now(); Date.now() - started < withinMs; await sleep(250)) {
      if ((await lease.current()) === null) return;
    }
    throw new Error(`lease '${name}' still held after ${withinMs / 1000} s`);
  } finally {
    await c.close();
  }
}

test.serial('three daemons take exactly one snapshot per slot', (t) =>
  withClusterLock(async () => {
    const repos = cluster('*/15 * * * * *', 6);
    const daemons = repos.map((r) => startLifeboat(r, ['daemon']));
    await sleep(50_000);
    for (const d of daemons) d.child.kill('SIGTERM');
    const runs = await Promise.all(daemons.map((d) => d.done));
    for (const r of runs) t.is(r.code, 0, r.stderr.slice(-2000));
    const listed = await snapshots(repos[0] as TestRepo);
    const slots = listed.map((s) => s.slot);
    t.log(listed.map((s) => `${s.slot} → ${s.node} (${s.id})`).join('\n'));
    t.true(listed.length >= 2, `${listed.length} snapshots`);
    t.true(
      slots.every((s) => s !== null),
      'every scheduled snapshot names its slot',
    );
    t.is(new Set(slots).size, slots.length, 'no slot has two snapshots');
    // n3 is preferred; a slot where it is momentarily not Synced (other tests load the cluster)
    // correctly goes to the next healthy node.
    t.true(listed.filter((s) => s.node === 'n3').length >= Math.ceil(listed.length / 2), 'the preferred node takes most slots');
    for (const n of [1, 2, 3]) t.false(await desynced(n), `n${n} not desynced`);
  }),
);

test.serial('SIGKILL of the holder mid-snapshot: another node completes the slot once', (t) =>
  withClusterLock(async () => {
    const repos = cluster('*/30 * * * * *', 6);
    const daemons = repos.map((r) => startLifeboat(r, ['daemon']));
    // The holder shows itself by its desync marker; kill it at once, before it can commit.
    let victim = -1;
    for (let i = 0; i < 2400 && victim < 0; i++) {
      victim = repos.findIndex((r, k) => existsSync(join(r.stateDir, `desync-${NODES[k]}.json`)));
      if (victim < 0) await sleep(25);
    }
    t.true(victim >= 0, 'a daemon started a snapshot');
    const victimNode = NODES[victim] as string;
    // The marker is written before the desync statement: on a loaded machine the statement may
    // not have run yet. Kill once the node is desynced, long before the backup can commit.
    for (let i = 0; i < 200 && !(await desynced(victim + 1)); i++) await sleep(25);
    (daemons[victim] as (typeof daemons)[number]).child.kill('SIGKILL');
    const killedAt = Date.now();
    t.true(await desynced(victim + 1), 'the killed holder left its node desynced');

    let listed: Listed[] = [];
    while (Date.now() - killedAt < 60_000) {
      listed = await snapshots(repos[0] as TestRepo);
      if (listed.length > 0) break;
      await sleep(500);
    }
    const seconds = (Date.now() - killedAt) / 1000;
    t.log(`slot completed by ${listed[0]?.node} ${seconds.toFixed(1)} s after SIGKILL of ${victimNode}`);
    t.is(listed.length, 1, 'the slot has exactly one snapshot');
    t.not(listed[0]?.node, victimNode, 'completed by another node');

    // The killed node's daemon comes back and undoes the desync it left.
    const restarted = startLifeboat(repos[victim] as TestRepo, ['daemon']);
    for (let i = 0; i < 100 && (await desynced(victim + 1)); i++) await sleep(200);
    t.false(await desynced(victim + 1), 'desync undone when the daemon restarts');
    restarted.child.kill('SIGTERM');
    for (const [k, d] of daemons.entries()) if (k !== victim) d.child.kill('SIGTERM');
    await Promise.all([restarted.done, ...daemons.map((d) => d.done)]);
    const after = await snapshots(repos[0] as TestRepo);
    t.is(new Set(after.map((s) => s.slot)).size, after.length, 'still one snapshot per slot');
  }),
);

test.serial('the API of a running daemon: auth, on-demand snapshot, 409 while it runs, status, metrics', (t) =>
  withClusterLock(async () => {
    const [repo] = cluster('0 0 1 1 *', 6) as [TestRepo];
    const daemon = startLifeboat(repo, ['daemon']);
    let base = '';
    for (let i = 0; i < 200 && !base; i++) {
      const m = /"listen":"([\d.]+:\d+)"/.exec(daemon.stderr());
      if (m?.[1]) base = `http://${m[1]}`;
      else await sleep(100);
    }
    t.truthy(base, 'daemon announced its API address');
    const auth = { authorization: 'Bearer test-token-1' };
    // The snapshot lease is cluster-wide: a run the previous test stopped may hold it for a TTL.
    await leaseFree('snapshot', 30_000);
    try {
      t.is((await fetch(`${base}/v1/health`)).status, 200);
      t.is((await fetch(`${base}/v1/status`)).status, 401);
      t.is((await fetch(`${base}/v1/status`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
      const posted = await fetch(`${base}/v1/snapshots`, { method: 'POST', headers: auth });
      t.is(posted.status, 202, posted.status === 202 ? '' : await posted.clone().text());
      const { job } = (await posted.json()) as { job: { id: string } };
      t.is((await fetch(`${base}/v1/snapshots`, { method: 'POST', headers: auth })).status, 409, 'one snapshot at a time');
      let state = 'running';
      for (let i = 0; i < 300 && state === 'running'; i++) {
        await sleep(200);
        state = ((await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: auth })).json()) as { state: string }).state;
      }
      t.is(state, 'succeeded');
      const status = (await (await fetch(`${base}/v1/status`, { headers: auth })).json()) as {
        rpo: { breached: boolean; newest: string };
        nodes: { name: string; state: string }[];
      };
      t.false(status.rpo.breached);
      t.deepEqual(
        status.nodes.map((n) => [n.name, n.state]),
        [
          ['n1', 'Synced'],
          ['n2', 'Synced'],
          ['n3', 'Synced'],
        ],
      );
      const listed = (await (await fetch(`${base}/v1/snapshots`, { headers: auth })).json()) as { snapshots: { id: string }[] };
      t.is(listed.snapshots[0]?.id, status.rpo.newest);
      const metrics = await (await fetch(`${base}/metrics`, { headers: auth })).text();
      t.regex(metrics, /lifeboat_job_runs_total\{kind="snapshot",state="succeeded"\} 1/);
      t.regex(metrics, /lifeboat_rpo_age_seconds \d/);
    } finally {
      daemon.child.kill('SIGTERM');
      const run = await daemon.done;
      t.is(run.code, 0, run.stderr.slice(-1000));
    }
  }),
);
