import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import test from 'ava';
import { type SqlClient, wsrepStatus } from '../../src/galera/index.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { withStuckApplier } from '../galera/stuck-applier.js';
import { mariadb, nodeClient, scratchNode, stopServer, withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeTestRepos, startLifeboat, type TestRepo, testbedStore, testRepo } from '../helpers/lifeboat.js';
import { need, s3Facts, uniqueName } from '../helpers/testbed.js';

test.after.always(removeTestRepos);

// Database snapshots against the real 3-node Galera cluster and Ceph RGW. Serial: they share donors.

const db = uniqueName('lbsnap').replaceAll('-', '_');

test.before(async () => {
  const n1 = need('GALERA_NODE1_SOCKET');
  mariadb(
    n1,
    `CREATE DATABASE ${db};
     USE ${db};
     CREATE TABLE ${db}.writes (id INT PRIMARY KEY, gtid VARCHAR(64) NOT NULL, at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB;
     CREATE TABLE ${db}.static_a (id INT PRIMARY KEY, name VARCHAR(100), price DECIMAL(12,4), body TEXT) ENGINE=InnoDB;
     INSERT INTO ${db}.static_a SELECT seq, CONCAT('product-', seq), seq * 1.25, REPEAT(MD5(seq), 20) FROM seq_1_to_20000;
     CREATE TABLE ${db}.static_b (id INT PRIMARY KEY, blob_col LONGBLOB) ENGINE=InnoDB;`,
  );
  // ~96 MB of incompressible rows so a snapshot takes long enough to be interrupted mid-upload.
  for (let i = 0; i < 6; i++) {
    mariadb(
      n1,
      `USE ${db}; INSERT INTO ${db}.static_b SELECT seq, RANDOM_BYTES(1024) FROM seq_${i * 16_000 + 1}_to_${(i + 1) * 16_000}`,
    );
  }
});

test.after.always(() => {
  try {
    mariadb(need('GALERA_NODE1_SOCKET'), `DROP DATABASE IF EXISTS ${db}`);
  } catch {
    // the testbed may already be gone
  }
});

interface Commit {
  readonly id: number;
  readonly gtidSeqno: number;
  readonly ms: number;
}

/** Commits rows one by one on a node until stopped; records each commit's GTID and latency. */
function startWriter(client: SqlClient): { stop: () => Promise<{ commits: Commit[]; errors: string[] }> } {
  let running = true;
  const commits: Commit[] = [];
  const errors: string[] = [];
  const loop = (async () => {
    let id = 0;
    while (running) {
      id++;
      const started = performance.now();
      try {
        await client.execute(`INSERT INTO ${db}.writes (id, gtid) VALUES (?, '')`, [id]);
        const [row] = await client.query<{ g: string }>('SELECT @@last_gtid AS g');
        const seqno = Number((row?.g ?? '').split('-')[2]);
        commits.push({ id, gtidSeqno: seqno, ms: performance.now() - started });
      } catch (err) {
        errors.push(String(err));
      }
      await sleep(5);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { commits, errors };
    },
  };
}

async function danglingUploads(prefix: string): Promise<number> {
  const s3 = s3Facts();
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  try {
    const out = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: `${prefix}/` }));
    return out.Uploads?.length ?? 0;
  } finally {
    client.destroy();
  }
}

async function listed(repo: TestRepo): Promise<string[]> {
  const r = await lifeboat(repo, ['--json', 'snapshots']);
  if (r.code !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { id: string }[]).map((s) => s.id);
}

async function desynced(n: 1 | 2 | 3): Promise<boolean> {
  const c = await nodeClient(n);
  try {
    return (await wsrepStatus(c)).desync;
  } finally {
    await c.close();
  }
}

