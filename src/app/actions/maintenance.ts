import type { PruneResult } from '../../../jobs/prune.js';
import type { VerifySnapshotsResult } from '../../../jobs/verify.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { runJobHere } from './run-job.js';

export async function runPrune(ctx: CommandContext, flags: { dryRun?: boolean; forceWhileFailing?: boolean }): Promise<number> {
  const result = await runJobHere(ctx, 'prune', {
    dryRun: flags.dryRun ?? false,
    forceWhileFailing: flags.forceWhileFailing ?? false,
  });
  ctx.print(result, describePrune);
  // A blocked prune did not do what was asked: scripts and cron mail should notice.
  return result.ok && (result.dryRun || result.plan.blocked === null) ? EXIT.ok : EXIT.failed;
}

export async function runVerifyAll(ctx: CommandContext, flags: { readDataSubset?: number }): Promise<number> {
  const result = await runJobHere(ctx, 'verify', { readDataSubset: flags.readDataSubset });
  ctx.print(result, describeVerify);
  return result.ok ? EXIT.ok : EXIT.failed;
}

function describePrune(r: PruneResult): string {
  const lines = [
    `${r.dryRun ? 'prune plan (dry run, nothing deleted)' : 'prune'}: ${r.plan.keep.length} kept, ${r.plan.remove.length} ${
      r.dryRun ? 'to remove' : 'removed'
    }`,
  ];
  if (r.plan.blocked) lines.push(`BLOCKED, nothing removed: ${r.plan.blocked}`);
  for (const k of r.plan.keep) lines.push(`  ${'keep'.padEnd(8)}${k.id}  ${k.reasons.join(', ')}`);
  for (const x of r.plan.remove) lines.push(`  ${(r.dryRun ? 'remove' : 'removed').padEnd(8)}${x.id}  ${x.reason}`);
  const p = r.packs;
  lines.push(
    p.skipped
      ? `packs: not collected: ${p.skipped}`
      : `packs: ${p.scanned} found, ${p.referenced} referenced, ${p.young} unreferenced but within the grace period, ${
          p.unreferenced.length
        } unreferenced ${r.dryRun ? 'to delete' : `deleted (${(p.deletedBytes / 1e6).toFixed(1)} MB)`}`,
  );
  if (r.dryRun)
    for (const key of p.unreferenced) lines.push(`  ${'remove'.padEnd(8)}${key}  no remaining snapshot references it`);
  const u = r.unfinished;
  if (u.skipped) lines.push(`unfinished snapshots: not collected: ${u.skipped}`);
  else if (u.snapshots.length > 0) {
    lines.push(`unfinished snapshots (never committed): ${u.snapshots.length} ${r.dryRun ? 'to remove' : 'removed'}`);
    if (r.dryRun) for (const key of u.keys) lines.push(`  ${'remove'.padEnd(8)}${key}  its snapshot never committed`);
  }
  for (const e of r.errors) lines.push(`  ${'ERROR'.padEnd(8)}${e.error}`);
  return lines.join('\n');
}

function describeVerify(r: VerifySnapshotsResult): string {
  const lines = [`verify: read-data-subset ${r.readDataSubset}, seed ${r.seed}`];
  for (const s of r.snapshots) {
    const read =
      s.total === 0 && s.objects.length > 0
        ? 'manifest'
        : `${s.sampled ? 'sampled' : 'all'} ${s.objects.length}/${s.total} objects`;
    lines.push(`  ${s.status.toUpperCase().padEnd(12)} ${s.id}  ${read}`);
    for (const o of s.objects) if (!o.ok) lines.push(`    FAIL ${o.key}: ${o.error ?? ''}`);
    if (s.recordError) lines.push(`    result not recorded: ${s.recordError}`);
  }
  const inconclusive = r.snapshots.filter((s) => s.status === 'inconclusive').map((s) => s.id);
  if (r.damaged.length > 0) lines.push(`DAMAGED: ${r.damaged.join(', ')}`);
  if (inconclusive.length > 0) lines.push(`could not be read completely (not recorded): ${inconclusive.join(', ')}`);
  if (r.ok) lines.push('no damage found');
  return lines.join('\n');
}
