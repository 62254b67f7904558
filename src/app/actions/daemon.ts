import { once } from 'node:events';
import type { CommandContext } from '../command-context.js';
import { type DaemonHandle, startDaemon } from '../daemon.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import { createLogger } from '../logging.js';

/**
 * `lifeboat daemon`. The one command that owns its process: a failed start-up ends it at once,
 * and after SIGTERM it ends within `daemon.shutdownTimeoutSeconds` even when a job or a
 * connection does not let go (a hard exit is the last resort, and says so).
 */
export async function runDaemon(ctx: CommandContext): Promise<number> {
  const config = ctx.config();
  const logger = createLogger({
    level: ctx.options.logLevel ?? config.log.level,
    format: config.log.format,
    stream: ctx.io.stderr,
  });
  const timeoutMs = config.daemon.shutdownTimeoutSeconds * 1000;
  // armed by the signal whatever the daemon is doing then, start-up included
  const onAbort = (): void =>
    hardExit(timeoutMs, EXIT.failed, () =>
      logger.error('process still running at the shutdown deadline: exiting', { seconds: config.daemon.shutdownTimeoutSeconds }),
    );
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });
  let daemon: DaemonHandle;
  try {
    daemon = await startDaemon(config, logger);
  } catch (err) {
    // startDaemon leaves nothing running; should anything still hold the process, it ends anyway
    hardExit(1000, exitCodeFor(err));
    throw err;
  }
  logger.info('daemon started', { node: config.cluster.node, next: daemon.scheduler.next() });
  if (!ctx.signal.aborted) await once(ctx.signal, 'abort');
  logger.info('daemon stopping', { timeoutSeconds: config.daemon.shutdownTimeoutSeconds });
  // a little of the timeout is kept for the exit itself
  const clean = await daemon.stop(Math.max(0, timeoutMs - 500));
  logger.info('daemon stopped', { clean });
  return clean ? EXIT.ok : EXIT.failed;
}

/** Ends the process after `ms` unless it has ended by itself (the timer keeps nothing alive). */
function hardExit(ms: number, code: number, before?: () => void): void {
  setTimeout(() => {
    before?.();
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : code);
  }, ms).unref();
}
