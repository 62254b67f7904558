import { type StagingSyncRecord, stagingSyncHistory } from '../../../jobs/staging-history.js';
import type { StagingSyncPlan, StagingSyncReport } from '../../../jobs/staging-sync.js';
import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { openRepository } from '../runtime.js';
import { runJobHere } from './run-job.js';

export async function runStagingSync(
  ctx: CommandContext,
  flags: { source?: string; snapshot?: string; strip?: string[]; anonymize?: boolean; dryRun?: boolean; media?: boolean },
): Promise<number> {
  const result = await runJobHere(ctx, 'staging-sync', {
    ...(flags.source ? { source: flags.source } : {}),
    ...(flags.snapshot ? { snapshot: flags.snapshot } : {}),
    ...(flags.media ? { include: ['db', 'media'] } : {}),
    ...(flags.strip ? { strip: flags.strip } : {}),
    ...(flags.anonymize === false ? { anonymize: false } : {}),
    dryRun: flags.dryRun ?? false,
  });
  ctx.print(result, describe);
  return EXIT.ok;
}

function describe(r: StagingSyncReport | StagingSyncPlan): string {
  if ('dryRun' in r) {
    return [
      `staging sync plan (dry run, nothing moved): ${r.from}, schema '${r.database}' → Staging '${r.target}'`,
      `  strip (rows dropped, schema kept): ${r.strip.join(' ')}`,
      `  hosts: ${Object.entries(r.hosts)
        .map(([a, b]) => `${a} → ${b}`)
        .join(', ')}`,
      `  overrides: ${r.overrides.join('; ')}`,
      `  anonymised: ${r.anonymize.length ? r.anonymize.join(' ') : 'nothing (anonymisation off)'}`,
      `  preserved from the current Staging: ${r.preserve.join(' ') || 'nothing'}`,
      `  media: ${r.media ?? 'not included'}`,
    ].join('\n');
  }
  const t = r.transforms;
  return [
    `Staging '${r.target}' refreshed from ${r.source} (schema '${r.database}'): ${Object.keys(r.rows).length} tables, ${Object.values(
      r.rows,
    ).reduce((a, b) => a + b, 0)} rows`,
    `  stripped: ${t.strip.tables.map((s) => `${s.table} (${s.rows})`).join(', ') || 'nothing'}`,
    `  base URLs rewritten: ${t.baseUrls.length} (every scope); overrides: ${t.overrides.length}; definers: ${t.definers.length}`,
    `  anonymised: ${t.anonymize ? t.anonymize.columns.length : 0} columns; preserved: ${t.preserve?.tables.map((x) => x.table).join(', ') || 'nothing'}`,
    `  switch: ${r.switch.tables} tables in one RENAME, views and triggers back after ${r.switch.unavailableMs} ms`,
    ...(r.media
      ? [
          `  media: ${r.media.copied} copied (${(r.media.bytes / 1e6).toFixed(1)} MB), ${r.media.deleted} deleted, ${r.media.unchanged} unchanged`,
        ]
      : []),
    `  phases (ms): ${Object.entries(r.phasesMs)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ].join('\n');
}

export async function runStagingStatus(ctx: CommandContext): Promise<number> {
  const config = ctx.config();
  if (!config.staging) throw new UsageError('staging: not configured (add a staging section to the config)');
  const history = await stagingSyncHistory(await openRepository(config, ctx.logger), config.staging.target.database);
  ctx.print(history, (h) => {
    if (!h.last) return `Staging '${config.staging?.target.database}': never synced by Lifeboat`;
    const line = (r: StagingSyncRecord): string =>
      `${r.finishedAt} on ${r.node}, ${r.snapshot ? `snapshot ${r.snapshot}` : 'live or no snapshot chosen'}, ${Math.round(
        (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000,
      )} s`;
    return [
      ...(h.last.ok ? [] : [`last sync FAILED: ${line(h.last)}: ${h.last.error}`]),
      h.lastSucceeded
        ? `last successful sync: ${line(h.lastSucceeded)}\n${describe(h.lastSucceeded.report as StagingSyncReport)}`
        : 'no successful sync yet',
    ].join('\n');
  });
  return EXIT.ok;
}
