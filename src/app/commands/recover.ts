import type { Command } from 'commander';
import type { Action } from '../command-context.js';

export function registerRecoverCommands(program: Command, action: Action): void {
  program
    .command('recover')
    .description(
      'the recovery decision for the cluster as the local daemon sees it: the playbook, its steps and the facts they rest on',
    )
    .option('--plan', 'print the decision and its steps; nothing is run')
    .option('--execute', "run this node's steps of the plan (printed first; needs --yes)")
    .option('--yes', 'with --execute: run without asking again')
    .action(action(async () => (await import('../actions/recover.js')).runRecover));
}
