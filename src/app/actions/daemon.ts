import { once } from 'node:events';
import type { CommandContext } from '../command-context.js';
import { startDaemon } from '../daemon.js';
import { EXIT } from '../exit-codes.js';
import { createLogger } from '../logging.js';

export async function runDaemon(ctx: CommandContext): Promise<number> {
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
}
