/** Structured logging seam. Domain code receives a Logger; only `src/app` creates real ones. */

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every record. */
  child(fields: LogFields): Logger;
}

const noop = (): void => {};

export const nullLogger: Logger = {
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => nullLogger,
};

/** Collects records in memory; for tests and for summaries. */
export class MemoryLogger implements Logger {
  readonly records: { level: string; message: string; fields: LogFields }[];
  private readonly base: LogFields;

  constructor(records: MemoryLogger['records'] = [], base: LogFields = {}) {
    this.records = records;
    this.base = base;
  }

  debug(message: string, fields?: LogFields): void {
    this.add('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.add('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.add('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.add('error', message, fields);
  }
  child(fields: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this.base, ...fields });
  }
  private add(level: string, message: string, fields?: LogFields): void {
    this.records.push({ level, message, fields: { ...this.base, ...fields } });
  }
}
