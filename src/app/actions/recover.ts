import { preferredOrder } from '../../../jobs/settings.js';
import { executePlan, RecoveryLog, type RecoveryRecord, whyNotRunnable } from '../../../restore/recovery.js';
import { type NodeFacts, type Plan, type PlanInput, planRecovery } from '../../../restore/recovery-plan.js';
import type { ClusterView, NodeRow } from '../../health/monitor.js';
import { UsageError } from '../../lib/errors.js';
import type { Repository } from '../../repo/repository.js';
import { newestVerified } from '../../repo/verification.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { localRecoveryNode, openRepository } from '../runtime.js';
import { openLocalVolume, volumePlanner } from '../volume.js';
import { askDaemon } from './cluster.js';

/** Galera states of a node inside a Primary component (anything else: not Primary). */
const IN_PRIMARY = new Set(['Synced', 'Donor/Desynced', 'Joined']);

/** What the planner needs of each node, from the local daemon's view (its verdicts, probes and the heartbeats). */
export function nodeFacts(view: ClusterView, order: readonly string[]): NodeFacts[] {
  const byName = new Map(view.nodes.map((r) => [r.name, r]));
  return order.flatMap((name) => {
    const row = byName.get(name);
    return row ? [factsOf(row, view.observer)] : [];
  });
}

function factsOf(row: NodeRow, observer: string): NodeFacts {
  const galera = row.heartbeat?.galera ?? null;
  const position = galera?.uuid && galera.seqno !== null ? { uuid: galera.uuid, seqno: galera.seqno } : null;
  const empty = galera?.state === '' && galera.datadir === 'empty' ? { emptyDatadir: true } : {};
  if (row.name === observer) {
    const running = galera !== null && galera.state !== '';
    return {
      name: row.name,
      verdict: 'healthy',
      running,
      ...(running ? { component: IN_PRIMARY.has(galera?.state ?? '') ? 'Primary' : 'non-Primary' } : {}),
      position,
      ...empty,
    };
  }
  const probe = row.probes?.find((p) => p.probe === 'galera');
  const running = probe?.ok === true;
  return {
    name: row.name,
    verdict: row.observers[observer]?.state ?? 'suspect',
    running,
    ...(running ? { component: probe?.detail.startsWith('Primary') ? 'Primary' : 'non-Primary' } : {}),
    position,
    ...(running ? {} : empty),
  };
}

/** The newest snapshot `lifeboat verify` read back whole that has a Galera position. */
export async function seedSnapshot(repo: Repository): Promise<PlanInput['snapshot']> {
  const m = await newestVerified(repo, (x) => !!x.parts.database?.galera);
  const part = m?.parts.database;
  if (!m || !part?.galera) return null;
  return { id: m.id, takenAt: part.finishedAt, uuid: part.galera.uuid, seqno: part.galera.seqno };
}

/**
 * `lifeboat recover --plan`: the decision for the cluster as the local daemon sees it; nothing is
 * run. `--execute --yes`: runs this node's steps of it (the plan is printed first; without
 * `--yes` nothing runs), leaving an audit record in the object store.
 */
export async function runRecover(
  ctx: CommandContext,
  flags: { plan?: boolean; execute?: boolean; yes?: boolean },
): Promise<number> {
  if (flags.plan && flags.execute) throw new UsageError('recover: --plan or --execute, not both');
  if (!flags.plan && !flags.execute)
    throw new UsageError('recover: say --plan (the decision; nothing is run) or --execute --yes');
  const config = ctx.config();
  const view = await askDaemon(config);
  const repo = await openRepository(config, ctx.logger);
  let plan = planRecovery({
    nodes: nodeFacts(view, preferredOrder(config)),
    minority: view.minority,
    snapshot: await seedSnapshot(repo),
  });
  // the database first; the GlusterFS volume once the database needs nothing
  const volume = await openLocalVolume(config, repo, ctx.logger);
  let volumeLine = '';
  if (plan.playbook === 'none' && volume && !view.minority) {
    const v = await volumePlanner(config, volume, repo)(config.cluster.node);
    if (v.playbook === 'none') volumeLine = `\nvolume ${volume.name}: ${v.decision}`;
    else plan = v;
  }
  if (flags.plan) {
    ctx.print(plan, (p) => `${describe(p)}${volumeLine}\n(plan only: nothing was run)`);
    return EXIT.ok;
  }
  const local = localRecoveryNode(config, repo, ctx.logger, volume);
  const why = whyNotRunnable(plan, local);
  if (why) {
    ctx.print({ plan, ran: false, reason: why }, () => `${describe(plan)}\nnot run: ${why}`);
    return plan.playbook === 'none' ? EXIT.ok : EXIT.usage;
  }
  if (!flags.yes) {
    ctx.print(
      { plan, ran: false, reason: 'no --yes' },
      () => `${describe(plan)}\nnot run: add --yes to run ${local.name}'s steps`,
    );
    return EXIT.usage;
  }
  if (!ctx.options.json) ctx.io.stderr.write(`${describe(plan)}\nrunning ${local.name}'s steps…\n`);
  const record = await executePlan(plan, {
    local,
    log: new RecoveryLog(repo),
    trigger: 'cli',
    logger: ctx.logger,
    signal: ctx.signal,
    onStep: (_r, step) => {
      if (!ctx.options.json && step.state !== 'pending')
        ctx.io.stderr.write(`  ${step.node}: ${step.action} ${step.state} (${step.detail})\n`);
    },
  });
  ctx.print(record, recordText);
  return record.outcome === 'succeeded' ? EXIT.ok : EXIT.failed;
}

function recordText(r: RecoveryRecord): string {
  return [
    `recovery ${r.id}: ${r.outcome}${r.error ? ` — ${r.error}` : ''}`,
    ...r.steps.map(
      (s, i) => `  ${i + 1}. ${s.node}: ${s.action}${s.area ? ` ${s.area}` : ''} ${s.state}${s.detail ? ` (${s.detail})` : ''}`,
    ),
    `record: recoveries/${r.id}.json`,
  ].join('\n');
}

function describe(plan: Plan): string {
  return [
    `decision: ${plan.playbook} — ${plan.decision}`,
    ...(plan.steps.length
      ? ['steps:', ...plan.steps.map((s, i) => `  ${i + 1}. ${s.node}: ${s.action}${s.area ? ` ${s.area}` : ''} (${s.why})`)]
      : []),
    ...(plan.dataLoss ? [`DATA LOSS: ${plan.dataLoss}`] : []),
    'facts:',
    ...plan.facts.map((f) => `  ${f}`),
  ].join('\n');
}
