import test from 'ava';
import { UsageError } from '../../src/lib/errors.js';
import { planRetention, type RetentionCandidate, type RetentionPolicy } from '../../src/repo/retention.js';
import { newSnapshotId } from '../../src/repo/snapshot-id.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Adobe Commerce Cloud Pro: all for 3 days, daily to 7 days, weekly to 6 weeks, monthly to 5 months */
const DEFAULTS: RetentionPolicy = { keepAllDays: 3, dailyDays: 7, weeklyWeeks: 6, monthlyMonths: 5, keepLast: 1 };

const at = (iso: string): Date => new Date(iso.endsWith('Z') ? iso : `${iso}:00Z`);
const snap = (iso: string, verified: boolean, suffix = 'abcdef'): RetentionCandidate => {
  const time = at(iso);
  return { id: newSnapshotId(time, suffix), time, verified };
};
const ids = (list: readonly { id: string }[]): string[] => list.map((x) => x.id);

// The verify job passes the 00:00 and 12:00 snapshots; 06:00 and 18:00 are never verified.
// Whole days whose verification failed, and single failed snapshots:
const FAILED_DAYS = new Set(['2026-09-30', '2026-10-25', '2026-10-28']);
const FAILED = new Set(['2026-10-27T12:00']);
const isVerified = (time: Date): boolean => {
  const iso = time.toISOString();
  const hour = time.getUTCHours();
  return (hour === 0 || hour === 12) && !FAILED_DAYS.has(iso.slice(0, 10)) && !FAILED.has(iso.slice(0, 16));
};

test('six months of six-hourly snapshots, pruned daily, keep exactly the GFS set', (t) => {
  const start = at('2026-05-01T00:00');
  const end = at('2026-11-01T03:30');
  const existing = new Map<string, RetentionCandidate>();
  const ever: RetentionCandidate[] = [];
  let n = 0;
  for (let clock = start.getTime(); clock <= end.getTime(); clock += 30 * 60_000) {
    const now = new Date(clock);
    if (now.getUTCHours() % 6 === 0 && now.getUTCMinutes() === 0) {
      const s = { id: newSnapshotId(now, (n++).toString(16).padStart(6, '0')), time: now, verified: isVerified(now) };
      existing.set(s.id, s);
      ever.push(s);
    }
    if (now.getUTCHours() !== 3 || now.getUTCMinutes() !== 30) continue;

    const plan = planRetention([...existing.values()], DEFAULTS, now);
    t.is(plan.blocked, null);
    const newestVerified = [...existing.values()].filter((s) => s.verified).at(-1);
    t.truthy(newestVerified);
    t.true(ids(plan.keep).includes(newestVerified?.id ?? ''), `newest verified kept at ${now.toISOString()}`);
    for (const r of plan.remove) {
      const s = existing.get(r.id);
      t.true(now.getTime() - (s?.time.getTime() ?? 0) >= 3 * DAY, `${r.id} removed although younger than 3 days`);
      existing.delete(r.id);
    }
    for (const k of plan.keep) {
      if (existing.get(k.id)?.verified) continue;
      t.deepEqual(k.reasons, ['within 3 days'], `unverified ${k.id} kept only while young`);
    }
  }

  const expected = [
    // monthly Jul, Aug
    '2026-07-31T12:00',
    '2026-08-31T12:00',
    // weekly W39 … W42, newest verified of each: their Sundays
    '2026-09-27T12:00',
    // monthly Sep: its last day failed verification, so the 29th
    '2026-09-29T12:00',
    '2026-10-04T12:00',
    '2026-10-11T12:00',
    '2026-10-18T12:00',
    // weekly W43: its Sunday failed, so Saturday
    '2026-10-24T12:00',
    // daily 10-26, 10-27 (its 12:00 failed); 10-28 failed entirely and keeps nothing
    '2026-10-26T12:00',
    '2026-10-27T00:00',
    // within 3 days of 2026-11-01T03:30, verified or not
    '2026-10-29T06:00',
    '2026-10-29T12:00',
    '2026-10-29T18:00',
    '2026-10-30T00:00',
    '2026-10-30T06:00',
    '2026-10-30T12:00',
    '2026-10-30T18:00',
    '2026-10-31T00:00',
    '2026-10-31T06:00',
    '2026-10-31T12:00',
    '2026-10-31T18:00',
    '2026-11-01T00:00',
  ];
  const byTime = new Map(ever.map((s) => [s.time.toISOString().slice(0, 16), s.id]));
  t.deepEqual(
    [...existing.keys()],
    expected.map((iso) => byTime.get(iso)),
  );
  t.is(ever.length, 4 * 184 + 1);

  // applying the plan daily ends where one plan over everything ever taken ends
  const once = planRetention(ever, DEFAULTS, end);
  t.deepEqual(ids(once.keep), [...existing.keys()]);
  const reasons = new Map(once.keep.map((k) => [k.id, k.reasons]));
  const id = (iso: string): string => byTime.get(iso) ?? '';
  t.deepEqual(reasons.get(id('2026-11-01T00:00')), [
    'within 3 days',
    'newest verified',
    'keep-last 1',
    'daily 2026-11-01',
    'weekly 2026-W44',
    'monthly 2026-11',
  ]);
  t.deepEqual(reasons.get(id('2026-10-31T12:00')), ['within 3 days', 'daily 2026-10-31', 'monthly 2026-10']);
  t.deepEqual(reasons.get(id('2026-10-24T12:00')), ['weekly 2026-W43']);
  t.deepEqual(reasons.get(id('2026-09-29T12:00')), ['monthly 2026-09']);
  t.deepEqual(reasons.get(id('2026-10-31T18:00')), ['within 3 days']);
  const removal = new Map(once.remove.map((r) => [r.id, r.reason]));
  t.is(removal.get(id('2026-10-28T12:00')), 'unverified and older than 3 days');
  t.is(removal.get(id('2026-10-27T18:00')), 'unverified and older than 3 days');
  t.is(removal.get(id('2026-10-24T00:00')), `weekly 2026-W43 keeps newer ${id('2026-10-24T12:00')}`);
  t.is(removal.get(id('2026-05-01T00:00')), 'older than every window (3 days, 7 days, 6 weeks, 5 months)');
});

