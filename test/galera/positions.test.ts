import test from 'ava';
import { withoutAuthentication } from '../../src/galera/accounts.js';
import { parseDumpPositions } from '../../src/galera/positions.js';

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
