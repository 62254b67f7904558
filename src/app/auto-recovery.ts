import type { Config } from '../../config/load.js';
import {
  executePlan,
  type LocalNode,
  newRecord,
  notNow,
  type RecoveryLog,
  type RecoveryRecord,
  whyNotRunnable,
} from '../../restore/recovery.js';
import { type Plan, type PlanInput, planRecovery } from '../../restore/recovery-plan.js';
import type { ClusterView } from '../health/monitor.js';
import { errorMessage } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { withDeadline } from '../lib/time.js';
import { nodeFacts } from './actions/recover.js';
import type { Alerter } from './alerts.js';
import type { Metrics } from './metrics.js';

/** The playbooks that cannot split or overwrite anything (a node joins a Primary component, a dead brick starts): not limited by recovery.windowMinutes. */
const JOINS = new Set<Plan['playbook']>(['rejoin', 'seed-from-snapshot', 'restart-bricks']);

/** Never run by the daemon: Magento empties some file areas itself, so an empty area is an operator's call. */
const OPERATOR_ONLY = new Set<Plan['playbook']>(['restore-areas', 'reset-brick']);

export interface AutoRecoveryDeps {
  readonly recovery: Config['recovery'];
  readonly node: string;
  /** the nodes in preferred order */
  readonly order: readonly string[];
  /** the loss monitor's view (its verdicts are confirmed by the witness) */
  readonly view: () => ClusterView;
  /** the newest verified snapshot with a Galera position */
  readonly seed: () => Promise<PlanInput['snapshot']>;
  /** the GlusterFS volume's plan with `driver`'s steps (restore/volume-recovery.ts); absent: no volume here */
  readonly volumePlan?: (driver: string) => Promise<Plan>;
  readonly log: Pick<RecoveryLog, 'save' | 'newest'>;
  readonly local: LocalNode;
  readonly alerter: Pick<Alerter, 'alert'>;
  readonly metrics?: Pick<Metrics, 'recordRecovery'>;
  /** runs a hook to its end; rejects on a non-zero exit, a signal or the deadline */
  readonly runHook: (argv: readonly string[], env: Record<string, string>, timeoutMs: number) => Promise<void>;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export interface AutoRecoveryStatus {
  readonly auto: boolean;
  /** the recovery running now, step by step */
  readonly running: RecoveryRecord | null;
  /** the last decision that was not `none`, and why it was (not) acted on */
  readonly last: { readonly at: string; readonly playbook: string; readonly decision: string; readonly action: string } | null;
}

/**
 * The daemon's automatic recovery. Each evaluation plans from the loss monitor's view and acts
 * only when all of these hold: the plan has steps for this node that can run unattended; the
 * same plan came out of evaluations at least `recovery.confirmSeconds` apart; `recovery.auto`
 * is on; no automatic recovery that bootstraps or rebuilds (run or vetoed) started within
 * `recovery.windowMinutes`, cluster-wide (the audit records in the object store say; a join
 * is not limited); and the pre-hook, if any, exits 0.
 * Otherwise it alerts once per decision and waits. A crash mid-recovery needs nothing special:
 * the next evaluation re-plans from what is true then, and every step is idempotent.
 */
export class AutoRecovery {
  private readonly logger: Logger;
  private readonly now: () => number;
  private busy = false;
  private running: RecoveryRecord | null = null;
  private candidate: { key: string; since: number } | undefined;
  private held = '';
  private last: AutoRecoveryStatus['last'] = null;
  private seedCache: { at: number; value: PlanInput['snapshot'] } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: AutoRecoveryDeps) {
    this.logger = (deps.logger ?? nullLogger).child({ component: 'auto-recovery' });
    this.now = deps.now ?? Date.now;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      void this.evaluate().catch((err: unknown) => this.logger.warn('recovery evaluation failed', { error: errorMessage(err) }));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  status(): AutoRecoveryStatus {
    return { auto: this.deps.recovery.auto, running: this.running, last: this.last };
  }

  /** One evaluation; resolves once any recovery it started has ended. */
  async evaluate(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.evaluateOnce();
    } finally {
      this.busy = false;
    }
  }