test.serial(
  'snapshot under write load, then restore into a new cluster holds exactly the commits up to the recorded position',
  (t) =>
    withClusterLock(async () => {
      const repo = testRepo('n2');
      const writerConn = await nodeClient(3);
      const writer = startWriter(writerConn);
      await sleep(500);
      const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only']);
      await sleep(500);
      const { commits, errors } = await writer.stop();
      await writerConn.close();
      t.is(snap.code, 0, snap.stderr);
      t.deepEqual(errors, [], 'the writer on another node never errors');
      const slowest = Math.max(...commits.map((c) => c.ms));
      t.true(slowest < 2000, `slowest commit ${slowest.toFixed(0)} ms`);
      t.log(`writer: ${commits.length} commits, slowest ${slowest.toFixed(0)} ms`);
      t.false(await desynced(2), 'donor resynced');

      const result = JSON.parse(snap.stdout) as { id: string; database: NonNullable<Manifest['parts']['database']> };
      const gtid = result.database.gtid ?? '';
      const recorded = Number(/(?:^|,)100-\d+-(\d+)/.exec(gtid)?.[1]);
      t.true(Number.isFinite(recorded), `gtid ${gtid} has the wsrep domain`);
      t.truthy(result.database.galera?.uuid);
      t.deepEqual(await listed(repo), [result.id]);

      const node = scratchNode();
      const restore = await lifeboat(repo, [
        '--json',
        'restore',
        'db',
        '--snapshot',
        'latest',
        '--to',
        node.datadir,
        '--new-cluster',
        '--defaults-file',
        node.cnf,
      ]);
      t.is(restore.code, 0, restore.stderr);
      const pid = (JSON.parse(restore.stdout) as { bootstrap: { pid: number } }).bootstrap.pid;
      try {
        const { connect } = await import('../../src/galera/index.js');
        const restored = await connect({
          name: 'restored',
          socket: node.socket,
          user: need('GALERA_USER'),
          password: need('GALERA_PASSWORD'),
        });
        try {
          const rows = await restored.query<{ id: number }>(`SELECT id FROM ${db}.writes ORDER BY id`);
          const expected = commits.filter((c) => c.gtidSeqno <= recorded).map((c) => c.id);
          t.deepEqual(
            rows.map((r) => Number(r.id)),
            expected,
            'none missing, none extra',
          );
          t.true(expected.length > 0 && expected.length < commits.length, 'the snapshot point fell inside the write burst');
          const status = await wsrepStatus(restored);
          // Galera 4 counts the new cluster's first view change as an event: seqno + 1 at most.
          const seqno = result.database.galera?.seqno ?? -2;
          t.is(status.stateUuid, result.database.galera?.uuid ?? '', 'continues the recorded cluster history');
          t.true(
            status.lastCommitted - seqno >= 0 && status.lastCommitted - seqno <= 1,
            `restored at ${status.lastCommitted}, recorded ${seqno}`,
          );
          const live = await nodeClient(1);
          try {
            for (const table of ['static_a', 'static_b']) {
              const [a] = await live.query<{ Checksum: string }>(`CHECKSUM TABLE ${db}.${table}`);
              const [b] = await restored.query<{ Checksum: string }>(`CHECKSUM TABLE ${db}.${table}`);
              t.is(b?.Checksum, a?.Checksum, `CHECKSUM TABLE ${table}`);
            }
          } finally {
            await live.close();
          }
        } finally {
          await restored.close();
        }
      } finally {
        await stopServer(pid);
        rmSync(node.dir, { recursive: true, force: true });
      }
    }),
);

test.serial('SIGKILL mid-upload: nothing listed, the next run cleans up and undoes the desync', (t) =>
  withClusterLock(async () => {
    const repo = testRepo('n3');
    const run = startLifeboat(repo, ['snapshot', '--db-only']);
    let uploads = 0;
    for (let i = 0; i < 600 && uploads === 0; i++) {
      uploads = await danglingUploads(repo.prefix);
      if (uploads === 0) await sleep(50);
    }
    t.true(uploads > 0, 'killed while a multipart upload was in flight');
    const children = childrenOf(run.child.pid ?? -1);
    t.deepEqual(children.map((c) => c.name).sort(), ['mariadb-backup', 'zstd'], 'the backup and the compressor run');
    run.child.kill('SIGKILL');
    await run.done;
    const until = Date.now() + 3000;
    while (children.some((c) => running(c.pid)) && Date.now() < until) await sleep(50);
    t.deepEqual(
      children.filter((c) => running(c.pid)).map((c) => c.name),
      [],
      'no mariadb-backup or zstd outlives the killed Lifeboat by 3 s',
    );
    t.true(await desynced(3), 'the killed run left the node desynced');
    t.deepEqual(await listed(repo), [], 'a killed snapshot is not listed');

    const again = await lifeboat(repo, ['--json', 'snapshot', '--db-only']);
    t.is(again.code, 0, again.stderr);
    t.false(await desynced(3), 'node resynced after Lifeboat ran again');
    t.is(await danglingUploads(repo.prefix), 0, 'no dangling multipart upload');
    t.is((await listed(repo)).length, 1);
  }),
);

test.serial(
  'its log reader going away mid-snapshot (lifeboat … | head) does not stop the run: committed, the node resynced',
  (t) =>
    withClusterLock(async () => {
      const repo = testRepo('n3');
      const run = startLifeboat(repo, ['--log-level', 'debug', 'snapshot', '--db-only']);
      for (let i = 0; i < 600 && !run.stderr().includes('node desynced for snapshot'); i++) await sleep(20);
      t.true(run.stderr().includes('node desynced for snapshot'));
      run.child.stderr?.destroy(); // the reading end closes: every later write of the run gets EPIPE
      run.child.stdout?.destroy();
      const done = await run.done;
      t.is(done.code, 0, 'the run went on to the end');
      t.false(await desynced(3), 'the node is not left desynced');
      t.is((await listed(repo)).length, 1, 'the snapshot committed');
    }),
);

test.serial('a broken mariadb-backup invocation fails clearly, lists nothing, leaves the node synced', (t) =>
  withClusterLock(async () => {
    const wrongSocket = testRepo('n2', { socket: '/nonexistent/mariadbd.sock' });
    const missingBinary = testRepo('n2', { tools: { backup: '/nonexistent/mariadb-backup' } });
    const a = await lifeboat(wrongSocket, ['snapshot', '--db-only']);
    t.is(a.code, 1);
    t.regex(a.stderr, /nonexistent\/mariadbd\.sock/);
    const b = await lifeboat(missingBinary, ['snapshot', '--db-only']);
    t.is(b.code, 1);
    t.regex(b.stderr, /mariadb-backup: command not found: \/nonexistent\/mariadb-backup/);
    t.false(await desynced(2));
    t.deepEqual(await listed(missingBinary), []);
    t.notRegex(a.stderr + b.stderr, /\n\s+at /, 'no stack traces');
  }),
);

