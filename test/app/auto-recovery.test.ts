import test from 'ava';
import type { Config } from '../../config/load.js';
import type { RecoveryRecord } from '../../restore/recovery.js';
import type { AlertEvent } from '../../src/app/alerts.js';
import { AutoRecovery } from '../../src/app/auto-recovery.js';
import type { SqlClient } from '../../src/galera/index.js';
import type { ClusterView, NodeRow } from '../../src/health/monitor.js';

// The daemon's automatic recovery over fakes of its own seams: the monitor's view, the audit
// log, this node's server and the hooks. What each rule protects against is in the test name.

const UUID = '7b5972e8-ef26-11f1-8194-3e8d5f2a0f93';
type PeerVerdict = 'healthy' | 'lost' | 'partitioned' | 'suspect';

function row(name: string, verdict: PeerVerdict, seqno: number): NodeRow {
  return {
    name,
    observers: { n1: { state: verdict, since: '2026-12-03T00:00:00Z', reason: '', evidence: '', source: 'probes' } },
    probes: [{ probe: 'galera', ok: verdict === 'healthy', ms: 1, detail: verdict === 'healthy' ? 'Primary Synced' : 'refused' }],
    heartbeat: { seq: 1, at: '2026-12-03T00:00:00Z', ageMs: 60_000, galera: { state: 'Synced', uuid: UUID, seqno } },
  };
}

/** n1 observes; its own state and its verdicts on n2 and n3. */
function view(local: string, n2: PeerVerdict, n3: PeerVerdict, minority = false): ClusterView {
  return {
    observer: 'n1',
    at: '2026-12-03T00:00:10Z',
    minority,
    witness: { writtenAt: null, writeError: null, readAt: null, readError: null },
    nodes: [
      {
        name: 'n1',
        observers: {},
        heartbeat: { seq: 9, at: '2026-12-03T00:00:10Z', ageMs: 0, galera: { state: local, uuid: UUID, seqno: 120 } },
      },
      row('n2', n2, 118),
      row('n3', n3, 119),
    ],
  };
}

/** A server that is non-Primary until `pc.bootstrap=YES` arrives. */
function fakeServer() {
  const statements: string[] = [];
  let primary = false;
  const sql: SqlClient = {
    async query<T>(statement: string): Promise<T[]> {
      if (statement.includes('wsrep_desync')) return [{ Value: 'OFF' }] as T[];
      return [
        { Variable_name: 'wsrep_cluster_status', Value: primary ? 'Primary' : 'non-Primary' },
        { Variable_name: 'wsrep_local_state_comment', Value: primary ? 'Synced' : 'Initialized' },
        { Variable_name: 'wsrep_cluster_size', Value: '1' },
        { Variable_name: 'wsrep_cluster_state_uuid', Value: UUID },
        { Variable_name: 'wsrep_last_committed', Value: '120' },
      ] as T[];
    },
    async execute(statement: string): Promise<number> {
      statements.push(statement);
      if (statement.includes('pc.bootstrap=YES')) primary = true;
      return 0;
    },
    async close() {},
  };
  return { statements, connect: async () => sql };
}

function setup(recovery: Partial<Config['recovery']>, current: () => ClusterView, records: RecoveryRecord[] = []) {
  let t = Date.parse('2026-12-03T00:00:10Z');
  const server = fakeServer();
  const alerts: AlertEvent[] = [];
  const hooks: string[][] = [];
  let veto = false;
  let primaryPeers: string[] = [];
  const auto = new AutoRecovery({
    recovery: { auto: true, windowMinutes: 30, confirmSeconds: 3, hookTimeoutSeconds: 5, ...recovery },
    node: 'n1',
    order: ['n1', 'n2', 'n3'],
    view: current,
    seed: async () => null,
    log: {
      save: async (r) => {
        const i = records.findIndex((x) => x.id === r.id);
        if (i >= 0) records[i] = structuredClone(r);
        else records.push(structuredClone(r));
      },
      newest: async () => [...records].reverse(),
    },
    local: {
      name: 'n1',
      connect: server.connect,
      primaryPeers: async () => primaryPeers.map((node) => ({ node, stateUuid: 'u', lastCommitted: 1, cachedDownto: 1 })),
    },
    alerter: {
      alert: async (e) => {
        alerts.push(e);
      },
    },
    runHook: async (argv) => {
      hooks.push([...argv]);
      if (veto && argv[0] === 'pre') throw new Error('pre: exited with code 1');
    },
    now: () => t,
  });
  return {
    auto,
    server,
    alerts,
    hooks,
    records,
    advance: (ms: number) => {
      t += ms;
    },
    veto: () => {
      veto = true;
    },
    peersPrimary: (names: string[]) => {
      primaryPeers = names;
    },
  };
}

