import type { Command } from 'commander';
import type { Action } from '../command-context.js';

export function registerDaemonCommand(program: Command, action: Action): void {
  program
    .command('daemon')
    .description('run the scheduler on this node (one daemon per cluster node, same config); stops cleanly on SIGTERM')
    .action(action(async () => (await import('../actions/daemon.js')).runDaemon));
}
