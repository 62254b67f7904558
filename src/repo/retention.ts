import { UsageError } from '../lib/errors.js';

/**
 * GFS retention as a pure function of the snapshots, the policy and the time.
 *
 * Semantics (all calendar arithmetic in UTC):
 * - `keepAllDays`: every snapshot, verified or not, younger than `keepAllDays` × 24 h is kept
 *   ("within 3 days"). Unverified snapshots are kept by this rule only: once older, they are
 *   removed, and they never fill a keep-last, daily, weekly or monthly slot.
 * - `dailyDays` / `weeklyWeeks` / `monthlyMonths`: the window is the N calendar periods (UTC day,
 *   ISO week Monday–Sunday, calendar month) ending with the one that contains `now`. In each period
 *   of its window the NEWEST verified snapshot is kept ("daily 2026-11-20", "weekly 2026-W47",
 *   "monthly 2026-11"). Newest, because a completed period's newest snapshot never changes, so the
 *   keeper of a period is the same whether the plan is applied once or every day; a period without
 *   a verified snapshot keeps nothing. 0 disables the rule.
 * - `keepLast`: the `keepLast` newest verified snapshots are kept whatever their age.
 * - The newest verified snapshot is always kept ("newest verified").
 * - Nothing is removed when `options.blockedReason` is given (`blocked` is then that reason), nor
 *   when no snapshot is verified and some would go (removing every unverified snapshot beyond
 *   `keepAllDays` would leave nothing proven restorable). The snapshots that would otherwise go are
 *   listed in `keep` with a single reason starting `blocked:`.
 */

export interface RetentionPolicy {
  readonly keepAllDays: number;
  readonly dailyDays: number;
  readonly weeklyWeeks: number;
  readonly monthlyMonths: number;
  readonly keepLast: number;
}

export interface RetentionCandidate {
  readonly id: string;
  readonly time: Date;
  /** complete and verified: only such snapshots fill keep-last, daily, weekly and monthly slots */
  readonly verified: boolean;
}

export interface RetentionPlan {
  /** oldest first; every reason that keeps the snapshot */
  readonly keep: { readonly id: string; readonly reasons: string[] }[];
  /** oldest first */
  readonly remove: { readonly id: string; readonly reason: string }[];
  /** why nothing is removed, or null */
  readonly blocked: string | null;
}

const DAY_MS = 86_400_000;

interface Period {
  /** consecutive integer per period: the distance between two periods is their difference */
  readonly index: number;
  readonly label: string;
}

interface Rule {
  readonly name: 'daily' | 'weekly' | 'monthly';
  readonly count: number;
  readonly unit: string;
  readonly period: (time: Date) => Period;
}

