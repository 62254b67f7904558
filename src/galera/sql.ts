import mysql from 'mysql2/promise';
import { PermanentError, RetryableError } from '../lib/errors.js';

export type Row = Record<string, unknown>;

/** The subset of a MariaDB connection Lifeboat uses; the only seam over mysql2. */
export interface SqlClient {
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs a statement and returns the affected row count. */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
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
}

/** Opens one connection; failures name the node and are classified. */
export async function connect(endpoint: Endpoint): Promise<SqlClient> {
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
  return {
    async query<T extends Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      try {
        const [rows] = await conn.query(sql, params as unknown[]);
        return rows as T[];
      } catch (err) {
        throw classify(err, `node '${endpoint.name}'`);
      }
    },
    async execute(sql: string, params: readonly unknown[] = []): Promise<number> {
      try {
        const [result] = await conn.query(sql, params as unknown[]);
        return (result as { affectedRows?: number }).affectedRows ?? 0;
      } catch (err) {
        throw classify(err, `node '${endpoint.name}'`);
      }
    },
    async close(): Promise<void> {
      await conn.end().catch(() => conn.destroy());
    },
  };
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
