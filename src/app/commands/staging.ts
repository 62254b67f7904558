import type { Command } from 'commander';
import type { Action } from '../command-context.js';

export function registerStagingCommands(program: Command, action: Action): void {
  const staging = program
    .command('staging')
    .description('refresh Staging from Production snapshots (the staging section of the config)');
  staging
    .command('sync')
    .description(
      "copy a snapshot's shop database into Staging, Magento-aware (base URLs, side effects, PII, definers), and switch it in atomically",
    )
    .option(
      '--source <source>',
      "'snapshot' (default: no connection to Production) or 'live' (a consistent copy from this node, desynced while it is read)",
    )
    .option('--snapshot <id>', "snapshot id, or 'latest' (default): the newest one that verify found whole")
    .option(
      '--strip <list>',
      'comma-separated table groups, names or wildcards whose rows are dropped (default: staging.strip)',
      (v: string) => v.split(',').map((x) => x.trim()),
    )
    .option('--media', 'the media area too, into staging.media.target (only what differs moves; never app/etc)')
    .option('--no-anonymize', 'keep personal data as it is (default: staging.anonymize.enabled)')
    .option('--dry-run', 'print the plan: tables stripped, config paths rewritten, columns anonymised; move nothing')
    .action(action(async () => (await import('../actions/staging.js')).runStagingSync));
  staging
    .command('status')
    .description('the last Staging sync: when, from which snapshot, on which node, its report (and the last failure, if newer)')
    .action(action(async () => (await import('../actions/staging.js')).runStagingStatus));
}