export function planRetention(
  snapshots: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: Date,
  options: { readonly blockedReason?: string } = {},
): RetentionPlan {
  checkPolicy(policy);
  checkSnapshots(snapshots, now);
  const newestFirst = [...snapshots].sort((a, b) => b.time.getTime() - a.time.getTime() || (a.id < b.id ? 1 : -1));
  const verified = newestFirst.filter((s) => s.verified);
  const reasons = new Map<string, string[]>(newestFirst.map((s) => [s.id, []]));
  const keep = (id: string, reason: string): void => {
    reasons.get(id)?.push(reason);
  };

  const within = `within ${policy.keepAllDays} day${policy.keepAllDays === 1 ? '' : 's'}`;
  for (const s of newestFirst) if (now.getTime() - s.time.getTime() < policy.keepAllDays * DAY_MS) keep(s.id, within);
  const newest = verified[0];
  if (newest) keep(newest.id, 'newest verified');
  for (const s of verified.slice(0, policy.keepLast)) keep(s.id, `keep-last ${policy.keepLast}`);

  const rules: Rule[] = [
    { name: 'daily', count: policy.dailyDays, unit: 'days', period: day },
    { name: 'weekly', count: policy.weeklyWeeks, unit: 'weeks', period: isoWeek },
    { name: 'monthly', count: policy.monthlyMonths, unit: 'months', period: month },
  ];
  /** per rule: period index → keeper id, for the reasons of what goes */
  const keepers = new Map<string, Map<number, string>>();
  for (const rule of rules) {
    const current = rule.period(now).index;
    const chosen = new Map<number, string>();
    keepers.set(rule.name, chosen);
    for (const s of verified) {
      const p = rule.period(s.time);
      if (current - p.index >= rule.count || chosen.has(p.index)) continue;
      chosen.set(p.index, s.id);
      keep(s.id, `${rule.name} ${p.label}`);
    }
  }

  const goes = newestFirst.filter((s) => reasons.get(s.id)?.length === 0);
  const blocked =
    options.blockedReason ??
    (verified.length === 0 && goes.length > 0 ? 'no verified snapshot: nothing is removed until one is verified' : null);
  const plan: RetentionPlan = { keep: [], remove: [], blocked };
  for (const s of [...newestFirst].reverse()) {
    const why = reasons.get(s.id) ?? [];
    if (why.length > 0) plan.keep.push({ id: s.id, reasons: why });
    else {
      const reason = removalReason(s, policy, rules, keepers, now);
      if (blocked === null) plan.remove.push({ id: s.id, reason });
      else plan.keep.push({ id: s.id, reasons: [`blocked: ${reason}`] });
    }
  }
  return plan;
}

function removalReason(
  s: RetentionCandidate,
  policy: RetentionPolicy,
  rules: readonly Rule[],
  keepers: ReadonlyMap<string, ReadonlyMap<number, string>>,
  now: Date,
): string {
  if (!s.verified) return `unverified and older than ${policy.keepAllDays} day${policy.keepAllDays === 1 ? '' : 's'}`;
  for (const rule of rules) {
    const p = rule.period(s.time);
    if (rule.period(now).index - p.index >= rule.count) continue;
    const keeper = keepers.get(rule.name)?.get(p.index);
    if (keeper) return `${rule.name} ${p.label} keeps newer ${keeper}`;
  }
  const windows = rules.map((r) => `${r.count} ${r.unit}`).join(', ');
  return `older than every window (${policy.keepAllDays} days, ${windows})`;
}

function day(time: Date): Period {
  return { index: Math.floor(time.getTime() / DAY_MS), label: time.toISOString().slice(0, 10) };
}

/** ISO 8601 week: weeks start on Monday; week 1 is the one holding the year's first Thursday. */
function isoWeek(time: Date): Period {
  const days = Math.floor(time.getTime() / DAY_MS);
  // 1970-01-01 was a Thursday: day -3 is the Monday of week index 0.
  const index = Math.floor((days + 3) / 7);
  const thursday = new Date(index * 7 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return { index, label: `${year}-W${String(week).padStart(2, '0')}` };
}

function month(time: Date): Period {
  const year = time.getUTCFullYear();
  const m = time.getUTCMonth();
  return { index: year * 12 + m, label: `${year}-${String(m + 1).padStart(2, '0')}` };
}

function checkPolicy(policy: RetentionPolicy): void {
  const problems = (['keepAllDays', 'dailyDays', 'weeklyWeeks', 'monthlyMonths', 'keepLast'] as const)
    .filter((k) => !Number.isInteger(policy[k]) || policy[k] < 0)
    .map((k) => `${k} must be a non-negative integer, got ${String(policy[k])}`);
  if (problems.length > 0) throw new UsageError(`retention policy: ${problems.join('; ')}`);
}

function checkSnapshots(snapshots: readonly RetentionCandidate[], now: Date): void {
  if (Number.isNaN(now.getTime())) throw new UsageError('retention: invalid current time');
  const seen = new Set<string>();
  for (const s of snapshots) {
    if (seen.has(s.id)) throw new UsageError(`snapshot '${s.id}': listed twice for retention`);
    if (Number.isNaN(s.time.getTime())) throw new UsageError(`snapshot '${s.id}': invalid time`);
    seen.add(s.id);
  }
}
