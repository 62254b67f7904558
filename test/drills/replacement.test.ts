import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { Manifest } from '../../src/repo/manifest.js';
import {
  autoRecoveryDrill,
  component,
  type Drill,
  errorLog,
  errorLogSize,
  missingCommits,
  type N,
  startWriter,
  state,
  testbed,
  waitUntil,
} from '../helpers/drill.js';
import { nodeClient } from '../helpers/galera.js';
import { lifeboat } from '../helpers/lifeboat.js';
import { uniqueName } from '../helpers/testbed.js';

// Replacement servers on the real testbed, destructively (see test/helpers/drill.ts): a node
// whose datadir is gone comes back empty, and its own daemon seeds it from the newest verified
// snapshot so that it joins by IST — or, when no donor's gcache reaches back to the snapshot,
// leaves it empty for a full SST and says so. How it joined is read from Galera's own log.

/** A verified snapshot of the database, taken through node 1; its Galera position. */
async function verifiedSnapshot(t: import('ava').ExecutionContext, d: Drill): Promise<{ id: string; seqno: number }> {
  const snap = await lifeboat(d.repos[1], ['--json', 'snapshot', '--db-only']);
  t.is(snap.code, 0, snap.stderr.slice(-2000));
  const result = JSON.parse(snap.stdout) as { id: string; database: NonNullable<Manifest['parts']['database']> };
  const verify = await lifeboat(d.repos[1], ['verify', result.id]);
  t.is(verify.code, 0, verify.stderr.slice(-2000));
  return { id: result.id, seqno: result.database.galera?.seqno ?? -1 };
}

/** The server is replaced: everything of node n killed, its datadir emptied, its link and daemon back. */
async function replace(d: Drill, n: N, meanwhile: () => Promise<void> = async () => {}): Promise<void> {
  testbed('node-kill', n);
  await waitUntil(`n${n} lost`, async () => state(await d.view(1), n, 1) === 'lost', 60_000);
  await meanwhile();
  testbed('node-wipe', n);
  testbed('node-uncut', n);
  d.start(n);
}

async function rejoined(d: Drill, n: N): Promise<{ playbook?: string; outcome?: string; node?: string }[]> {
  await waitUntil(`n${n} Synced again, seeded by its daemon`, async () => (await component(n)) === 'Primary', 240_000).catch(
    (err: unknown) => {
      const lines = (d.daemons.get(n)?.stderr() ?? '').split('\n').filter((l) => /recover|seed|step|held|position/i.test(l));
      throw new Error(`${String(err)}\n${lines.slice(-20).join('\n')}`);
    },
  );
  await waitUntil('its recovery reported', async () => d.alerts.some((a) => a.kind === 'recovery-finished'), 30_000).catch(
    () => {},
  );
  return d.alerts.filter((a) => a.kind === 'recovery-finished') as { playbook?: string; outcome?: string; node?: string }[];
}

test.serial(
  'a replacement server with an empty datadir: its daemon seeds it from the snapshot, it joins by IST (Galera says so), no acknowledged commit lost',
  async (t) => {
    const d = await autoRecoveryDrill(t);
    const snapshot = await verifiedSnapshot(t, d);
    const table = uniqueName('w').replaceAll('-', '_');
    const writer = await startWriter(t, 1, table);
    await sleep(1500);
    const logFrom = errorLogSize(3);
    const t0 = Date.now();
    await replace(d, 3);
    const finished = await rejoined(d, 3);
    t.log(`n3 Synced ${((Date.now() - t0) / 1000).toFixed(1)} s after the kill`);
    t.deepEqual(
      finished.map((a) => [a.node, a.playbook, a.outcome]),
      [['n3', 'seed-from-snapshot', 'succeeded']],
    );
    const log = errorLog(3, logFrom);
    t.regex(log, /rsync IST completed on joiner/, 'an IST, not a state snapshot transfer');
    t.notRegex(log, /rsync SST completed on joiner/);
    const ist = /Receiving IST: (\d+) writesets, seqnos (\d+)-(\d+)/.exec(log);
    t.is(Number(ist?.[2]), snapshot.seqno + 1, "the IST starts right after the snapshot's position");
    t.log(`IST of ${ist?.[1]} writesets, seqnos ${ist?.[2]}-${ist?.[3]} (snapshot at ${snapshot.seqno})`);
    t.regex(d.daemons.get(3)?.stderr() ?? '', /seeded from snapshot .*IST expected/);

    const result = await writer.stop();
    for (const n of [1, 2, 3] as const) t.deepEqual(await missingCommits(n, table, result.acked), [], `node ${n}`);
  },
);

