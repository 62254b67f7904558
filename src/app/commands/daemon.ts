import { once } from 'node:events';
import type { Command } from 'commander';
import type { Action } from '../command-context.js';
import { startDaemon } from '../daemon.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../logging.js';

export function registerDaemonCommand(program: Command, action: Action): void {
  program
    .command('daemon')
    .description('run the scheduler on this node (one daemon per cluster node, same config); stops cleanly on SIGTERM')
    .action(
      action(async (ctx) => {
        const config = ctx.config();
        const logger = createLogger({
          level: ctx.options.logLevel ?? config.log.level,
          format: config.log.format,
          stream: ctx.io.stderr,
        });
        const daemon = await startDaemon(config, logger);
        logger.info('daemon started', { node: config.cluster.node, next: daemon.scheduler.next() });
        if (!ctx.signal.aborted) await once(ctx.signal, 'abort');
        logger.info('daemon stopping');
        await daemon.stop();
        logger.info('daemon stopped');
        return EXIT.ok;
      }),
    );
}