test('unverified snapshots never fill a daily, weekly or monthly slot', (t) => {
  const now = at('2026-11-20T12:00');
  const plan = planRetention(
    [
      snap('2026-11-01T00:00', true),
      snap('2026-11-10T06:00', true),
      snap('2026-11-10T18:00', false),
      snap('2026-11-19T00:00', false),
    ],
    DEFAULTS,
    now,
  );
  t.deepEqual(
    plan.keep.map((k) => [k.id.slice(0, 16), k.reasons]),
    [
      ['2026-11-01T00-00', ['weekly 2026-W44']],
      ['2026-11-10T06-00', ['newest verified', 'keep-last 1', 'weekly 2026-W46', 'monthly 2026-11']],
      ['2026-11-19T00-00', ['within 3 days']],
    ],
  );
  t.deepEqual(
    plan.remove.map((r) => [r.id.slice(0, 16), r.reason]),
    [['2026-11-10T18-00', 'unverified and older than 3 days']],
  );
});

test('the newest verified snapshot is kept however old, and keep-last keeps the newest verified', (t) => {
  const old = snap('2025-01-15T00:00', true);
  const plan = planRetention(
    [old, snap('2026-11-01T00:00', false), snap('2026-11-10T00:00', false)],
    DEFAULTS,
    at('2026-11-20T00:00'),
  );
  t.deepEqual(plan.keep, [{ id: old.id, reasons: ['newest verified', 'keep-last 1'] }]);
  t.is(plan.remove.length, 2);

  const monthly = Array.from({ length: 12 }, (_, i) => snap(`2026-${String(i + 1).padStart(2, '0')}-10T00:00`, true));
  const none = { keepAllDays: 0, dailyDays: 0, weeklyWeeks: 0, monthlyMonths: 0, keepLast: 3 };
  const last3 = planRetention([...monthly, snap('2026-12-12T00:00', false)], none, at('2026-12-20T00:00'));
  t.deepEqual(ids(last3.keep), ids(monthly.slice(-3)));
  t.deepEqual(last3.keep.at(-1)?.reasons, ['newest verified', 'keep-last 3']);
  t.deepEqual(last3.keep[0]?.reasons, ['keep-last 3']);
  t.is(last3.remove.length, 10);
});

test('a blocked plan removes nothing and says what would have gone', (t) => {
  const snapshots = [snap('2026-01-01T00:00', true), snap('2026-06-01T00:00', true), snap('2026-11-19T00:00', false)];
  const now = at('2026-11-20T00:00');
  const open = planRetention(snapshots, DEFAULTS, now);
  t.deepEqual(ids(open.remove), [snapshots[0]?.id]);
  const blocked = planRetention(snapshots, DEFAULTS, now, { blockedReason: 'recent runs failed' });
  t.is(blocked.blocked, 'recent runs failed');
  t.deepEqual(blocked.remove, []);
  t.deepEqual(ids(blocked.keep), ids(snapshots));
  t.deepEqual(blocked.keep[0]?.reasons, [`blocked: ${open.remove[0]?.reason}`]);
});

test('with no verified snapshot nothing is removed', (t) => {
  const plan = planRetention(
    [snap('2026-01-01T00:00', false), snap('2026-11-19T00:00', false)],
    DEFAULTS,
    at('2026-11-20T00:00'),
  );
  t.deepEqual(plan.remove, []);
  t.regex(plan.blocked ?? '', /no verified snapshot/);
  t.is(planRetention([snap('2026-11-19T00:00', false)], DEFAULTS, at('2026-11-20T00:00')).blocked, null, 'nothing would go');
  t.deepEqual(planRetention([], DEFAULTS, at('2026-11-20T00:00')), { keep: [], remove: [], blocked: null });
});

test('weeks are ISO weeks, across year ends', (t) => {
  const weekly = { keepAllDays: 0, dailyDays: 0, weeklyWeeks: 2, monthlyMonths: 0, keepLast: 0 };
  const plan = planRetention(
    [snap('2025-12-29T00:00', true, '000001'), snap('2021-01-03T00:00', true, '000002')],
    weekly,
    at('2026-01-04T23:59'),
  );
  t.deepEqual(plan.keep.at(-1)?.reasons, ['newest verified', 'weekly 2026-W01']);
  const edge = planRetention([snap('2021-01-03T12:00', true)], weekly, at('2021-01-03T23:00'));
  t.deepEqual(edge.keep[0]?.reasons, ['newest verified', 'weekly 2020-W53']);
});

test('a bad policy or input is a usage error naming the problem', (t) => {
  t.throws(() => planRetention([], { ...DEFAULTS, dailyDays: -1, keepLast: 1.5 }, new Date()), {
    instanceOf: UsageError,
    message:
      'retention policy: dailyDays must be a non-negative integer, got -1; keepLast must be a non-negative integer, got 1.5',
  });
  const s = snap('2026-01-01T00:00', true);
  t.throws(() => planRetention([s, s], DEFAULTS, new Date()), { instanceOf: UsageError, message: /listed twice/ });
});
