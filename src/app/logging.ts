import winston from 'winston';
import type { LogFields, Logger } from '../lib/logger.js';

export interface LoggingOptions {
  readonly level: 'error' | 'warn' | 'info' | 'debug';
  /** json: one object per line (daemon); text: human lines (CLI) */
  readonly format: 'json' | 'text';
  /** where records go (default stderr, so stdout stays for command output) */
  readonly stream?: NodeJS.WritableStream;
}

/** The only place winston is used: builds a Logger for the daemon or the CLI. */
export function createLogger(options: LoggingOptions): Logger {
  const format =
    options.format === 'json'
      ? winston.format.combine(winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss' }),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${level} ${String(message)}${fields}`;
          }),
        );
  const w = winston.createLogger({
    level: options.level,
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
  return adapt(w);
}

function adapt(w: winston.Logger): Logger {
  return {
    debug: (message: string, fields?: LogFields) => w.debug(message, fields),
    info: (message: string, fields?: LogFields) => w.info(message, fields),
    warn: (message: string, fields?: LogFields) => w.warn(message, fields),
    error: (message: string, fields?: LogFields) => w.error(message, fields),
    child: (fields: LogFields) => adapt(w.child(fields)),
  };
}
