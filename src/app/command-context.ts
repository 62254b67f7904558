import type { Config } from '../../config/load.js';
import type { Logger } from '../lib/logger.js';
import type { Progress } from '../lib/progress.js';

export const DEFAULT_CONFIG = '/etc/lifeboat/lifeboat.yaml';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** fires on SIGINT/SIGTERM: running work stops cleanly (uploads aborted, desync undone) */
  readonly signal?: AbortSignal;
}

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

/** What a command needs from the edge: options, config on demand, output, logger. */
export interface CommandContext {
  readonly options: GlobalOptions;
  readonly io: CliIo;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  config(): Config;
  /** progress on stderr: a live line on a TTY, JSON lines with --json */
  progress(): Progress;
  /** prints `value` as JSON with --json, else as `human(value)` */
  print<T>(value: T, human: (value: T) => string): void;
}

/** What a command does once commander accepted its flags and arguments; returns the exit code. */
type Run<A extends unknown[]> = (ctx: CommandContext, ...args: A) => Promise<number> | number;

/** A commander action that runs what `load` returns: a command's code loads only when the command runs. */
export type Action = <A extends unknown[]>(load: () => Promise<Run<A>>) => (...args: A) => Promise<void>;
