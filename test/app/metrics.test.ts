import test from 'ava';
import { Metrics } from '../../src/app/metrics.js';
import type { NodeRow } from '../../src/health/monitor.js';
import type { JobRecord } from '../../src/scheduler/job-runner.js';

function record(patch: Partial<JobRecord>): JobRecord {
  return {
    id: 'run-1',
    kind: 'snapshot',
    trigger: 'schedule',
    state: 'succeeded',
    startedAt: '2026-01-01T06:00:00.000Z',
    finishedAt: '2026-01-01T06:02:30.500Z',
    progress: null,
    result: null,
    error: null,
    ...patch,
  };
}

function value(text: string, series: string): string | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line?.slice(series.length + 1);
}

test('a successful run sets last success time, duration and bytes, and counts the run', async (t) => {
  const m = new Metrics({ processMetrics: false });
  m.recordJob(record({ result: { id: 'snap', bytes: 5_000_000 } }));
  const text = await m.text();
  t.is(
    value(text, 'lifeboat_job_last_success_timestamp_seconds{kind="snapshot"}'),
    String(Date.parse('2026-01-01T06:02:30.500Z') / 1000),
  );
  t.is(value(text, 'lifeboat_job_last_duration_seconds{kind="snapshot"}'), '150.5');
  t.is(value(text, 'lifeboat_job_last_bytes{kind="snapshot"}'), '5000000');
  t.is(value(text, 'lifeboat_job_runs_total{kind="snapshot",state="succeeded"}'), '1');
  t.regex(m.contentType, /^text\/plain; version=0\.0\.4/);
});

test('failed and running runs do not move the success gauges; every kind and state starts at zero', async (t) => {
  const m = new Metrics({ processMetrics: false });
  let text = await m.text();
  for (const kind of ['snapshot', 'prune', 'verify']) {
    for (const state of ['succeeded', 'failed', 'cancelled']) {
      t.is(value(text, `lifeboat_job_runs_total{kind="${kind}",state="${state}"}`), '0', `${kind} ${state}`);
    }
  }
  m.recordJob(record({ kind: 'verify', result: { bytes: 10 } }));
  m.recordJob(record({ kind: 'verify', state: 'running', finishedAt: null }));
  m.recordJob(
    record({
      kind: 'verify',
      state: 'failed',
      finishedAt: '2026-01-02T06:00:00.000Z',
      result: null,
      error: { code: 'integrity', message: 'x' },
    }),
  );
  text = await m.text();
  t.is(value(text, 'lifeboat_job_runs_total{kind="verify",state="failed"}'), '1');
  t.is(value(text, 'lifeboat_job_runs_total{kind="verify",state="succeeded"}'), '1');
  t.is(
    value(text, 'lifeboat_job_last_success_timestamp_seconds{kind="verify"}'),
    String(Date.parse('2026-01-01T06:02:30.500Z') / 1000),
  );
  t.is(value(text, 'lifeboat_job_last_bytes{kind="verify"}'), '10');
});

test('only a finite, non-negative top-level bytes number counts as bytes', async (t) => {
  const m = new Metrics({ processMetrics: false });
  for (const result of [null, 'x', { bytes: '12' }, { bytes: -1 }, { bytes: Number.NaN }, { stored: { bytes: 5 } }]) {
    m.recordJob(record({ kind: 'prune', result }));
  }
  const text = await m.text();
  t.is(value(text, 'lifeboat_job_last_bytes{kind="prune"}'), undefined);
  t.is(value(text, 'lifeboat_job_runs_total{kind="prune",state="succeeded"}'), '6');
});

