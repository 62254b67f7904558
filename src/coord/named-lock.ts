import { ConflictError } from '../lib/errors.js';
import type { CoordSql } from './lease.js';
import type { OpenLease } from './with-lease.js';

/** A connection of the lock's own: the lock lives as long as it does. */
export interface NamedLockSql extends CoordSql {
  close(): Promise<void>;
}

/**
 * A lease that is a MariaDB named lock (`GET_LOCK`) on one server, for work that guards that
 * server alone (a Staging refresh): it needs no cluster database and works from any node or the
 * CLI alike. The server frees the lock when the holder's connection ends, so a killed holder
 * never blocks the next one, and a renewal fails once the connection is gone. The fencing token
 * is the holder's connection id; `ttlSeconds` only paces the renewals.
 */
export class NamedLock implements OpenLease {
  constructor(
    private readonly sql: NamedLockSql,
    /** at most 64 characters (the server's limit) */
    readonly name: string,
    readonly ttlSeconds: number,
  ) {
    if (name.length > 64) throw new Error(`named lock '${name}': longer than 64 characters`);
  }

  async tryAcquire(): Promise<number | null> {
    const [row] = await this.sql.query<{ got: number | null; id: number | string }>(
      'SELECT GET_LOCK(?, 0) AS got, CONNECTION_ID() AS id',
      [this.name],
    );
    return Number(row?.got) === 1 ? Number(row?.id) : null;
  }

  /** True while `token`'s connection holds the lock; false once it does not or the connection is gone. */
  async renew(token: number): Promise<boolean> {
    try {
      const [row] = await this.sql.query<{ holder: number | string | null }>('SELECT IS_USED_LOCK(?) AS holder', [this.name]);
      return row?.holder !== null && Number(row?.holder) === token;
    } catch {
      return false;
    }
  }

  async confirm(token: number): Promise<void> {
    if (!(await this.renew(token)))
      throw new ConflictError(`lock '${this.name}': connection ${token} no longer holds it; not committing`);
  }

  async release(): Promise<void> {
    await this.sql.query('SELECT RELEASE_LOCK(?)', [this.name]);
  }

  /** Who holds the lock: its connection, account and client host (null when free). */
  async heldBy(): Promise<string | null> {
    const [row] = await this.sql.query<{ id: number | string | null }>('SELECT IS_USED_LOCK(?) AS id', [this.name]);
    if (row?.id === null || row?.id === undefined) return null;
    const [who] = await this.sql
      .query<{ user: string; host: string }>('SELECT user, host FROM information_schema.processlist WHERE id = ?', [row.id])
      .catch(() => []);
    return `connection ${row.id}${who ? ` (${who.user}@${who.host})` : ''}`;
  }

  close(): Promise<void> {
    return this.sql.close();
  }
}
