import { setTimeout as sleep } from 'node:timers/promises';
import { type DatadirState, type PeerPosition, type SqlClient, wsrepStatus } from '../src/galera/index.js';
import { ConflictError, errorMessage, PermanentError, UsageError } from '../src/lib/errors.js';
import { type Logger, nullLogger } from '../src/lib/logger.js';
import type { Repository } from '../src/repo/repository.js';
import { newSnapshotId } from '../src/repo/snapshot-id.js';
import { getBuffer } from '../src/storage/object-store.js';
import type { NodeControl } from './node-control.js';
import type { Plan, PlanStep, SeedSnapshot } from './recovery-plan.js';
import { type LocalVolume, runVolumeStep } from './volume-recovery.js';

/**
 * Runs a recovery plan (restore/recovery-plan.ts). A daemon or `lifeboat recover --execute` runs
 * only the steps of its own node: every step acts on the node it names, through that node's own
 * server and init system, so no two executors can act on one node, and no node is ever driven
 * over the network. Every step is idempotent (it first checks whether its effect is there), so a
 * run that died part-way is re-planned and run again safely. Each run leaves an audit record in
 * the object store, `recoveries/<id>.json`, written before the first step and after every step.
 */

/** This node, as the steps act on it. */
export interface LocalNode {
  readonly name: string;
  /** its `mariadbd` service; steps that start or bootstrap it need one */
  readonly control?: NodeControl;
  /** its datadir; steps that restore a snapshot into it need one */
  readonly datadir?: LocalDatadir;
  /** the GlusterFS volume at files.root; the volume steps need it */
  readonly volume?: LocalVolume;
  /** a connection to its server; the step closes it */
  connect(): Promise<SqlClient>;
  /** the peers that answer, now, as members of a Primary component (short deadlines; unreachable ones are not) */
  primaryPeers(): Promise<readonly PeerPosition[]>;
}

export interface LocalDatadir {
  readonly path: string;
  /** what it holds, read without starting anything */
  inspect(): Promise<DatadirState>;
  /**
   * Restores the snapshot's database into the (empty) datadir, with grastate.dat at the
   * snapshot's position; `bootstrap` marks it safe_to_bootstrap. A failed restore leaves it empty.
   */
  restore(snapshot: string, options: { readonly bootstrap: boolean; readonly signal?: AbortSignal }): Promise<void>;
}

export interface StepRecord extends PlanStep {
  /** `elsewhere`: another node's step, for that node's daemon */
  state: 'pending' | 'done' | 'skipped' | 'failed' | 'elsewhere';
  detail: string;
  seconds?: number;
}

export const RECOVERY_FORMAT = 'lifeboat-recovery/1';

export interface RecoveryRecord {
  readonly format: typeof RECOVERY_FORMAT;
  readonly id: string;
  /** the node whose daemon (or operator) ran it */
  readonly node: string;
  readonly trigger: 'auto' | 'cli';
  readonly playbook: Plan['playbook'];
  readonly decision: string;
  readonly facts: readonly string[];
  readonly dataLoss: string | null;
  readonly startedAt: string;
  finishedAt: string | null;
  outcome: 'running' | 'succeeded' | 'failed' | 'vetoed';
  error: string | null;
  readonly steps: StepRecord[];
}

const STARTS = new Set<PlanStep['action']>(['start', 'start-with-position']);
const BOOTSTRAPS = new Set<PlanStep['action']>(['bootstrap', 'pc-bootstrap', 'restore-new-cluster']);
const NEEDS_CONTROL = new Set<PlanStep['action']>(['start', 'start-with-position', 'bootstrap', 'restore-new-cluster']);
const NEEDS_DATADIR = new Set<PlanStep['action']>(['restore-snapshot', 'restore-new-cluster']);
const NEEDS_VOLUME = new Set<PlanStep['action']>(['start-bricks', 'heal', 'reset-brick', 'restore-area']);

