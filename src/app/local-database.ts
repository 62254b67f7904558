import type { SqlClient } from '../galera/index.js';
import { errorMessage, RetryableError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';

export type DatabaseState = 'connecting' | 'up' | 'down';

/** What the daemon knows about its node's database; plain data for the status document. */
export interface DatabaseStatus {
  readonly state: DatabaseState;
  /** ISO time of the last change of state */
  readonly since: string;
  /** the last failure to connect or to prepare the server; null while up */
  readonly lastError: string | null;
  /** ISO time of the next attempt while not up */
  readonly nextAttemptAt: string | null;
}

export interface LocalDatabaseOptions {
  /** node name, for messages */
  readonly node: string;
  /** opens a fresh connection to the local server */
  readonly connect: () => Promise<SqlClient>;
  /** prepares the server (schema, crash recovery) on the first connection after start or an outage */
  readonly prepare: (sql: SqlClient) => Promise<void>;
  /** called on every change of state */
  readonly onChange?: (current: DatabaseStatus, previous: DatabaseStatus) => void;
  readonly logger?: Logger;
  /** first wait after a failure, doubled after each next one (default 1000) */
  readonly minBackoffMs?: number;
  /** longest wait between attempts while down (default 30 000) */
  readonly maxBackoffMs?: number;
  /** how often the server is checked while up (default 15 000) */
  readonly checkEveryMs?: number;
  readonly now?: () => Date;
}

/**
 * The local node's database as a long-lived daemon sees it: it may be down at start and may go
 * away and come back at any time. Checks it in the background (with backoff while down), runs
 * `prepare` once per outage before it counts as up, and gives each unit of work a fresh
 * connection. While it is down, `use` fails at once with a retryable error naming the node.
 */
export class LocalDatabase {
  private current: DatabaseStatus;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly checkEveryMs: number;

  constructor(private readonly options: LocalDatabaseOptions) {
    this.logger = options.logger ?? nullLogger;
    this.now = options.now ?? (() => new Date());
    this.minBackoffMs = options.minBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.checkEveryMs = options.checkEveryMs ?? 15_000;
    this.current = { state: 'connecting', since: this.now().toISOString(), lastError: null, nextAttemptAt: null };
  }

  /** Starts the background checks (the first one at once). */
  start(): void {
    this.stopped = false;
    void this.check();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  status(): DatabaseStatus {
    return this.current;
  }

  /** True when the database is usable now; tries at once (not waiting for the backoff) if it was not. */
  async available(): Promise<boolean> {
    if (this.current.state !== 'up') await this.check();
    return this.current.state === 'up';
  }

  /** A fresh connection the caller closes; fails at once, naming the node, while the database is down. */
  async connect(): Promise<SqlClient> {
    if (!(await this.available())) throw this.unreachable();
    try {
      return await this.options.connect();
    } catch (err) {
      this.failed(err);
      this.schedule();
      throw this.unreachable();
    }
  }

  /** Runs `fn` on a fresh connection (see `connect`). */
  async use<T>(fn: (sql: SqlClient) => Promise<T>): Promise<T> {
    const sql = await this.connect();
    try {
      return await fn(sql);
    } finally {
      await sql.close();
    }
  }

  private unreachable(): RetryableError {
    const { since, lastError } = this.current;
    const prefix = `node '${this.options.node}': `;
    const why = lastError?.startsWith(prefix) ? lastError.slice(prefix.length) : lastError;
    return new RetryableError(`${prefix}database unreachable since ${since}${why ? ` (${why})` : ''}`);
  }

  /** One attempt at a time; callers arriving meanwhile share it. */
  private check(): Promise<void> {
    this.checking ??= this.attempt().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.timer);
    try {
      const sql = await this.options.connect();
      try {
        if (this.current.state === 'up') await sql.query('SELECT 1');
        else await this.options.prepare(sql);
      } finally {
        await sql.close();
      }
      this.failures = 0;
      if (this.current.state !== 'up')
        this.set({ state: 'up', since: this.now().toISOString(), lastError: null, nextAttemptAt: null });
    } catch (err) {
      this.failed(err);
    }
    this.schedule();
  }

  private failed(err: unknown): void {
    this.failures++;
    const lastError = errorMessage(err);
    const since = this.current.state === 'down' ? this.current.since : this.now().toISOString();
    const nextAttemptAt = new Date(this.now().getTime() + this.backoff()).toISOString();
    this.set({ state: 'down', since, lastError, nextAttemptAt });
  }

  private backoff(): number {
    return Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** Math.max(0, Math.min(this.failures - 1, 30)));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const ms = this.current.state === 'up' ? this.checkEveryMs : this.backoff();
    this.timer = setTimeout(() => void this.check(), ms);
    this.timer.unref();
  }

  private set(next: DatabaseStatus): void {
    const previous = this.current;
    this.current = next;
    if (previous.state === next.state) return;
    if (next.state === 'down') {
      this.logger.warn('database unreachable', { since: next.since, error: next.lastError });
    } else {
      this.logger.info(previous.state === 'down' ? 'database reachable again' : 'database reachable', {
        ...(previous.state === 'down' ? { downSince: previous.since } : {}),
      });
    }
    try {
      this.options.onChange?.(next, previous);
    } catch (err) {
      this.logger.error('database state hook failed', { error: errorMessage(err) });
    }
  }
}
