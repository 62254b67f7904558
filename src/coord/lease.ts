import { ConflictError } from '../lib/errors.js';

/** The SQL this module needs: `src/galera`'s SqlClient fits it. */
export interface CoordSql {
  query<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** runs a statement and returns the affected row count */
  execute(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** MariaDB's deadlock error: on Galera, the loser of a certification race gets it. */
const ER_LOCK_DEADLOCK = 1213;

function lostRace(err: unknown): boolean {
  return (err as { errno?: number }).errno === ER_LOCK_DEADLOCK;
}

/**
 * A cluster-wide lease in the `lifeboat` schema. Galera certification makes the acquiring UPDATE
 * mutually exclusive across nodes: only "1 row changed and committed" counts as acquired. Each
 * acquisition increments a fencing token; work commits its result only while `confirm(token)`
 * still succeeds, so a holder that lost the lease (paused, partitioned) cannot commit.
 */
export class Lease {
  constructor(
    private readonly sql: CoordSql,
    /** lease name, e.g. `snapshot` */
    readonly name: string,
    /** this node's name */
    readonly holder: string,
    readonly ttlSeconds: number,
  ) {}

  static async ensureSchema(sql: CoordSql): Promise<void> {
    await sql.execute('CREATE DATABASE IF NOT EXISTS lifeboat');
    await sql.execute(
      `CREATE TABLE IF NOT EXISTS lifeboat.leases (
         name VARCHAR(64) NOT NULL PRIMARY KEY,
         holder VARCHAR(64) NOT NULL DEFAULT '',
         token BIGINT UNSIGNED NOT NULL DEFAULT 0,
         slot VARCHAR(64) NOT NULL DEFAULT '',
         expires_at DATETIME(3) NOT NULL DEFAULT '1970-01-01 00:00:01'
       ) ENGINE=InnoDB`,
    );
    await sql.execute(
      `CREATE TABLE IF NOT EXISTS lifeboat.slots (
         job VARCHAR(32) NOT NULL,
         slot VARCHAR(64) NOT NULL,
         state VARCHAR(16) NOT NULL,
         holder VARCHAR(64) NOT NULL,
         token BIGINT UNSIGNED NOT NULL,
         attempts INT NOT NULL DEFAULT 1,
         result VARCHAR(255) NULL,
         updated_at DATETIME(3) NOT NULL,
         PRIMARY KEY (job, slot)
       ) ENGINE=InnoDB`,
    );
  }

  /** Takes the lease if it is free or expired; returns the fencing token, or null. */
  async tryAcquire(slot: string): Promise<number | null> {
    try {
      await this.sql.execute('INSERT IGNORE INTO lifeboat.leases (name) VALUES (?)', [this.name]);
      const changed = await this.sql.execute(
        `UPDATE lifeboat.leases SET holder = ?, token = token + 1, slot = ?, expires_at = NOW(3) + INTERVAL ? SECOND
          WHERE name = ? AND expires_at < NOW(3)`,
        [this.holder, slot, this.ttlSeconds, this.name],
      );
      if (changed !== 1) return null;
    } catch (err) {
      if (lostRace(err)) return null;
      throw err;
    }
    const [row] = await this.sql.query<{ token: string }>('SELECT token FROM lifeboat.leases WHERE name = ? AND holder = ?', [
      this.name,
      this.holder,
    ]);
    return row ? Number(row.token) : null;
  }

  /** Extends the lease; false when it was lost (expired and taken, or released). */
  async renew(token: number): Promise<boolean> {
    try {
      const changed = await this.sql.execute(
        `UPDATE lifeboat.leases SET expires_at = NOW(3) + INTERVAL ? SECOND
          WHERE name = ? AND holder = ? AND token = ? AND expires_at >= NOW(3)`,
        [this.ttlSeconds, this.name, this.holder, token],
      );
      return changed === 1;
    } catch (err) {
      if (lostRace(err)) return false;
      throw err;
    }
  }

  /** Fencing check before committing: throws ConflictError unless the lease is still ours. */
  async confirm(token: number): Promise<void> {
    if (!(await this.renew(token))) {
      throw new ConflictError(`lease '${this.name}': token ${token} of node '${this.holder}' is no longer valid; not committing`);
    }
  }

  async release(token: number): Promise<void> {
    await this.sql.execute(
      "UPDATE lifeboat.leases SET expires_at = '1970-01-01 00:00:01' WHERE name = ? AND holder = ? AND token = ?",
      [this.name, this.holder, token],
    );
  }

  /** Who holds the lease, in words for a 409 (`node 'n2'`); null when it is free. */
  async heldBy(): Promise<string | null> {
    const current = await this.current();
    return current ? `node '${current.holder}'` : null;
  }

  /** Who holds the lease now, if anyone. */
  async current(): Promise<{ holder: string; token: number; slot: string; expiresInMs: number } | null> {
    const [row] = await this.sql.query<{ holder: string; token: string; slot: string; ms: string }>(
      'SELECT holder, token, slot, TIMESTAMPDIFF(MICROSECOND, NOW(3), expires_at) DIV 1000 AS ms FROM lifeboat.leases WHERE name = ?',
      [this.name],
    );
    if (!row || Number(row.ms) <= 0) return null;
    return { holder: row.holder, token: Number(row.token), slot: row.slot, expiresInMs: Number(row.ms) };
  }
}

export type SlotState = 'running' | 'done' | 'failed';

/** Per-slot bookkeeping of scheduled jobs, shared by the daemons of a cluster. */
export class SlotBook {
  constructor(
    private readonly sql: CoordSql,
    readonly job: string,
  ) {}

  async get(slot: string): Promise<{ state: SlotState; holder: string; attempts: number; result: string | null } | null> {
    const [row] = await this.sql.query<{ state: SlotState; holder: string; attempts: number; result: string | null }>(
      'SELECT state, holder, attempts, result FROM lifeboat.slots WHERE job = ? AND slot = ?',
      [this.job, slot],
    );
    return row ?? null;
  }

  /** The newest finished slots' outcomes, newest first. */
  async recent(limit: number): Promise<{ slot: string; state: SlotState }[]> {
    return this.sql.query<{ slot: string; state: SlotState }>(
      `SELECT slot, state FROM lifeboat.slots WHERE job = ? AND state <> 'running' ORDER BY slot DESC LIMIT ${Math.max(1, Math.floor(limit))}`,
      [this.job],
    );
  }

  /** Records that `holder` (with fencing token) works on the slot; counts attempts. */
  async start(slot: string, holder: string, token: number): Promise<void> {
    await this.sql.execute(
      `INSERT INTO lifeboat.slots (job, slot, state, holder, token, updated_at) VALUES (?, ?, 'running', ?, ?, NOW(3))
       ON DUPLICATE KEY UPDATE state = 'running', holder = VALUES(holder), token = VALUES(token), attempts = attempts + 1, updated_at = NOW(3)`,
      [this.job, slot, holder, token],
    );
  }

  async finish(slot: string, token: number, state: 'done' | 'failed', result: string): Promise<void> {
    await this.sql.execute(
      'UPDATE lifeboat.slots SET state = ?, result = ?, updated_at = NOW(3) WHERE job = ? AND slot = ? AND token = ?',
      [state, result.slice(0, 255), this.job, slot, token],
    );
  }
}