/** Why this node cannot run its steps of `plan` (null: it can, and has some). */
export function whyNotRunnable(plan: Plan, local: Pick<LocalNode, 'name' | 'control' | 'datadir' | 'volume'>): string | null {
  const node = local.name;
  if (plan.playbook === 'none') return `nothing to do: ${plan.decision}`;
  const mine = plan.steps.filter((s) => s.node === node);
  if (mine.length === 0)
    return `no step of this plan is for ${node}: the daemons of ${plan.steps.map((s) => s.node).join(', ')} run it`;
  const waits = mine.find((s) => s.after !== undefined);
  if (waits) return `${node} waits for ${waits.after} to be Primary, then rejoins`;
  if (!local.control && mine.some((s) => NEEDS_CONTROL.has(s.action)))
    return `${node} has no recovery.control in its config: it cannot start its mariadbd (see the README, "When a server is lost")`;
  if (!local.datadir && mine.some((s) => NEEDS_DATADIR.has(s.action)))
    return `${node} has no datadir in its config (cluster.nodes[].datadir or database.datadir): it cannot be seeded`;
  if (!local.volume && mine.some((s) => NEEDS_VOLUME.has(s.action)))
    return `${node}: files.root is not on a GlusterFS mount here`;
  return null;
}

/** The audit trail in the object store: `recoveries/<id>.json`, ids sorting by time. */
export class RecoveryLog {
  constructor(private readonly repo: Repository) {}