test.serial(
  "the donors' gcache no longer reaches back to the snapshot: not seeded, a full SST instead, and the record says so",
  async (t) => {
    const d = await autoRecoveryDrill(t);
    await verifiedSnapshot(t, d);
    const big = uniqueName('big').replaceAll('-', '_');
    const logFrom = errorLogSize(3);
    // 96 MB of writesets while n3 is away: more than the donors' 64 MB gcache
    await replace(d, 3, async () => {
      const c = await nodeClient(1);
      try {
        await c.execute(`CREATE TABLE lifeboat_drill.${big} (id INT AUTO_INCREMENT PRIMARY KEY, b LONGBLOB)`);
        for (let i = 0; i < 96; i++)
          await c.execute(`INSERT INTO lifeboat_drill.${big} (b) VALUES (REPEAT(MD5(RAND()), 31250))`, [], { timeoutMs: 30_000 });
      } finally {
        await c.close();
      }
    });
    const finished = await rejoined(d, 3);
    t.deepEqual(
      finished.map((a) => [a.node, a.playbook, a.outcome]),
      [['n3', 'seed-from-snapshot', 'succeeded']],
    );
    t.regex(d.daemons.get(3)?.stderr() ?? '', /not seeded: no donor's gcache reaches back to seqno \d+ .*full SST/);
    t.regex(errorLog(3, logFrom), /rsync SST completed on joiner/, 'Galera says: a full SST');
    const c = await nodeClient(3);
    try {
      const rows = await c.query<{ n: number }>(`SELECT COUNT(*) AS n FROM lifeboat_drill.${big}`);
      t.is(Number(rows[0]?.n), 96);
      await c.execute(`DROP TABLE lifeboat_drill.${big}`);
    } finally {
      await c.close();
    }
  },
);

test.serial(
  'every server lost with its datadir: node 1 bootstraps a new cluster from the snapshot, the others are seeded and join by IST; the loss window is said',
  async (t) => {
    const d = await autoRecoveryDrill(t);
    const table = uniqueName('lw').replaceAll('-', '_');
    const c = await nodeClient(1);
    try {
      await c.execute('CREATE DATABASE IF NOT EXISTS lifeboat_drill');
      await c.execute(`CREATE TABLE lifeboat_drill.${table} (id INT PRIMARY KEY)`);
      await c.execute(`INSERT INTO lifeboat_drill.${table} VALUES (1), (2), (3)`);
      await verifiedSnapshot(t, d);
      await c.execute(`INSERT INTO lifeboat_drill.${table} VALUES (4)`); // after the snapshot: lost by design
    } finally {
      await c.close();
    }
    const logFrom = { 2: errorLogSize(2), 3: errorLogSize(3) };
    const t0 = Date.now();
    // every server lost and replaced: killed (daemons too), datadirs emptied, links and daemons back
    for (const n of [1, 2, 3] as const) testbed('node-kill', n);
    for (const n of [1, 2, 3] as const) {
      testbed('node-wipe', n);
      testbed('node-uncut', n);
      d.start(n);
    }
    await waitUntil(
      'all three Synced again',
      async () => (await Promise.all(([1, 2, 3] as const).map(component))).every((x) => x === 'Primary'),
      240_000,
    ).catch((err: unknown) => {
      const tails = ([1, 2, 3] as const).map((n) => {
        const lines = (d.daemons.get(n)?.stderr() ?? '').split('\n').filter((l) => /recover|seed|plan|held|step/i.test(l));
        return `--- n${n}\n${lines.slice(-8).join('\n')}`;
      });
      throw new Error(`${String(err)}\n${tails.join('\n')}`);
    });
    t.log(`the whole cluster was Primary again ${((Date.now() - t0) / 1000).toFixed(1)} s after the loss`);
    await waitUntil(
      'the seeds reported',
      async () => d.alerts.filter((a) => a.kind === 'recovery-finished').length >= 3,
      30_000,
    ).catch(() => {});
    const started = d.alerts.filter((a) => a.kind === 'recovery-started') as { playbook?: string; dataLoss?: string }[];
    const finished = d.alerts.filter((a) => a.kind === 'recovery-finished') as {
      node?: string;
      playbook?: string;
      outcome?: string;
    }[];
    t.log(finished.map((a) => `${a.node}: ${a.playbook} ${a.outcome}`).join('; '));
    t.deepEqual(finished.map((a) => [a.node, a.playbook, a.outcome]).sort(), [
      ['n1', 'new-cluster-from-snapshot', 'succeeded'],
      ['n2', 'seed-from-snapshot', 'succeeded'],
      ['n3', 'seed-from-snapshot', 'succeeded'],
    ]);
    t.regex(
      started.find((a) => a.playbook === 'new-cluster-from-snapshot')?.dataLoss ?? '',
      /everything committed after the snapshot .* is lost/,
      'the data-loss window is in the alert',
    );
    for (const n of [2, 3] as const) t.regex(errorLog(n, logFrom[n]), /rsync IST completed on joiner/, `n${n} joined by IST`);
    for (const n of [1, 2, 3] as const) {
      const x = await nodeClient(n);
      try {
        const rows = await x.query<{ id: number }>(`SELECT id FROM lifeboat_drill.${table} ORDER BY id`);
        t.deepEqual(
          rows.map((r) => Number(r.id)),
          [1, 2, 3],
          `node ${n}: the snapshot's rows, not the one after it`,
        );
      } finally {
        await x.close();
      }
    }
  },
);