  private async evaluateOnce(): Promise<void> {
    const view = this.deps.view();
    const nodes = nodeFacts(view, this.deps.order);
    const whole = !view.minority && nodes.every((n) => n.verdict === 'healthy' && n.running && n.component === 'Primary');
    // the database first; the volume once the database needs nothing
    let plan = whole ? null : planRecovery({ nodes, minority: view.minority, snapshot: await this.seed() });
    if ((!plan || plan.playbook === 'none') && !view.minority && this.deps.volumePlan) {
      // one daemon drives the volume: the first in preferred order that this one sees healthy (itself included)
      const driver = nodes.find((n) => n.name === this.deps.node || n.verdict === 'healthy')?.name ?? this.deps.node;
      // a hung mount or glusterd must not hold the database's recovery back: a deadline, then no plan
      plan = await withDeadline(this.deps.volumePlan(driver), 10_000).catch((err: unknown) => {
        this.logger.debug('volume plan failed', { error: errorMessage(err) });
        return null;
      });
    }
    if (!plan || plan.playbook === 'none') {
      this.candidate = undefined;
      if (whole) this.held = '';
      return;
    }
    const key = `${plan.playbook} ${JSON.stringify(plan.steps)}`;
    const why = whyNotRunnable(plan, this.deps.local);
    if (why) {
      this.candidate = undefined;
      // waiting for another node's step is part of the plan, not a reason to alert
      const mine = plan.steps.filter((s) => s.node === this.deps.node);
      if (mine.length > 0 && mine.every((s) => s.after === undefined)) await this.hold(plan, key, why);
      return;
    }
    const t = this.now();
    if (this.candidate?.key !== key) this.candidate = { key, since: t };
    if (t - this.candidate.since < this.deps.recovery.confirmSeconds * 1000) return;
    if (!this.deps.recovery.auto) return this.hold(plan, key, 'recovery.auto is false: run `lifeboat recover --execute`');
    if (OPERATOR_ONLY.has(plan.playbook))
      return this.hold(plan, key, `${plan.playbook} is asked of an operator: \`lifeboat recover --execute --yes\``);
    // A node that joins a Primary component (with its datadir, or seeded into an empty one) cannot
    // split the cluster: only the playbooks that bootstrap are limited to one per window.
    const windowMs = this.deps.recovery.windowMinutes * 60_000;
    const recent = JOINS.has(plan.playbook)
      ? undefined
      : (await this.deps.log.newest(5)).find(
          (r) => r.trigger === 'auto' && !JOINS.has(r.playbook) && t - Date.parse(r.startedAt) < windowMs,
        );
    if (recent)
      return this.hold(
        plan,
        key,
        `automatic recovery ${recent.id} (${recent.outcome}) started ${Math.round((t - Date.parse(recent.startedAt)) / 60_000)} min ago; at most one per ${this.deps.recovery.windowMinutes} min`,
      );
    await this.act(plan, key);
  }

  private async act(plan: Plan, key: string): Promise<void> {
    const r = this.deps.recovery;
    const env = { LIFEBOAT_RECOVERY_PLAN: JSON.stringify(plan), LIFEBOAT_RECOVERY_PLAYBOOK: plan.playbook };
    const wait = await notNow(plan, this.deps.local);
    if (wait?.done) return;
    if (wait) return this.hold(plan, key, wait.why);
    if (r.preHook) {
      try {
        await this.deps.runHook(r.preHook, env, r.hookTimeoutSeconds * 1000);
      } catch (err) {
        const record = newRecord(plan, this.deps.node, 'auto', new Date(this.now()));
        record.outcome = 'vetoed';
        record.error = `recovery.preHook: ${errorMessage(err)}`;
        record.finishedAt = record.startedAt;
        await this.deps.log.save(record);
        this.deps.metrics?.recordRecovery(plan.playbook, 'vetoed');
        return this.hold(plan, key, `vetoed by recovery.preHook (${errorMessage(err)}); record ${record.id}`);
      }
    }
    this.held = key;
    this.last = { at: new Date(this.now()).toISOString(), playbook: plan.playbook, decision: plan.decision, action: 'run' };
    const t0 = this.now();
    let record: RecoveryRecord | undefined;
    try {
      record = await executePlan(plan, {
        local: this.deps.local,
        log: this.deps.log,
        trigger: 'auto',
        logger: this.logger,
        onStep: (rec) => {
          this.running = rec;
          if (rec.steps.every((s) => s.state === 'pending' || s.state === 'elsewhere'))
            void this.deps.alerter.alert({
              kind: 'recovery-started',
              id: rec.id,
              playbook: plan.playbook,
              decision: plan.decision,
              ...(plan.dataLoss ? { dataLoss: plan.dataLoss } : {}),
            });
        },
      });
    } finally {
      this.running = null;
    }
    const outcome = record.outcome === 'succeeded' ? 'succeeded' : 'failed';
    this.deps.metrics?.recordRecovery(plan.playbook, outcome, (this.now() - t0) / 1000);
    void this.deps.alerter.alert({
      kind: 'recovery-finished',
      id: record.id,
      playbook: plan.playbook,
      outcome,
      ...(record.error ? { error: record.error } : {}),
    });
    if (r.postHook) {
      await this.deps
        .runHook(
          r.postHook,
          { ...env, LIFEBOAT_RECOVERY_OUTCOME: outcome, LIFEBOAT_RECOVERY_ID: record.id },
          r.hookTimeoutSeconds * 1000,
        )
        .catch((err: unknown) => this.logger.warn('recovery.postHook failed', { error: errorMessage(err) }));
    }
  }

  /** Not acting on `plan`: said once per decision (log, alert, metric). */
  private async hold(plan: Plan, key: string, reason: string): Promise<void> {
    this.last = {
      at: new Date(this.now()).toISOString(),
      playbook: plan.playbook,
      decision: plan.decision,
      action: `held: ${reason}`,
    };
    if (this.held === key) return;
    this.held = key;
    this.logger.warn('recovery held', { playbook: plan.playbook, decision: plan.decision, reason });
    this.deps.metrics?.recordRecovery(plan.playbook, 'held');
    await this.deps.alerter.alert({ kind: 'recovery-held', playbook: plan.playbook, decision: plan.decision, reason });
  }

  private async seed(): Promise<PlanInput['snapshot']> {
    const t = this.now();
    if (!this.seedCache || t - this.seedCache.at > 60_000) {
      const value = await this.deps.seed().catch(() => this.seedCache?.value ?? null);
      this.seedCache = { at: t, value };
    }
    return this.seedCache.value;
  }
}
