import type { GaleraPositionInfo } from './types.js';

/** `uuid:seqno [domain]` as written by mariadb-backup --galera-info. */
export function parseGaleraInfo(text: string): GaleraPositionInfo['galera'] {
  const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}):(-?\d+)/.exec(text.trim());
  return m?.[1] && m[2] ? { uuid: m[1], seqno: Number(m[2]) } : null;
}

/** `file<TAB>position<TAB>gtid` as written by mariadb-backup (gtid may be absent). */
export function parseBinlogInfo(text: string): Pick<GaleraPositionInfo, 'binlog' | 'gtid'> {
  const [file, position, gtid] = text.trim().split(/\t/);
  return {
    binlog: file && position && /^\d+$/.test(position) ? { file, position: Number(position) } : null,
    gtid: gtid?.trim() ? gtid.trim() : null,
  };
}

/** GTID position from the header comments of `mariadb-dump --gtid --master-data=2`. */
export function parseDumpHeader(text: string): Pick<GaleraPositionInfo, 'binlog' | 'gtid'> {
  const gtid = /SET GLOBAL gtid_slave_pos\s*=\s*'([^']*)'/.exec(text)?.[1] ?? null;
  const file = /MASTER_LOG_FILE\s*=\s*'([^']+)'/.exec(text)?.[1];
  const pos = /MASTER_LOG_POS\s*=\s*(\d+)/.exec(text)?.[1];
  return { gtid: gtid || null, binlog: file && pos ? { file, position: Number(pos) } : null };
}
