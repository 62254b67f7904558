import test from 'ava';
import type { NodeControl } from '../../restore/node-control.js';
import { executePlan, type LocalNode, type RecoveryRecord, whyNotRunnable } from '../../restore/recovery.js';
import type { Plan } from '../../restore/recovery-plan.js';
import type { DatadirState, PeerPosition, SqlClient } from '../../src/galera/index.js';

// The executor's seed step over fakes of this node's seams (its service, its datadir, its
// peers): a replacement node is seeded from the snapshot only when its datadir is empty, and only
// when a donor's gcache still covers the snapshot's position (otherwise the join is a full SST).

const UUID = '7b5972e8-ef26-11f1-8194-3e8d5f2a0f93';
const snapshot = { id: '2026-12-03T06-00-00Z-abcdef', takenAt: '2026-12-03T06:00:00Z', uuid: UUID, seqno: 80 };

const seedPlan: Plan = {
  playbook: 'seed-from-snapshot',
  decision: 'n3 has no usable datadir',
  facts: [],
  dataLoss: null,
  steps: [
    { node: 'n3', action: 'restore-snapshot', why: '', snapshot },
    { node: 'n3', action: 'start-with-position', why: '' },
  ],
};

function fakeNode(disk: DatadirState, donors: PeerPosition[]) {
  const calls: string[] = [];
  let running = false;
  const sql: SqlClient = {
    async query<T>(statement: string): Promise<T[]> {
      if (statement.includes('wsrep_desync')) return [{ Value: 'OFF' }] as T[];
      return [
        { Variable_name: 'wsrep_cluster_status', Value: 'Primary' },
        { Variable_name: 'wsrep_local_state_comment', Value: 'Synced' },
        { Variable_name: 'wsrep_cluster_size', Value: '3' },
      ] as T[];
    },
    async execute(): Promise<number> {
      return 0;
    },
    async close() {},
  };
  const control = {
    isRunning: async () => running,
    start: async () => {
      calls.push('start');
      running = true;
    },
    bootstrap: async () => {
      calls.push('bootstrap');
      running = true;
    },
  } as unknown as NodeControl;
  const local: LocalNode = {
    name: 'n3',
    control,
    datadir: {
      path: '/var/lib/mysql',
      inspect: async () => disk,
      restore: async (id, { bootstrap }) => {
        calls.push(`restore ${id} bootstrap=${bootstrap}`);
      },
    },
    connect: async () => sql,
    primaryPeers: async () => donors,
  };
  return { local, calls };
}

const donor = (node: string, cachedDownto: number): PeerPosition => ({
  node,
  stateUuid: UUID,
  lastCommitted: 500,
  cachedDownto,
});

async function run(local: LocalNode): Promise<RecoveryRecord> {
  const saved: RecoveryRecord[] = [];
  return executePlan(seedPlan, { local, log: { save: async (r) => void saved.push(r) }, trigger: 'cli', settleMs: 1000 });
}

test('an empty datadir is seeded from the snapshot when a donor’s gcache covers its position, then started (IST)', async (t) => {
  const { local, calls } = fakeNode({ kind: 'empty' }, [donor('n1', 300), donor('n2', 81)]);
  const record = await run(local);
  t.is(record.outcome, 'succeeded', record.error ?? '');
  t.deepEqual(calls, [`restore ${snapshot.id} bootstrap=false`, 'start']);
  t.regex(record.steps[0]?.detail ?? '', /seeded from snapshot .*; IST expected \(n2's gcache holds seqnos from 81\)/);
});

test('no donor’s gcache reaches back to the snapshot: not seeded (an SST would overwrite it), started for a full SST, and said', async (t) => {
  const { local, calls } = fakeNode({ kind: 'empty' }, [donor('n1', 300), donor('n2', 82)]);
  const record = await run(local);
  t.is(record.outcome, 'succeeded', record.error ?? '');
  t.deepEqual(calls, ['start']);
  t.is(record.steps[0]?.state, 'skipped');
  t.regex(
    record.steps[0]?.detail ?? '',
    /no donor's gcache reaches back to seqno 81 \(n1 from seqno 300, n2 from seqno 82\); the join is a full SST/,
  );
});

test('a datadir that holds data is never replaced: the step fails naming it, nothing is started', async (t) => {
  for (const disk of [{ kind: 'unknown' }, { kind: 'position', uuid: UUID, seqno: 79 }] as DatadirState[]) {
    const { local, calls } = fakeNode(disk, [donor('n1', 1)]);
    const record = await run(local);
    t.is(record.outcome, 'failed');
    t.deepEqual(calls, []);
    t.regex(record.error ?? '', /datadir \/var\/lib\/mysql is not empty .*Lifeboat seeds only an empty datadir; move it aside/);
  }
});

test('a datadir seeded from the snapshot already (a run that died after the restore) is kept and started', async (t) => {
  const { local, calls } = fakeNode({ kind: 'position', uuid: UUID, seqno: 80 }, [donor('n1', 1)]);
  const record = await run(local);
  t.is(record.outcome, 'succeeded', record.error ?? '');
  t.deepEqual(calls, ['start']);
  t.regex(record.steps[0]?.detail ?? '', /already seeded from snapshot/);
});

test('a node without a datadir or a service in its config cannot run a seed: said before anything runs', (t) => {
  const { local } = fakeNode({ kind: 'empty' }, []);
  t.is(whyNotRunnable(seedPlan, local), null);
  t.regex(whyNotRunnable(seedPlan, { ...local, datadir: undefined }) ?? '', /no datadir in its config/);
  t.regex(whyNotRunnable(seedPlan, { ...local, control: undefined }) ?? '', /no recovery.control/);
});
