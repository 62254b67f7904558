import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import { AbortedError, PermanentError, RetryableError } from '../lib/errors.js';

export type Row = Record<string, unknown>;

export interface QueryOptions {
  /** overrides the connection's statement deadline */
  readonly timeoutMs?: number;
  /** aborting ends the statement on the server too */
  readonly signal?: AbortSignal;
}

/**
 * The subset of a MariaDB connection Lifeboat uses; the only seam over mysql2. Every statement
 * has a deadline; past it, or on abort, the statement is ended on the server (`KILL QUERY` from a
 * second connection) and the call rejects.
 */
export interface SqlClient {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<T[]>;
  /** Runs a statement and returns the affected row count. */
  execute(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<number>;
  close(): Promise<void>;
}

export interface Endpoint {
  /** node name, for messages */
  readonly name: string;
  readonly host?: string;
  readonly port?: number;
  /** unix socket; used instead of host/port when set */
  readonly socket?: string;
  readonly user: string;
  readonly password?: string;
  readonly database?: string;
  readonly connectTimeoutMs?: number;
  /** deadline of each statement (default 60 s) */
  readonly statementTimeoutMs?: number;
}

const DEFAULT_STATEMENT_TIMEOUT_MS = 60_000;
/** how long a killed statement may take to end before its connection is killed and dropped */
const KILL_GRACE_MS = 2_000;

async function open(endpoint: Endpoint): Promise<mysql.Connection> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({
      ...(endpoint.socket
        ? { socketPath: endpoint.socket }
        : { host: endpoint.host ?? '127.0.0.1', port: endpoint.port ?? 3306 }),
      user: endpoint.user,
      ...(endpoint.password === undefined ? {} : { password: endpoint.password }),
      ...(endpoint.database ? { database: endpoint.database } : {}),
      connectTimeout: endpoint.connectTimeoutMs ?? 10_000,
      multipleStatements: false,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
  } catch (err) {
    throw classify(err, `node '${endpoint.name}'`);
  }
  conn.on('error', () => {
    // a dropped connection surfaces on the next query; keep it from crashing the process
  });
  return conn;
}

/**
 * Opens one connection; failures name the node and are classified. A connection dropped because
 * its statement could not be ended is replaced on the next call.
 */
export async function connect(endpoint: Endpoint): Promise<SqlClient> {
  let conn: mysql.Connection | undefined = await open(endpoint);
  const what = `node '${endpoint.name}'`;
  const run = async (sql: string, params: readonly unknown[], options: QueryOptions): Promise<unknown> => {
    conn ??= await open(endpoint);
    const current = conn;
    const statement = current.query(sql, params as unknown[]).then(([result]) => result);
    statement.catch(() => {}); // awaited below, or abandoned after a kill
    const stopped = interruption(
      sql,
      what,
      options.timeoutMs ?? endpoint.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      options.signal,
    );
    try {
      const first = await Promise.race([statement.then((result) => ({ result })), stopped.reason.then((reason) => ({ reason }))]);
      if ('result' in first) return first.result;
      const ended = await endOnServer(endpoint, current.threadId, statement);
      if (!ended) {
        current.destroy();
        if (conn === current) conn = undefined;
      }
      first.reason.message += ended
        ? ` (killed on the server)`
        : ` (connection ${current.threadId} killed; the server has not ended the statement yet)`;
      throw first.reason;
    } catch (err) {
      if (err instanceof AbortedError || err instanceof RetryableError || err instanceof PermanentError) throw err;
      throw classify(err, what);
    } finally {
      stopped.clear();
    }
  };
  return {
    async query<T extends Row>(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<T[]> {
      return (await run(sql, params, options)) as T[];
    },
    async execute(sql: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<number> {
      return ((await run(sql, params, options)) as { affectedRows?: number }).affectedRows ?? 0;
    },
    async close(): Promise<void> {
      const c = conn;
      conn = undefined;
      await c?.end().catch(() => c.destroy());
    },
  };
}

/** Resolves with the error to throw once the deadline passes or the signal fires. */
function interruption(
  sql: string,
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): { reason: Promise<Error>; clear: () => void } {
  const statement = sql.length > 60 ? `${sql.slice(0, 57)}...` : sql;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const reason = new Promise<Error>((resolve) => {
    timer = setTimeout(
      () => resolve(new RetryableError(`${what}: statement '${statement}' exceeded its deadline of ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    if (!signal) return;
    onAbort = () => resolve(new AbortedError(`${what}: statement '${statement}' aborted`, { cause: signal.reason }));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return {
    reason,
    clear: () => {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * `KILL QUERY` from a second connection; true when the statement then ended. When it does not
 * (some waits inside Galera ignore kills) the connection is killed too and false returned.
 */
async function endOnServer(endpoint: Endpoint, threadId: number, statement: Promise<unknown>): Promise<boolean> {
  const settled = statement.then(
    () => true,
    () => true,
  );
  const killer = await open({ ...endpoint, connectTimeoutMs: KILL_GRACE_MS }).catch(() => undefined);
  try {
    await killer?.query(`KILL QUERY ${threadId}`).catch(() => {});
    if (await Promise.race([settled, sleep(KILL_GRACE_MS, false)])) return true;
    await killer?.query(`KILL ${threadId}`).catch(() => {});
    return false;
  } finally {
    killer?.destroy();
  }
}

const RETRYABLE_ERRNO = new Set([
  1047 /* WSREP not ready */, 1205 /* lock wait timeout */, 1213 /* deadlock / certification */, 2006, 2013,
]);
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST', 'ENOENT']);

function classify(err: unknown, what: string): Error {
  const e = err as { errno?: number; code?: string; message?: string };
  const message = `${what}: ${e.message ?? String(err)}`;
  if ((e.errno !== undefined && RETRYABLE_ERRNO.has(e.errno)) || RETRYABLE_CODES.has(e.code ?? '')) {
    return Object.assign(new RetryableError(message, { cause: err }), { errno: e.errno });
  }
  return Object.assign(new PermanentError(message, { cause: err }), { errno: e.errno });
}

/** The server's error number behind a classified error, if any (e.g. 1213 for a deadlock). */
export function sqlErrno(err: unknown): number | undefined {
  return (err as { errno?: number }).errno;
}
