import type { Command } from 'commander';
import type { Action } from '../command-context.js';

export function registerClusterCommands(program: Command, action: Action): void {
  const cluster = program.command('cluster').description("the cluster's nodes as the loss detection sees them");
  cluster
    .command('status')
    .description(
      "each node's state as every observer sees it (since when, on what evidence): from the local daemon's API, or from the witness heartbeats in the object store when the daemon does not answer",
    )
    .action(action(async () => (await import('../actions/cluster.js')).runClusterStatus));
}
