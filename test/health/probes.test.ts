import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { galeraProbe, HEARTBEAT_TABLE, httpProbe, type Probe, ProbeSet, tcpProbe, writeProbe } from '../../src/health/probes.js';
import { nodeClient } from '../helpers/galera.js';
import { need } from '../helpers/testbed.js';

test('probes of a live Galera node answer: TCP, Galera state, a write committed through the cluster', async (t) => {
  const n1 = await nodeClient(1);
  const n2 = await nodeClient(2);
  t.teardown(() => Promise.all([n1.close(), n2.close()]));
  await n1.execute('CREATE DATABASE IF NOT EXISTS lifeboat');
  await n1.execute(HEARTBEAT_TABLE);
  const node = `probe-test-${process.pid}`;
  const set = new ProbeSet(
    {
      tcp: tcpProbe(need('GALERA_NODE1_HOST'), Number(need('GALERA_NODE1_PORT'))),
      galera: galeraProbe(async () => n1),
      write: writeProbe(async () => n1, node),
    },
    2000,
  );
  const results = await set.round();
  t.deepEqual(
    results.map((r) => [r.probe, r.ok]),
    [
      ['tcp', true],
      ['galera', true],
      ['write', true],
    ],
    JSON.stringify(results),
  );
  t.regex(results[1]?.detail ?? '', /^Primary, Synced, size 3$/);
  // the write reached the other nodes
  const rows = await n2.query<{ seq: number | string }>('SELECT seq FROM lifeboat.heartbeat WHERE node = ?', [node]);
  t.is(Number(rows[0]?.seq), 1);
  await n1.execute('DELETE FROM lifeboat.heartbeat WHERE node = ?', [node]);
});

test('a closed port fails at once; a daemon health endpoint answers', async (t) => {
  const server = createServer((req, res) => {
    res.statusCode = req.url === '/v1/health' ? 200 : 404;
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const set = new ProbeSet({ tcp: tcpProbe('127.0.0.1', 1), daemon: httpProbe(`http://127.0.0.1:${port}/v1/health`) }, 2000);
  const [tcp, daemon] = await set.round();
  t.false(tcp?.ok);
  t.regex(tcp?.detail ?? '', /ECONNREFUSED/);
  t.true(tcp !== undefined && tcp.ms < 1000);
  t.true(daemon?.ok);
});

test('a hung peer: each round ends at its deadline, and a probe still in flight is not started again', async (t) => {
  let started = 0;
  let release: () => void = () => {};
  const hung: Probe = () => {
    started++;
    return new Promise((resolve) => {
      release = () => resolve('late');
    });
  };
  const set = new ProbeSet({ galera: hung }, 100);
  const first = await set.round();
  t.deepEqual([first[0]?.ok, first[0]?.detail], [false, 'no answer within 100 ms']);
  const second = await set.round();
  t.deepEqual([second[0]?.ok, second[0]?.detail], [false, 'the previous probe is still in flight']);
  t.is(started, 1);
  release();
  await new Promise((resolve) => setImmediate(resolve));
  t.true((await set.round())[0] !== undefined);
  t.is(started, 2, 'started again once the hung one settled');
  release();
});