test('two peers confirmed lost: the survivor bootstraps itself, once the plan held for confirmSeconds', async (t) => {
  const s = setup({ preHook: ['pre'], postHook: ['post'] }, () => view('Initialized', 'lost', 'lost'));
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, [], 'not on the first sight of the plan');
  s.advance(3000);
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, ["SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"]);
  t.deepEqual(
    s.hooks.map((h) => h[0]),
    ['pre', 'post'],
  );
  t.is(s.records.length, 1);
  t.is(s.records[0]?.outcome, 'succeeded');
  t.is(s.records[0]?.playbook, 'bootstrap-survivor');
  t.deepEqual(
    s.alerts.map((a) => a.kind),
    ['recovery-started', 'recovery-finished'],
  );
});

test('the acting node never acts in the minority or on a partition, and not before the verdict', async (t) => {
  for (const v of [
    view('Initialized', 'healthy', 'healthy', true),
    view('Initialized', 'partitioned', 'partitioned'),
    view('Initialized', 'lost', 'suspect'),
    view('Initialized', 'lost', 'partitioned'),
  ]) {
    const s = setup({ confirmSeconds: 0 }, () => v);
    await s.auto.evaluate();
    s.advance(10_000);
    await s.auto.evaluate();
    t.deepEqual(s.server.statements, [], JSON.stringify(v.nodes.map((n) => n.observers.n1?.state)));
    t.deepEqual(s.records, []);
  }
});

test('recovery.auto false: alert once that a recovery is needed, run nothing', async (t) => {
  const s = setup({ auto: false, confirmSeconds: 0 }, () => view('Initialized', 'lost', 'lost'));
  for (let i = 0; i < 3; i++) {
    await s.auto.evaluate();
    s.advance(1000);
  }
  t.deepEqual(s.server.statements, []);
  t.deepEqual(
    s.alerts.map((a) => a.kind),
    ['recovery-held'],
  );
  t.regex(JSON.stringify(s.alerts[0]), /recovery\.auto is false/);
});

test('a veto by the pre-hook stops the plan, is recorded, and is not asked again every second', async (t) => {
  const s = setup({ preHook: ['pre'], confirmSeconds: 0 }, () => view('Initialized', 'lost', 'lost'));
  s.veto();
  for (let i = 0; i < 3; i++) {
    await s.auto.evaluate();
    s.advance(1000);
  }
  t.deepEqual(s.server.statements, []);
  t.is(s.hooks.length, 1);
  t.is(s.records[0]?.outcome, 'vetoed');
  t.deepEqual(
    s.alerts.map((a) => a.kind),
    ['recovery-held'],
  );
});

test('a second loss inside the window is not acted on automatically (alert only)', async (t) => {
  const earlier: RecoveryRecord = {
    format: 'lifeboat-recovery/1',
    id: '2026-12-02T23-50-00Z-aaaaaa',
    node: 'n2',
    trigger: 'auto',
    playbook: 'bootstrap-survivor',
    decision: '',
    facts: [],
    dataLoss: null,
    startedAt: '2026-12-02T23:50:00.000Z',
    finishedAt: '2026-12-02T23:50:05.000Z',
    outcome: 'succeeded',
    error: null,
    steps: [],
  };
  const s = setup({ confirmSeconds: 0 }, () => view('Initialized', 'lost', 'lost'), [earlier]);
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, []);
  t.is(s.alerts[0]?.kind, 'recovery-held');
  t.regex(JSON.stringify(s.alerts[0]), /at most one per 30 min/);
  s.advance(31 * 60_000);
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, ["SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'"], 'after the window it acts');
});

test('a healthy cluster plans nothing and a changed plan restarts the confirmation', async (t) => {
  let current = view('Synced', 'healthy', 'healthy');
  const s = setup({}, () => current);
  await s.auto.evaluate();
  current = view('Initialized', 'lost', 'lost');
  await s.auto.evaluate();
  s.advance(2000);
  current = view('Initialized', 'lost', 'suspect'); // n3 seen again: the plan is gone
  await s.auto.evaluate();
  s.advance(2000);
  current = view('Initialized', 'lost', 'lost');
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, [], 'not confirmed: the plan changed in between');
  s.advance(3000);
  await s.auto.evaluate();
  t.is(s.server.statements.length, 1);
  t.deepEqual(s.alerts.at(-1)?.kind, 'recovery-finished');
});

test('a bootstrap is refused at the last moment when a peer answers as Primary (the facts were a round old)', async (t) => {
  const s = setup({ confirmSeconds: 0 }, () => view('Initialized', 'lost', 'lost'));
  s.peersPrimary(['n3']);
  await s.auto.evaluate();
  t.deepEqual(s.server.statements, []);
  t.deepEqual(s.records, [], 'nothing ran: no record');
  t.regex(JSON.stringify(s.alerts), /n3 answers as Primary now/);
});
