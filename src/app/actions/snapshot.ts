import { filesPartOf } from '../../files/index.js';
import { UsageError } from '../../lib/errors.js';
import { table } from '../../lib/text-table.js';
import { snapshotTime } from '../../repo/snapshot-id.js';
import { verificationStates } from '../../repo/verification.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { openRepository } from '../runtime.js';
import { runJobHere } from './run-job.js';

export async function runSnapshot(
  ctx: CommandContext,
  flags: { dbOnly?: boolean; filesOnly?: boolean; area?: string[]; logical?: boolean },
): Promise<number> {
  if (flags.dbOnly && flags.filesOnly) throw new UsageError('--db-only and --files-only exclude each other');
  if (flags.dbOnly && flags.area) throw new UsageError('--area selects file areas: it cannot go with --db-only');
  if (flags.logical && flags.filesOnly) throw new UsageError('--logical applies to the database: it cannot go with --files-only');
  const result = await runJobHere(ctx, 'snapshot', {
    database: flags.filesOnly ? false : flags.logical ? 'logical' : 'physical',
    areas: flags.dbOnly ? false : (flags.area ?? 'all'),
  });
  const db = result.manifest.parts.database;
  const part = filesPartOf(result.manifest);
  const ok = result.status === 'complete';
  ctx.print(
    {
      ok,
      id: result.id,
      status: result.status,
      seconds: result.seconds,
      bytes: result.bytes,
      database: db ?? null,
      files: part ?? null,
      problems: result.problems,
    },
    () =>
      [
        `snapshot ${result.id} committed in ${result.seconds.toFixed(1)} s, ${(result.bytes / 1e6).toFixed(1)} MB uploaded`,
        db
          ? `  database: galera position ${db.galera ? `${db.galera.uuid}:${db.galera.seqno}` : 'n/a'}, gtid ${db.gtid ?? 'n/a'}`
          : '',
        ...(part?.areas.map(
          (a) =>
            `  ${a.name}: ${a.files} files, ${(a.bytes / 1e6).toFixed(1)} MB${a.problems ? `, ${a.problems} problem(s)` : ''}${a.changedDuringBackup ? `, ${a.changedDuringBackup} changed while read` : ''}${a.vanished ? `, ${a.vanished} vanished` : ''}${a.source?.startsWith('brick') ? ` (read from ${a.source})` : ''}`,
        ) ?? []),
        ok ? '' : `PARTIAL: ${result.problems.length} file(s) could not be read:`,
        ...result.problems.slice(0, 20).map((p) => `  ${p.area}/${p.path}: ${p.code} ${p.message}`),
      ]
        .filter(Boolean)
        .join('\n'),
  );
  // A partial snapshot is committed (it is useful) but the run must not look successful.
  return ok ? EXIT.ok : EXIT.failed;
}

export async function runSnapshots(ctx: CommandContext): Promise<number> {
  const repo = await openRepository(ctx.config(), ctx.logger);
  const rows = [];
  const ids = await repo.snapshotIds();
  const states = await verificationStates(repo, ids);
  for (const id of ids) {
    const m = await repo.manifest(id);
    const stored = m.objects.reduce((sum, o) => sum + o.stored.size, 0);
    // unknown when an object's content never passed through Lifeboat (see ObjectRecord.raw)
    const raw = m.objects.every((o) => o.raw) ? m.objects.reduce((sum, o) => sum + (o.raw?.size ?? 0), 0) : null;
    rows.push({
      id,
      node: m.node,
      parts: Object.keys(m.parts),
      method: m.parts.database?.method ?? null,
      galera: m.parts.database?.galera ?? null,
      storedBytes: stored,
      rawBytes: raw,
      ageSeconds: Math.round((Date.now() - snapshotTime(id).getTime()) / 1000),
      verified: states.get(id)?.verified ?? false,
      verifiedAt: states.get(id)?.verifiedAt ?? null,
    });
  }
  ctx.print(rows, (r) =>
    r.length === 0
      ? 'no snapshots'
      : table([
          ['ID', 'NODE', 'PARTS', 'GALERA SEQNO', 'STORED', 'AGE', 'VERIFIED'],
          ...r.map((x) => [
            x.id,
            x.node,
            x.parts.join('+'),
            String(x.galera?.seqno ?? '-'),
            `${(x.storedBytes / 1e6).toFixed(1)} MB`,
            age(x.ageSeconds),
            x.verified ? `yes (${age(Math.round((Date.now() - Date.parse(x.verifiedAt ?? '')) / 1000))} ago)` : 'no',
          ]),
        ]),
  );
  return EXIT.ok;
}

export async function runShow(ctx: CommandContext, id: string): Promise<number> {
  const repo = await openRepository(ctx.config(), ctx.logger);
  const m = await repo.resolve(id);
  ctx.print(m, (v) => JSON.stringify(v, null, 2));
  return EXIT.ok;
}

export async function runVerify(ctx: CommandContext, id: string): Promise<number> {
  // The verify job itself: the same reading, classification (a transient read error is
  // inconclusive, not damage) and record as `verify-all` and the daemon.
  const result = await runJobHere(ctx, 'verify', { snapshot: id });
  const check = result.snapshots[0];
  const objects = check?.objects ?? [];
  const verdict =
    check?.status === 'ok'
      ? 'verified'
      : check?.status === 'damaged'
        ? 'DAMAGED'
        : 'INCONCLUSIVE (not everything could be read; nothing recorded)';
  ctx.print({ id: check?.id ?? id, ok: result.ok, status: check?.status, objects }, (v) =>
    [
      ...v.objects.map((r) => `${r.ok ? 'ok  ' : 'FAIL'} ${r.key}${r.error ? `: ${r.error}` : ''}`),
      `snapshot ${v.id}: ${verdict}`,
    ].join('\n'),
  );
  return result.ok ? EXIT.ok : EXIT.failed;
}

function age(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86_400).toFixed(1)}d`;
}