test('age gauges are absent until set, then grow with the clock; no snapshot is +Inf', async (t) => {
  let now = 1_000_000;
  const m = new Metrics({ processMetrics: false, now: () => now });
  let text = await m.text();
  t.false(text.includes('lifeboat_rpo_age_seconds'));
  t.false(text.includes('lifeboat_verified_age_seconds'));

  m.setRpoAge(60);
  m.setVerifiedAge(Number.POSITIVE_INFINITY);
  now += 30_000;
  text = await m.text();
  t.is(value(text, 'lifeboat_rpo_age_seconds'), '90');
  t.is(value(text, 'lifeboat_verified_age_seconds'), '+Inf');
  t.regex(text, /# TYPE lifeboat_rpo_age_seconds gauge/);

  m.setRpoAge(-5); // clock skew: counts as fresh
  t.is(value(await m.text(), 'lifeboat_rpo_age_seconds'), '0');
  t.throws(() => m.setRpoAge(Number.NaN), { instanceOf: RangeError });
});

test('each Metrics has its own registry, with process metrics unless disabled', async (t) => {
  const a = new Metrics();
  const b = new Metrics({ processMetrics: false });
  a.recordJob(record({}));
  t.regex(await a.text(), /^process_cpu_user_seconds_total /m);
  t.regex(await a.text(), /^nodejs_heap_size_used_bytes /m);
  t.false((await b.text()).includes('process_cpu_user_seconds_total'));
  t.is(value(await b.text(), 'lifeboat_job_runs_total{kind="snapshot",state="succeeded"}'), '0');
  // a shared (global) registry would have refused the second set of metric names
  t.notThrows(() => new Metrics());
});

test('database reachability is absent until known, then 1 or 0', async (t) => {
  const m = new Metrics({ processMetrics: false });
  t.is(value(await m.text(), 'lifeboat_database_up'), undefined);
  m.setDatabaseUp(false);
  t.is(value(await m.text(), 'lifeboat_database_up'), '0');
  m.setDatabaseUp(true);
  t.is(value(await m.text(), 'lifeboat_database_up'), '1');
});

test('node series: state per node and observer, last probe per node and probe, transitions counted', async (t) => {
  const m = new Metrics({ processMetrics: false });
  t.is(value(await m.text(), 'lifeboat_node_state{node="n2",observer="n1"}'), undefined);
  const verdict = (state: 'healthy' | 'lost', source: 'probes' | 'witness') =>
    ({ state, since: '', reason: '', evidence: '', source }) as const;
  m.watchCluster(() => ({
    observer: 'n1',
    at: '',
    minority: false,
    witness: { writtenAt: null, writeError: null, readAt: null, readError: null },
    nodes: <NodeRow[]>[
      {
        name: 'n1',
        observers: { n3: verdict('healthy', 'witness'), n2: { ...verdict('healthy', 'witness'), stale: true } },
        heartbeat: null,
      },
      {
        name: 'n2',
        observers: { n1: verdict('lost', 'probes'), n3: verdict('lost', 'witness') },
        probes: [
          { probe: 'tcp', ok: false, ms: 800, detail: 'no answer within 800 ms' },
          { probe: 'galera', ok: true, ms: 12, detail: 'Primary, Synced, size 3' },
        ],
        heartbeat: null,
      },
    ],
  }));
  m.recordTransition('n2', 'healthy', 'suspect');
  m.recordTransition('n2', 'suspect', 'lost');
  const text = await m.text();
  t.is(value(text, 'lifeboat_node_state{node="n1",observer="n3"}'), '0');
  t.is(value(text, 'lifeboat_node_state{node="n1",observer="n2"}'), undefined, 'a stale heartbeat exports nothing');
  t.is(value(text, 'lifeboat_node_state{node="n2",observer="n1"}'), '4');
  t.is(value(text, 'lifeboat_node_state{node="n2",observer="n3"}'), '4');
  t.is(value(text, 'lifeboat_node_probe_seconds{node="n2",probe="tcp"}'), '0.8');
  t.is(value(text, 'lifeboat_node_probe_up{node="n2",probe="tcp"}'), '0');
  t.is(value(text, 'lifeboat_node_probe_up{node="n2",probe="galera"}'), '1');
  t.is(value(text, 'lifeboat_node_transitions_total{node="n2",from="suspect",to="lost"}'), '1');
});
