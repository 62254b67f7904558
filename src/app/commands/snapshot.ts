import type { Command } from 'commander';
import type { Action } from '../command-context.js';
import { snapshotRef } from './snapshot-arg.js';

export function registerSnapshotCommands(program: Command, action: Action): void {
  program
    .command('snapshot')
    .description('take a snapshot now: the database (consistent, from this desynced node) and the file areas, under one id')
    .option('--db-only', 'database only')
    .option('--files-only', 'file areas only')
    .option('--area <name...>', 'only these file areas (e.g. pub/media)')
    .option('--logical', 'logical database export (mariadb-dump) instead of a physical backup')
    .action(action(async () => (await import('../actions/snapshot.js')).runSnapshot));

  program
    .command('snapshots')
    .description('list committed snapshots')
    .action(action(async () => (await import('../actions/snapshot.js')).runSnapshots));

  program
    .command('show')
    .description("print a snapshot's manifest")
    .argument('<id>', 'snapshot id or "latest"', snapshotRef)
    .action(action(async () => (await import('../actions/snapshot.js')).runShow));

  program
    .command('verify')
    .description('download every object of a snapshot and check both checksums (exit 1 on any mismatch)')
    .argument('<id>', 'snapshot id or "latest"', snapshotRef)
    .action(action(async () => (await import('../actions/snapshot.js')).runVerify));
}
