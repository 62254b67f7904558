import type { SqlClient } from './sql.js';

/** Databases a logical dump skips: the server's own and Lifeboat's. */
export const SYSTEM_DATABASES = new Set(['information_schema', 'performance_schema', 'mysql', 'sys', 'lifeboat']);

/** What a snapshot records about the server it was taken from. */
export interface ServerInfo {
  /** `SELECT VERSION()`, e.g. `11.4.4-MariaDB-log` */
  readonly version: string;
  /** user databases, without SYSTEM_DATABASES, in server order */
  readonly databases: readonly string[];
  /** InnoDB data + index bytes outside the server's own schemas: a size hint, not an exact size */
  readonly sizeBytes: number;
}

export async function serverInfo(sql: SqlClient): Promise<ServerInfo> {
  const [versionRow] = await sql.query<{ version: string }>('SELECT VERSION() AS version');
  const rows = await sql.query<{ Database: string }>('SHOW DATABASES');
  const [size] = await sql.query<{ bytes: string | null }>(
    'SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema NOT IN (?, ?)',
    ['information_schema', 'performance_schema'],
  );
  return {
    version: versionRow?.version ?? 'unknown',
    databases: rows.map((r) => r.Database).filter((d) => !SYSTEM_DATABASES.has(d)),
    sizeBytes: Number(size?.bytes ?? 0),
  };
}