test.serial('a flipped byte in the stored object fails verify and restore, naming it', (t) =>
  withClusterLock(async () => {
    const repo = testRepo('n1');
    const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only', '--logical']);
    t.is(snap.code, 0, snap.stderr);
    const id = (JSON.parse(snap.stdout) as { id: string }).id;
    t.is((await lifeboat(repo, ['verify', id])).code, 0);

    const store = testbedStore();
    const key = `${repo.prefix}/${repo.cluster}/snapshots/${id}/db.sql.zst`;
    try {
      const chunks: Buffer[] = [];
      for await (const c of await store.get(key)) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] ?? 0) ^ 0x40;
      await store.put(key, bytes);
    } finally {
      store.destroy();
    }
    const verify = await lifeboat(repo, ['verify', id]);
    t.is(verify.code, 1);
    t.regex(verify.stdout, /FAIL .*db\.sql\.zst/);
    const node = scratchNode();
    const restore = await lifeboat(repo, ['restore', 'db', '--snapshot', id, '--to', node.datadir]);
    t.is(restore.code, 1);
    t.regex(restore.stderr, /db\.sql\.zst/);
    rmSync(node.dir, { recursive: true, force: true });
  }),
);

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test.serial(`${sig} mid-snapshot: the run stops within seconds with one line, resyncs the node, leaves nothing behind`, (t) =>
    withClusterLock(async () => {
      const repo = testRepo('n1');
      const run = startLifeboat(repo, ['snapshot', '--db-only']);
      t.teardown(async () => {
        // a failed assertion must not leave a run behind holding node 1 desynced
        if (run.child.exitCode !== null || run.child.signalCode !== null) return;
        run.child.kill('SIGINT');
        const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
        await run.done;
        clearTimeout(timer);
      });
      // mariadb-backup can take a while to start streaming on a busy machine
      let uploads = 0;
      for (const until = Date.now() + 120_000; uploads === 0 && Date.now() < until; ) {
        uploads = await danglingUploads(repo.prefix);
        if (uploads === 0) await sleep(50);
      }
      t.true(uploads > 0, 'stopped while a multipart upload was in flight');
      const children = childrenOf(run.child.pid ?? -1);
      const signalled = Date.now();
      run.child.kill(sig);
      const done = await run.done;
      const seconds = (Date.now() - signalled) / 1000;
      t.log(`exited ${seconds.toFixed(1)} s after ${sig}`);
      t.true(seconds < 5, `exited ${seconds.toFixed(1)} s after ${sig}`);
      t.is(done.code, 130, done.stderr.slice(-1000));
      t.notRegex(done.stderr, /\n\s+at /, 'no stack trace');
      t.is(done.stderr.trim().split('\n').at(-1), `lifeboat: snapshot: stopped (${sig} received); nothing was committed`);
      t.deepEqual(
        children.filter((c) => running(c.pid)).map((c) => c.name),
        [],
        'the children were killed',
      );
      t.false(await desynced(1), 'desync undone before exiting');
      t.is(await danglingUploads(repo.prefix), 0, 'the upload was aborted');
      t.deepEqual(await listed(repo), []);
    }),
  );
}

test.serial('a snapshot on a node whose applier is stuck is refused naming the reason, without a desync', (t) =>
  withClusterLock(() =>
    withStuckApplier(3, async () => {
      const repo = testRepo('n3', {
        extra: { database: { user: need('GALERA_USER'), password: { env: 'LIFEBOAT_TEST_DB_PASSWORD' }, catchUpSeconds: 1 } },
      });
      const started = Date.now();
      const run = await lifeboat(repo, ['snapshot', '--db-only']);
      t.true(Date.now() - started < 10_000, `${Date.now() - started} ms`);
      t.is(run.code, 1, run.stderr);
      t.regex(
        run.stderr,
        /lifeboat: node 'n3': behind the cluster: last committed \d+, node 'n[12]' at \d+, not caught up within 1 s/,
      );
      t.false(await desynced(3));
      t.deepEqual(await listed(repo), []);
    }),
  ),
);

/** The processes whose parent is `pid`, with their command names (from /proc). */
function childrenOf(pid: number): { pid: number; name: string }[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => ({ pid: Number(d), stat: procStat(Number(d)) }))
    .map(({ pid: p, stat }) => ({ pid: p, m: /^\d+ \((.*)\) \S+ (\d+)/.exec(stat) }))
    .filter(({ m }) => Number(m?.[2]) === pid)
    .map(({ pid: p, m }) => ({ pid: p, name: m?.[1] ?? '' }));
}

/** Still running (a zombie, exited but not reaped, counts as gone). */
function running(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== '' && !/\) Z /.test(stat);
}

function procStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}
