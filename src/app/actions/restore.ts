import { restoreDatabase } from '../../../restore/database.js';
import { restoreFiles } from '../../../restore/files.js';
import { bootstrapNewCluster } from '../../galera/index.js';
import { UsageError } from '../../lib/errors.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { openRepository } from '../runtime.js';

interface RestoreDbFlags {
  snapshot: string;
  to: string;
  force?: boolean;
  owner?: string;
  newCluster?: boolean;
  defaultsFile?: string;
}

interface RestoreFilesFlags {
  snapshot: string;
  area: string;
  path?: string;
  to: string;
  force?: boolean;
  dryRun?: boolean;
}

export async function runRestoreDb(ctx: CommandContext, flags: RestoreDbFlags): Promise<number> {
  if (flags.newCluster && !flags.defaultsFile) throw new UsageError('--new-cluster needs --defaults-file <my.cnf>');
  const config = ctx.config();
  const repo = await openRepository(config, ctx.logger);
  const owner = flags.owner ?? (process.getuid?.() === 0 ? 'mysql' : undefined);
  const result = await restoreDatabase({
    repo,
    snapshot: flags.snapshot,
    target: flags.to,
    force: flags.force ?? false,
    tools: config.database.tools,
    owner,
    logger: ctx.logger,
    progress: ctx.progress(),
    signal: ctx.signal,
  });
  const db = result.database;
  const lines = [
    `restored snapshot ${result.manifest.id} (${db.method}) into ${result.target} in ${result.seconds.toFixed(1)} s`,
    db.galera ? `galera position ${db.galera.uuid}:${db.galera.seqno} (grastate.dat written, safe_to_bootstrap: 1)` : '',
  ];
  let bootstrap: { pid: number; socket: string } | undefined;
  if (flags.newCluster && flags.defaultsFile) {
    if (db.method !== 'physical') throw new UsageError('--new-cluster needs a physical snapshot');
    bootstrap = await bootstrapNewCluster({
      defaultsFile: flags.defaultsFile,
      datadir: result.target,
      user: config.database.user,
      ...(config.database.password ? { password: config.database.password.reveal() } : {}),
      binary: config.database.tools.server,
      logger: ctx.logger,
    });
    lines.push(
      `new cluster bootstrapped: mariadbd pid ${bootstrap.pid}, socket ${bootstrap.socket}`,
      'join the other nodes: start each with an empty datadir and wsrep_cluster_address=gcomm://<this node>; they receive a full SST',
    );
  } else if (db.method === 'physical') {
    lines.push(
      `start it: mariadbd --defaults-file=<my.cnf> --datadir=${result.target} --wsrep-new-cluster, then start the other nodes with empty datadirs`,
    );
  } else {
    lines.push(`load it: mariadb < ${result.target}/dump.sql`);
  }
  ctx.print(
    {
      ok: true,
      id: result.manifest.id,
      target: result.target,
      seconds: result.seconds,
      database: db,
      bootstrap: bootstrap ?? null,
    },
    () => lines.filter(Boolean).join('\n'),
  );
  return EXIT.ok;
}

export async function runRestoreFiles(ctx: CommandContext, flags: RestoreFilesFlags): Promise<number> {
  const config = ctx.config();
  const repo = await openRepository(config, ctx.logger);
  const manifest = await repo.resolve(flags.snapshot);
  const result = await restoreFiles({
    repo,
    manifest,
    area: flags.area,
    path: flags.path,
    target: flags.to,
    force: flags.force ?? false,
    dryRun: flags.dryRun ?? false,
    logger: ctx.logger,
    progress: ctx.progress(),
    signal: ctx.signal,
  });
  ctx.print({ ok: true, id: manifest.id, area: flags.area, target: flags.to, ...result }, (r) =>
    flags.dryRun
      ? [...(r.planned ?? []), `would restore ${r.files} file(s), ${(r.bytes / 1e6).toFixed(1)} MB`].join('\n')
      : `restored ${r.files} file(s), ${(r.bytes / 1e6).toFixed(1)} MB of ${flags.area} from ${manifest.id} into ${flags.to}`,
  );
  return EXIT.ok;
}
