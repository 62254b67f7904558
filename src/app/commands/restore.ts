import type { Command } from 'commander';
import { restoreDatabase } from '../../../restore/database.js';
import { bootstrapNewCluster } from '../../galera/index.js';
import { UsageError } from '../../lib/errors.js';
import type { Action } from '../command-context.js';
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

export function registerRestoreCommands(program: Command, action: Action): void {
  const restore = program.command('restore').description('restore from a snapshot');
  restore
    .command('db')
    .description('restore the database into an empty directory, ready to start (physical) or to load (logical)')
    .requiredOption('--snapshot <id>', 'snapshot id or "latest"')
    .requiredOption('--to <dir>', 'target directory (must be empty unless --force)')
    .option('--force', 'replace the contents of a non-empty target')
    .option('--owner <user>', 'chown the restored datadir to this user (default: mysql when run as root)')
    .option('--new-cluster', 'then start a server on it as the first node of a new Galera cluster')
    .option('--defaults-file <path>', 'my.cnf for --new-cluster (its [mysqld] socket is used to connect)')
    .action(
      action(async (ctx, flags: RestoreDbFlags) => {
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
          ...(owner ? { owner } : {}),
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
      }),
    );
}
