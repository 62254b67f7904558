import test from 'ava';
import { commandControl, type Runner, recoveredPosition, systemdControl } from '../../restore/node-control.js';

const U = '48792fff-ef0f-11f1-8eb7-c3bc68d2c051';

test('systemd: the stock unit, galera_new_cluster and galera_recovery, each with a deadline', async (t) => {
  const calls: string[] = [];
  const runner: Runner = async (argv, o) => {
    calls.push(`${argv.join(' ')} <${o.timeoutMs}>`);
    return argv[0] === 'galera_recovery' ? `--wsrep_start_position=${U}:42,0-1-40\n` : '';
  };
  const node = systemdControl('n1', 'mariadb', runner);
  await node.stop();
  t.deepEqual(await node.recoverPosition(), { uuid: U, seqno: 42, gtid: '0-1-40' });
  await node.bootstrap();
  await node.start();
  t.true(await node.isRunning());
  t.deepEqual(calls, [
    'systemctl stop mariadb <300000>',
    'galera_recovery <300000>',
    'galera_new_cluster <600000>',
    'systemctl start mariadb <600000>',
    'systemctl is-active --quiet mariadb <10000>',
  ]);
});

test('command templates run for real: {node} substituted, a non-zero status is "not running", a missing position is an error naming the command', async (t) => {
  const node = commandControl('n3', {
    start: ['sh', '-c', 'test "$0" = n3', '{node}'],
    bootstrap: ['sh', '-c', 'exit 0'],
    stop: ['sh', '-c', 'exit 0'],
    status: ['sh', '-c', 'exit 3'],
    recover: ['sh', '-c', `echo "2026-12-03 [Note] WSREP: Recovered position: ${U}:7"`],
  });
  await t.notThrowsAsync(node.start());
  t.false(await node.isRunning());
  t.deepEqual(await node.recoverPosition(), { uuid: U, seqno: 7, gtid: null });
  const silent = commandControl('n3', {
    start: ['true'],
    bootstrap: ['true'],
    stop: ['true'],
    status: ['true'],
    recover: ['echo', 'nothing useful'],
  });
  t.true(await silent.isRunning());
  await t.throwsAsync(silent.recoverPosition(), { message: "node 'n3': echo: printed no recovered position" });
  const failing = commandControl('n3', {
    start: ['false'],
    bootstrap: ['false'],
    stop: ['false'],
    status: ['true'],
    recover: ['true'],
  });
  await t.throwsAsync(failing.start(), { message: /exited with code 1/ });
});

test('recoveredPosition reads both forms and refuses anything else', (t) => {
  t.is(recoveredPosition(`WSREP: Recovered position: ${U}:-1`, 'x').seqno, -1);
  t.throws(() => recoveredPosition('', 'x'), { message: 'x: printed no recovered position' });
});
