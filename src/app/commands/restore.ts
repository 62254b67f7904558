import type { Command } from 'commander';
import type { Action } from '../command-context.js';
import { snapshotRef } from './snapshot-arg.js';

export function registerRestoreCommands(program: Command, action: Action): void {
  const restore = program.command('restore').description('restore from a snapshot');
  restore
    .command('db')
    .description('restore the database into an empty directory, ready to start (physical) or to load (logical)')
    .requiredOption('--snapshot <id>', 'snapshot id or "latest"', snapshotRef)
    .requiredOption('--to <dir>', 'target directory (must be empty unless --force)')
    .option('--force', 'replace the contents of a non-empty target')
    .option('--owner <user>', 'chown the restored datadir to this user (default: mysql when run as root)')
    .option('--new-cluster', 'then start a server on it as the first node of a new Galera cluster')
    .option('--defaults-file <path>', 'my.cnf for --new-cluster (its [mysqld] socket is used to connect)')
    .action(action(async () => (await import('../actions/restore.js')).runRestoreDb));

  restore
    .command('files')
    .description('restore a file area (or a path below it) into an empty directory, verifying every file')
    .requiredOption('--snapshot <id>', 'snapshot id or "latest"', snapshotRef)
    .requiredOption('--area <name>', 'file area, e.g. pub/media')
    .option('--path <path>', 'only this file or directory below the area, e.g. catalog/product')
    .requiredOption('--to <dir>', 'target directory: becomes the area directory (must be empty unless --force)')
    .option('--force', 'replace the contents of a non-empty target')
    .option('--dry-run', 'list what would be written; write nothing')
    .action(action(async () => (await import('../actions/restore.js')).runRestoreFiles));
}