  async save(record: RecoveryRecord): Promise<void> {
    await this.repo.store.put(`recoveries/${record.id}.json`, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  }

  /** The newest records first (at most `limit`). */
  async newest(limit = 10): Promise<RecoveryRecord[]> {
    const keys: string[] = [];
    for await (const o of this.repo.store.list('recoveries/')) if (o.key.endsWith('.json')) keys.push(o.key);
    keys.sort().reverse();
    const out: RecoveryRecord[] = [];
    for (const key of keys.slice(0, limit)) {
      try {
        out.push(JSON.parse((await getBuffer(this.repo.store, key)).toString('utf8')) as RecoveryRecord);
      } catch {
        // a record that cannot be read is skipped (the trail is for people; the next write is whole)
      }
    }
    return out;
  }
}

/** A fresh record of `plan` run by `node`: its own steps pending, the others' `elsewhere`. */
export function newRecord(plan: Plan, node: string, trigger: RecoveryRecord['trigger'], started: Date): RecoveryRecord {
  return {
    format: RECOVERY_FORMAT,
    id: newSnapshotId(started),
    node,
    trigger,
    playbook: plan.playbook,
    decision: plan.decision,
    facts: plan.facts,
    dataLoss: plan.dataLoss,
    startedAt: started.toISOString(),
    finishedAt: null,
    outcome: 'running',
    error: null,
    steps: plan.steps.map((s) =>
      s.node === node
        ? { ...s, state: 'pending', detail: '' }
        : { ...s, state: 'elsewhere', detail: `for ${s.node}'s daemon or operator` },
    ),
  };
}

/**
 * Why this node's steps of `plan` must not run now, asked of this node's service and of the
 * peers directly right before acting (the plan's facts are up to a probe round old): a start of a
 * server that runs already is done (`done`); a bootstrap while any peer answers as Primary would
 * split the cluster; a start while none does has nothing to join. Null: go.
 */
export async function notNow(plan: Plan, local: LocalNode): Promise<{ why: string; done: boolean } | null> {
  const mine = plan.steps.filter((s) => s.node === local.name);
  const starts = mine.some((s) => STARTS.has(s.action));
  const bootstraps = mine.some((s) => BOOTSTRAPS.has(s.action));
  // the plan's facts lag this node's own state by up to a heartbeat: what is done is not redone
  if (starts && !bootstraps && (await local.control?.isRunning())) return { why: `${local.name} already runs`, done: true };
  const primary = (await local.primaryPeers()).map((p) => p.node);
  if (bootstraps && primary.length > 0)
    return {
      why: `${primary.join(', ')} answer${primary.length === 1 ? 's' : ''} as Primary now: a bootstrap here would split the cluster`,
      done: false,
    };
  if (starts && primary.length === 0) return { why: 'no peer answers as Primary now: nothing to join yet', done: false };
  return null;
}

export interface ExecuteOptions {
  readonly local: LocalNode;
  readonly log: Pick<RecoveryLog, 'save'>;
  readonly trigger: 'auto' | 'cli';
  readonly logger?: Logger;
  /** called as each step starts and ends (progress, status) */
  readonly onStep?: (record: RecoveryRecord, step: StepRecord) => void;
  readonly signal?: AbortSignal;
  /** how long a pc.bootstrap or a start may take to give a Primary, Synced node (default 120 s) */
  readonly settleMs?: number;
  readonly now?: () => Date;
}

/**
 * Runs this node's steps of `plan` in order, recording each. A failed step ends the run (the
 * steps after it depend on it); the record says which and why. Throws before anything runs (and
 * before any record) a UsageError when the plan has no step this executor can run, a
 * ConflictError when the peers say it must not run now (`notNow`).
 */
export async function executePlan(plan: Plan, options: ExecuteOptions): Promise<RecoveryRecord> {
  const why = whyNotRunnable(plan, options.local);
  if (why) throw new UsageError(`recover: ${why}`);
  const wait = await notNow(plan, options.local);
  if (wait) throw new ConflictError(`recover: not run: ${wait.why}`);
  const now = options.now ?? (() => new Date());
  const logger = (options.logger ?? nullLogger).child({ job: 'recovery', playbook: plan.playbook });
  const record = newRecord(plan, options.local.name, options.trigger, now());
  // No record, no action: a recovery nobody can audit does not start.
  await options.log.save(record);
  logger.warn('recovery started', {
    id: record.id,
    decision: plan.decision,
    trigger: options.trigger,
    ...(plan.dataLoss ? { dataLoss: plan.dataLoss } : {}),
  });
  for (const step of record.steps) {
    if (step.state === 'elsewhere') continue;
    const t0 = Date.now();
    options.onStep?.(record, step);
    try {
      options.signal?.throwIfAborted();
      const result = await runStep(step, options);
      step.state = result.skipped ? 'skipped' : 'done';
      step.detail = result.detail;
    } catch (err) {
      step.state = 'failed';
      step.detail = errorMessage(err);
      record.outcome = 'failed';
      record.error = `${step.node} ${step.action}: ${errorMessage(err)}`;
    }
    step.seconds = (Date.now() - t0) / 1000;
    logger.warn('recovery step', { id: record.id, node: step.node, action: step.action, state: step.state, detail: step.detail });
    options.onStep?.(record, step);
    if (record.outcome === 'failed') break;
    await options.log.save(record);
  }
  if (record.outcome === 'running') record.outcome = 'succeeded';
  record.finishedAt = now().toISOString();
  await options.log.save(record).catch((err: unknown) => {
    logger.error('recovery record not saved', { id: record.id, error: errorMessage(err) });
  });
  logger.warn('recovery finished', { id: record.id, outcome: record.outcome, error: record.error });
  return record;
}

async function runStep(step: StepRecord, options: ExecuteOptions): Promise<{ skipped: boolean; detail: string }> {
  const settleMs = options.settleMs ?? 120_000;
  const signal = options.signal;
  switch (step.action) {
    case 'pc-bootstrap':
      return withLocal(options.local, async (sql) => {
        const before = await wsrepStatus(sql, { timeoutMs: 10_000 });
        if (before.clusterStatus === 'Primary') return { skipped: true, detail: 'already Primary' };
        await sql.execute("SET GLOBAL wsrep_provider_options='pc.bootstrap=YES'", [], { timeoutMs: 30_000 });
        const after = await settle(sql, settleMs, signal);
        return {
          skipped: false,
          detail: `Primary, cluster size ${after.clusterSize}, at ${after.stateUuid}:${after.lastCommitted}`,
        };
      });
    case 'start':
    case 'start-with-position':
    case 'bootstrap': {
      const control = options.local.control;
      if (!control)
        throw new PermanentError(`${step.action} needs recovery.control in the config (how to start this node's mariadbd)`);
      if (await control.isRunning(signal)) return { skipped: true, detail: 'already running' };
      await (step.action === 'bootstrap' ? control.bootstrap(signal) : control.start(signal));
      const after = await withLocal(options.local, (sql) => settle(sql, settleMs, signal));
      return { skipped: false, detail: `running: ${after.localState} in a Primary component of ${after.clusterSize}` };
    }
    case 'restore-snapshot':
      return seedStep(step, options);
    case 'start-bricks':
    case 'heal':
    case 'reset-brick':
    case 'restore-area':
      return runVolumeStep(step, options.local.volume as LocalVolume, signal ? { signal } : {});
    case 'restore-new-cluster': {
      const control = options.local.control as NodeControl;
      if (await control.isRunning(signal)) return { skipped: true, detail: 'already running' };
      const seeded = await seedDatadir(step, options, true);
      await control.bootstrap(signal);
      const after = await withLocal(options.local, (sql) => settle(sql, settleMs, signal));
      return {
        skipped: false,
        detail: `${seeded}; bootstrapped: a Primary component of ${after.clusterSize} at ${after.stateUuid}:${after.lastCommitted}`,
      };
    }
  }
}

/**
 * Seeds an empty datadir from the plan's snapshot so that the join that follows is an IST — when
 * a donor's gcache still reaches back to the snapshot's position. When none does, the join is a
 * full SST that would overwrite a seed: the datadir is left empty and the step says so.
 */
async function seedStep(step: StepRecord, options: ExecuteOptions): Promise<{ skipped: boolean; detail: string }> {
  const snap = snapshotOf(step);
  if (await options.local.control?.isRunning(options.signal)) return { skipped: true, detail: 'already running' };
  const donors = await options.local.primaryPeers();
  const covering = donors.filter(
    (d) =>
      d.stateUuid === snap.uuid && (snap.seqno >= d.lastCommitted || (d.cachedDownto >= 0 && d.cachedDownto <= snap.seqno + 1)),
  );
  if (covering.length === 0 && donors.length > 0) {
    const floors = donors.map((d) => `${d.node} from seqno ${d.cachedDownto}`).join(', ');
    return {
      skipped: true,
      detail: `not seeded: no donor's gcache reaches back to seqno ${snap.seqno + 1} (${floors}); the join is a full SST, which would overwrite a seed`,
    };
  }
  const seeded = await seedDatadir(step, options, false);
  const ist = covering.map((d) => `${d.node}'s gcache holds seqnos from ${d.cachedDownto}`).join(', ');
  return { skipped: false, detail: `${seeded}; IST expected (${ist})` };
}

/** Restores the step's snapshot into this node's empty datadir (idempotent: a datadir seeded from it already is kept). */
async function seedDatadir(step: StepRecord, options: ExecuteOptions, bootstrap: boolean): Promise<string> {
  const snap = snapshotOf(step);
  const datadir = options.local.datadir as LocalDatadir;
  const disk = await datadir.inspect();
  if (disk.kind === 'position' && disk.uuid === snap.uuid && disk.seqno === snap.seqno)
    return `already seeded from snapshot ${snap.id} (${snap.uuid}:${snap.seqno})`;
  if (disk.kind !== 'empty')
    throw new PermanentError(
      `datadir ${datadir.path} is not empty (${disk.kind === 'position' ? `at ${disk.uuid}:${disk.seqno}` : 'data at an unknown position'}): Lifeboat seeds only an empty datadir; move it aside to replace it`,
    );
  const t0 = Date.now();
  await datadir.restore(snap.id, { bootstrap, ...(options.signal ? { signal: options.signal } : {}) });
  return `seeded from snapshot ${snap.id} (${snap.uuid}:${snap.seqno}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`;
}

function snapshotOf(step: StepRecord): SeedSnapshot {
  if (!step.snapshot) throw new PermanentError(`${step.action}: the plan names no snapshot`);
  return step.snapshot;
}

async function withLocal<T>(local: LocalNode, work: (sql: SqlClient) => Promise<T>): Promise<T> {
  const sql = await local.connect();
  try {
    return await work(sql);
  } finally {
    await sql.close().catch(() => {});
  }
}

/** Waits for the node to be Synced in a Primary component; fails past `ms` naming its state. */
async function settle(sql: SqlClient, ms: number, signal?: AbortSignal): Promise<Awaited<ReturnType<typeof wsrepStatus>>> {
  const until = Date.now() + ms;
  for (;;) {
    const status = await wsrepStatus(sql, { timeoutMs: 10_000 });
    if (status.clusterStatus === 'Primary' && status.localState === 'Synced') return status;
    if (Date.now() > until)
      throw new PermanentError(
        `not Synced in a Primary component within ${ms / 1000} s (${status.clusterStatus}, ${status.localState})`,
      );
    await sleep(200, undefined, signal ? { signal } : {});
  }
}
