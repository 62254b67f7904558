import type { GaleraPositionInfo } from './types.js';

/** `uuid:seqno [domain]` as written by mariadb-backup --galera-info. */
export function parseGaleraInfo(text: string): GaleraPositionInfo['galera'] {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(-?\d+)/.exec(text.trim());
  return m?.[1] && m[2] ? { uuid: m[1], seqno: Number(m[2]) } : null;
}

/**
 * The positions mariadb-backup (10.4+) reports writing into the archive, from its log: `Writing
 * Galera info succeeded with <uuid>:<seqno> <domain>` and `MySQL binlog position: filename
 * '<file>', position '<pos>', GTID of the last change '<gtid>'` (absent without a binlog).
 * Undefined without a Galera position.
 */
export function parseBackupLog(log: string): GaleraPositionInfo | undefined {
  const galera = /Writing Galera info succeeded with (\S+)/.exec(log)?.[1];
  const position = galera === undefined ? null : parseGaleraInfo(galera);
  if (!position) return undefined;
  const m = /MySQL binlog position: filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?/.exec(log);
  return {
    galera: position,
    binlog: m?.[1] && m[2] ? { file: m[1], position: Number(m[2]) } : null,
    gtid: m?.[3] ? m[3] : null,
  };
}

/**
 * GTID and binlog position from the comments of `mariadb-dump --gtid --master-data=2`: the
 * binlog coordinates open the dump, the GTID (`gtid_binlog_pos` at the consistent point) closes
 * it in 10.5+ ("the deferred gtid setting"). `text` is the dump's head and tail; the comments are
 * whole lines, which row data never are (the dump escapes newlines in values).
 */
export function parseDumpPositions(text: string): Pick<GaleraPositionInfo, 'binlog' | 'gtid'> {
  const gtid = /^-- SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)';$/m.exec(text)?.[1] ?? null;
  const m = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+);$/m.exec(text);
  return { gtid: gtid || null, binlog: m?.[1] && m[2] ? { file: m[1], position: Number(m[2]) } : null };
}

/** A node's position as `mariadbd --wsrep-recover` finds it in InnoDB. */
export interface RecoveredPosition {
  readonly uuid: string;
  readonly seqno: number;
  /** the binlog GTID state seeded from the same checkpoint (MariaDB 10.5+ with wsrep_gtid_mode) */
  readonly gtid: string | null;
}

/**
 * The position in `mariadbd --wsrep-recover` output (its error log): the last `WSREP: Recovered
 * position: <uuid>:<seqno>[,<gtid>]` line. Undefined when the output has none (the server failed
 * before recovery); a seqno of -1 means the datadir holds no position (never joined, or wiped).
 */
export function parseRecoveredPosition(log: string): RecoveredPosition | undefined {
  const lines = [...log.matchAll(/WSREP: Recovered position:\s+([0-9a-f-]{36}):(-?\d+)(?:,(\S+))?\s*$/gm)];
  const m = lines.at(-1);
  if (!m?.[1] || !m[2]) return undefined;
  return { uuid: m[1], seqno: Number(m[2]), gtid: m[3] ?? null };
}
