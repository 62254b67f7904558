import test from 'ava';
import { withoutAuthentication } from '../../src/galera/accounts.js';
import { parseBackupLog, parseDumpPositions } from '../../src/galera/positions.js';

// What mariadb-dump 10.11 --gtid --master-data=2 writes: binlog coordinates at the head, the GTID
// ("deferred gtid setting") in the last lines.
const head = `-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;

-- CHANGE MASTER TO MASTER_LOG_FILE='mariadb-bin.000002', MASTER_LOG_POS=344;
INSERT INTO \`t\` VALUES (1,'-- SET GLOBAL gtid_slave_pos=\\'9-9-9\\';');
`;
const tail = `
-- The deferred gtid setting for slave corresponding to the master-data CHANGE-MASTER follows

-- Preferably use GTID to start replication from GTID position:

-- SET GLOBAL gtid_slave_pos='0-1-7,100-1-4';
/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;
`;

test('dump positions: binlog from the head, GTID from the tail, never from row data', (t) => {
  t.deepEqual(parseDumpPositions(`${head}\n${tail}`), {
    gtid: '0-1-7,100-1-4',
    binlog: { file: 'mariadb-bin.000002', position: 344 },
  });
  t.deepEqual(parseDumpPositions(head), { gtid: null, binlog: { file: 'mariadb-bin.000002', position: 344 } });
});

// What mariadb-backup 10.11 --galera-info --stream=xbstream logs when it writes the positions
// into the archive (a node of the testbed).
const backupLog = `[00] 2026-12-03 14:33:30 Streaming xtrabackup_galera_info
[00] 2026-12-03 14:33:30         ...done
[00] 2026-12-03 14:33:30 Writing Galera info succeeded with 7b5972e8-ef26-11f1-8194-3e8d5f2a0f93:8 100
[00] 2026-12-03 14:33:30 Streaming xtrabackup_binlog_info
[00] 2026-12-03 14:33:30 MySQL binlog position: filename 'mariadb-bin.000003', position '389', GTID of the last change '100-1-4'
[00] 2026-12-03 14:33:30 completed OK!`;

test('backup positions: Galera and binlog from what mariadb-backup says it wrote', (t) => {
  t.deepEqual(parseBackupLog(backupLog), {
    galera: { uuid: '7b5972e8-ef26-11f1-8194-3e8d5f2a0f93', seqno: 8 },
    binlog: { file: 'mariadb-bin.000003', position: 389 },
    gtid: '100-1-4',
  });
  const noBinlog = backupLog
    .split('\n')
    .filter((l) => !l.includes('binlog position'))
    .join('\n');
  t.deepEqual(parseBackupLog(noBinlog), {
    galera: { uuid: '7b5972e8-ef26-11f1-8194-3e8d5f2a0f93', seqno: 8 },
    binlog: null,
    gtid: null,
  });
  t.is(parseBackupLog('[00] completed OK!'), undefined, 'no Galera line: no position');
});

test('grants lose their IDENTIFIED clause, quoted strings whole, WITH kept', (t) => {
  t.is(
    withoutAuthentication(
      "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED VIA mysql_native_password USING 'invalid' OR unix_socket WITH GRANT OPTION",
    ),
    'GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION',
  );
  t.is(
    withoutAuthentication("GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*4B53 WITH x'"),
    'GRANT USAGE ON *.* TO `u`@`%`',
  );
  t.is(withoutAuthentication('GRANT SELECT ON `db`.* TO `u`@`%`'), 'GRANT SELECT ON `db`.* TO `u`@`%`');
});
