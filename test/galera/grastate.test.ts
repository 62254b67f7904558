import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { formatGrastate, parseGrastate, parseRecoveredPosition, readGrastate, writeGrastate } from '../../src/galera/index.js';
import { PermanentError } from '../../src/lib/errors.js';
import { repoRoot } from '../helpers/testbed.js';

// As a running Galera 4 node (MariaDB 10.11, the testbed's) has it on disk.
const RUNNING = `# GALERA saved state
version: 2.1
uuid:    b0abaa22-eef4-11f1-a470-cefd0383d255
seqno:   -1
safe_to_bootstrap: 0
`;

test('grastate: parses what Galera writes, and writes what it parses', (t) => {
  const state = parseGrastate(RUNNING);
  t.deepEqual(state, { uuid: 'b0abaa22-eef4-11f1-a470-cefd0383d255', seqno: -1, safeToBootstrap: false });
  t.is(formatGrastate(state), RUNNING);
  t.deepEqual(parseGrastate(formatGrastate({ ...state, seqno: 1933, safeToBootstrap: true })), {
    ...state,
    seqno: 1933,
    safeToBootstrap: true,
  });
});

test('grastate: a malformed field is an error naming it; a file without safe_to_bootstrap is not safe', (t) => {
  t.throws(() => parseGrastate(RUNNING.replace(/uuid:.*/, 'uuid: nope')), {
    instanceOf: PermanentError,
    message: 'grastate.dat: uuid: not valid ("nope")',
  });
  t.throws(() => parseGrastate(RUNNING.replace(/seqno:.*\n/, '')), { message: 'grastate.dat: seqno: missing' });
  t.false(parseGrastate(RUNNING.replace(/safe_to_bootstrap.*\n/, '')).safeToBootstrap);
});

test('grastate: read and write a datadir (absent is undefined; the write replaces the file whole)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'grastate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.is(await readGrastate(dir), undefined);
  writeFileSync(join(dir, 'grastate.dat'), RUNNING);
  t.is((await readGrastate(dir))?.seqno, -1);
  await writeGrastate(dir, { uuid: 'b0abaa22-eef4-11f1-a470-cefd0383d255', seqno: 7, safeToBootstrap: true });
  t.regex(readFileSync(join(dir, 'grastate.dat'), 'utf8'), /^seqno: {3}7\nsafe_to_bootstrap: 1\n$/m);
});

test('recovered position: from real mariadbd --wsrep-recover output (uuid, seqno and the seeded GTID)', (t) => {
  // captured on the testbed: mariadb-backup of node 1, --prepare, then mariadbd --wsrep-recover on it
  const log = readFileSync(join(repoRoot, 'test/galera/fixtures/wsrep-recover.txt'), 'utf8');
  t.deepEqual(parseRecoveredPosition(log), {
    uuid: 'b0abaa22-eef4-11f1-a470-cefd0383d255',
    seqno: 1933,
    gtid: '100-1-1929',
  });
});

test('recovered position: without GTID mode, an empty datadir (-1), and a server that failed first', (t) => {
  t.deepEqual(
    parseRecoveredPosition('2026-12-03  9:25:19 0 [Note] WSREP: Recovered position: b0abaa22-eef4-11f1-a470-cefd0383d255:12\n'),
    { uuid: 'b0abaa22-eef4-11f1-a470-cefd0383d255', seqno: 12, gtid: null },
  );
  t.is(parseRecoveredPosition('[Note] WSREP: Recovered position: 00000000-0000-0000-0000-000000000000:-1\n')?.seqno, -1);
  t.is(parseRecoveredPosition('[ERROR] InnoDB: Plugin initialization aborted\n[ERROR] Aborting\n'), undefined);
});
