import test from 'ava';
import { type NodeFacts, type PlanInput, planRecovery } from '../../restore/recovery-plan.js';

const U = 'c1c1c1c1-0000-0000-0000-000000000001';
const up = (name: string, seqno = 100): NodeFacts => ({
  name,
  verdict: 'healthy',
  running: true,
  component: 'Primary',
  position: { uuid: U, seqno },
});
const lost = (name: string, seqno: number | null = 90): NodeFacts => ({
  name,
  verdict: 'lost',
  running: false,
  position: seqno === null ? null : { uuid: U, seqno },
});
const snapshot = { id: '2026-12-03T06-00-00Z-abcdef', takenAt: '2026-12-03T06:00:00Z', uuid: U, seqno: 80 };
const input = (nodes: NodeFacts[], more: Partial<PlanInput> = {}): PlanInput => ({ nodes, minority: false, snapshot, ...more });

test('healthy cluster: nothing to do', (t) => {
  t.is(planRecovery(input([up('n1'), up('n2'), up('n3')])).playbook, 'none');
});

test('the acting would be wrong: minority, partition, unconfirmed loss, different histories → nothing', (t) => {
  const cases: [string, PlanInput, RegExp][] = [
    ['minority', input([up('n1'), lost('n2'), lost('n3')], { minority: true }), /minority/],
    ['partition', input([up('n1'), up('n2'), { ...lost('n3'), verdict: 'partitioned' }]), /partitioned, not lost/],
    ['suspect', input([up('n1'), up('n2'), { ...lost('n3'), verdict: 'suspect' }]), /not confirmed/],
    [
      'two histories',
      input([
        { ...up('n1'), running: false, component: undefined, verdict: 'lost' } as NodeFacts,
        { ...lost('n2'), position: { uuid: 'other', seqno: 5 } },
        lost('n3'),
      ]),
      /different cluster histories/,
    ],
    [
      'quorum lost, one peer only suspect',
      input([{ ...up('n1'), component: 'non-Primary' }, lost('n2'), { ...lost('n3'), verdict: 'recovering' }]),
      /not confirmed/,
    ],
  ];
  for (const [name, i, why] of cases) {
    const plan = planRecovery(i);
    t.is(plan.playbook, 'none', name);
    t.regex(plan.decision, why, name);
  }
});

test('one node lost while the others are Primary: wait; back with its datadir: rejoin; back empty: seed from the snapshot', (t) => {
  t.regex(planRecovery(input([up('n1'), up('n2'), lost('n3')])).decision, /waiting for it to return or be replaced/);
  const back = { ...lost('n3'), verdict: 'healthy' as const };
  t.is(planRecovery(input([up('n1'), up('n2'), back])).playbook, 'rejoin');
  const unknown = { ...back, position: null };
  const waits = planRecovery(input([up('n1'), up('n2'), unknown]));
  t.is(waits.playbook, 'none', 'a datadir whose position is not known is never replaced');
  t.regex(waits.decision, /not known yet: waiting \(a damaged datadir is never replaced automatically/);
  const empty = { ...back, position: null, emptyDatadir: true };
  const seeded = planRecovery(input([up('n1'), up('n2'), empty]));
  t.is(seeded.playbook, 'seed-from-snapshot');
  t.deepEqual(
    seeded.steps.map((s) => s.action),
    ['restore-snapshot', 'start-with-position'],
  );
  t.deepEqual(seeded.steps[0]?.snapshot, snapshot);
  t.is(planRecovery(input([up('n1'), up('n2'), empty], { snapshot: null })).playbook, 'none');
});

test('quorum lost with both others confirmed lost: pc.bootstrap on the survivor', (t) => {
  const plan = planRecovery(input([lost('n1'), { ...up('n2'), component: 'non-Primary' }, lost('n3')]));
  t.is(plan.playbook, 'bootstrap-survivor');
  t.deepEqual(plan.steps, [
    {
      node: 'n2',
      action: 'pc-bootstrap',
      why: "SET GLOBAL wsrep_provider_options='pc.bootstrap=YES' on the most advanced survivor",
    },
  ]);
});

test('whole cluster down with datadirs: the highest seqno bootstraps (a tie goes to the preferred order), the others join', (t) => {
  const down = (name: string, seqno: number): NodeFacts => ({ ...lost(name, seqno), verdict: 'lost' });
  const plan = planRecovery(input([down('n1', 120), down('n2', 130), down('n3', 125)]));
  t.is(plan.playbook, 'bootstrap-most-advanced');
  t.deepEqual(
    plan.steps.map((s) => [s.node, s.action]),
    [
      ['n2', 'bootstrap'],
      ['n1', 'start-with-position'],
      ['n3', 'start-with-position'],
    ],
  );
  t.is(planRecovery(input([down('n1', 130), down('n2', 130), down('n3', 125)])).steps[0]?.node, 'n1');
  t.is(
    planRecovery(input([down('n1', 130), lost('n2', null), down('n3', 125)])).playbook,
    'none',
    'a missing datadir needs an operator',
  );
});

test('whole cluster down, no datadir: a new cluster from the snapshot, with the data-loss window said', (t) => {
  const empty = (name: string): NodeFacts => ({ ...lost(name, null), verdict: 'healthy', emptyDatadir: true });
  const plan = planRecovery(input([empty('n1'), empty('n2'), empty('n3')]));
  t.is(plan.playbook, 'new-cluster-from-snapshot');
  t.regex(plan.dataLoss ?? '', /after the snapshot \(2026-12-03T06:00:00Z, seqno 80\) is lost/);
  t.deepEqual(
    plan.steps.map((s) => [s.node, s.action, s.after]),
    [
      ['n1', 'restore-new-cluster', undefined],
      ['n2', 'restore-snapshot', 'n1'],
      ['n2', 'start-with-position', 'n1'],
      ['n3', 'restore-snapshot', 'n1'],
      ['n3', 'start-with-position', 'n1'],
    ],
  );
  t.is(planRecovery(input([empty('n1'), empty('n2'), empty('n3')], { snapshot: null })).playbook, 'none');
  t.is(
    planRecovery(input([empty('n1'), lost('n2', null), empty('n3')])).playbook,
    'none',
    'a datadir whose position is not known is never rebuilt over',
  );
  t.true(plan.facts.some((f) => f.startsWith('newest verified snapshot')));
});
