/**
 * Error taxonomy. Errors are classified where they arise; only `src/app` maps them to exit codes
 * or HTTP statuses. Messages are lowercase, have no trailing period and name the object.
 */

export type ErrorCode = 'not-found' | 'permanent' | 'retryable' | 'config' | 'usage' | 'integrity' | 'conflict' | 'aborted';

export class LifeboatError extends Error {
  readonly code: ErrorCode;
  /** true when repeating the same operation may succeed (network blips, throttling, 5xx) */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options?.retryable ?? code === 'retryable';
  }
}

/** The named object does not exist. Never retried. */
export class NotFoundError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('not-found', message, options);
  }
}

/** Repeating the operation will fail the same way (bad credentials, bad request, missing binary). */
export class PermanentError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('permanent', message, options);
  }
}

/** The object store does not implement a requested feature (HTTP 501, e.g. conditional writes). */
export class UnsupportedError extends PermanentError {}

/** A range read starts at or past the end of the object (HTTP 416). */
export class OutOfRangeError extends PermanentError {}

/** A transient failure; a retry decorator may repeat the operation. */
export class RetryableError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('retryable', message, options);
  }
}

/** Stored bytes do not match what was recorded (checksum, size, format). */
export class IntegrityError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('integrity', message, options);
  }
}

/** The operation conflicts with current state (a job already running, a non-empty target). */
export class ConflictError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('conflict', message, options);
  }
}

/** The caller asked for something invalid (flags, arguments). */
export class UsageError extends LifeboatError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
  }
}

/** The operation was cancelled through its AbortSignal. */
export class AbortedError extends LifeboatError {
  constructor(message = 'operation aborted', options?: { cause?: unknown }) {
    super('aborted', message, options);
  }
}

export interface ConfigIssue {
  /** dotted field path, e.g. `storage.url` or `cluster.nodes.1.host` */
  readonly path: string;
  readonly message: string;
}

/** Every problem found in a configuration, reported at once. */
export class ConfigError extends LifeboatError {
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path || '(root)'}: ${i.message}`);
    super('config', `config '${source}': ${issues.length} problem(s)\n${lines.join('\n')}`);
    this.issues = issues;
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof LifeboatError && err.retryable;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Throws AbortedError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new AbortedError(`${what}: aborted`, { cause: signal.reason });
}
