import test from 'ava';
import { nodeFacts } from '../../src/app/actions/recover.js';
import type { ClusterView } from '../../src/health/monitor.js';

const U = '48792fff-ef0f-11f1-8eb7-c3bc68d2c051';
const verdict = (state: 'healthy' | 'lost') => ({ state, since: '', reason: '', evidence: '', source: 'probes' as const });

test("the planner's facts come from the daemon's own verdicts, its galera probes and the heartbeats", (t) => {
  const view: ClusterView = {
    observer: 'n2',
    at: '',
    minority: false,
    witness: { writtenAt: null, writeError: null, readAt: null, readError: null },
    nodes: [
      { name: 'n2', observers: {}, heartbeat: { seq: 1, at: '', ageMs: 0, galera: { state: 'Synced', uuid: U, seqno: 10 } } },
      {
        name: 'n1',
        observers: { n2: verdict('healthy') },
        probes: [{ probe: 'galera', ok: true, ms: 1, detail: 'non-Primary, Initialized, size 1' }],
        heartbeat: null,
      },
      {
        name: 'n3',
        observers: { n2: verdict('lost') },
        probes: [{ probe: 'galera', ok: false, ms: 800, detail: 'no answer' }],
        heartbeat: { seq: 9, at: '', ageMs: 60_000, galera: { state: 'Synced', uuid: U, seqno: 8 } },
      },
    ],
  };
  t.deepEqual(nodeFacts(view, ['n1', 'n2', 'n3']), [
    { name: 'n1', verdict: 'healthy', running: true, component: 'non-Primary', position: null },
    { name: 'n2', verdict: 'healthy', running: true, component: 'Primary', position: { uuid: U, seqno: 10 } },
    { name: 'n3', verdict: 'lost', running: false, position: { uuid: U, seqno: 8 } },
  ]);
});
