import { type Command, InvalidArgumentError } from 'commander';
import type { Action } from '../command-context.js';

export function registerMaintenanceCommands(program: Command, action: Action): void {
  program
    .command('prune')
    .description('apply the retention policy: remove expired snapshots, then packs no snapshot references')
    .option('--dry-run', 'print what would be removed and why; delete nothing')
    .option('--force-while-failing', 'prune even though the newest snapshot is older than alerts.rpoHours')
    .action(action(async () => (await import('../actions/maintenance.js')).runPrune));

  program
    .command('verify-all')
    .description(
      'read back the newest snapshot completely and a sample of the older ones, recording the result next to each (exit 1 on damage)',
    )
    .option(
      '--read-data-subset <share>',
      "share of the older snapshots' objects to read: a fraction (0.1) or a percentage (10%); default 0.1",
      share,
    )
    .action(action(async () => (await import('../actions/maintenance.js')).runVerifyAll));
}

/** `0.1`, `1`, `10%` → a share in 0..1. */
function share(value: string): number {
  const percent = value.endsWith('%');
  const n = Number(percent ? value.slice(0, -1) : value);
  const fraction = percent ? n / 100 : n;
  if (value.trim() === '' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1)
    throw new InvalidArgumentError('expected a fraction between 0 and 1 or a percentage, e.g. 0.1 or 10%');
  return fraction;
}
