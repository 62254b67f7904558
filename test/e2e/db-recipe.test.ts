import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { connect, type SqlClient, wsrepStatus } from '../../src/galera/index.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { awsEnv, startDbRecipe } from '../files/recipe.js';
import { mariadb, scratchNode, stopServer, withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeRepo, testRepo } from '../helpers/lifeboat.js';
import { need, s3Facts, uniqueName } from '../helpers/testbed.js';

// The README's stock-tool recipe for a physical snapshot, run by bash exactly as written against
// Ceph RGW, brings up a server on a scratch socket and port that holds the snapshot's rows and
// continues its Galera history.

const db = uniqueName('lbrecipe').replaceAll('-', '_');

test.before(() => {
  mariadb(
    need('GALERA_NODE1_SOCKET'),
    `CREATE DATABASE ${db};
     USE ${db};
     CREATE TABLE ${db}.rows_a (id INT PRIMARY KEY, body VARCHAR(64)) ENGINE=InnoDB;
     INSERT INTO ${db}.rows_a SELECT seq, MD5(seq) FROM seq_1_to_5000;`,
  );
});

test.after.always(() => {
  try {
    mariadb(need('GALERA_NODE1_SOCKET'), `DROP DATABASE IF EXISTS ${db}`);
  } catch {
    // the testbed may already be gone
  }
});

function serverLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000);
  } catch {
    return '(no server log)';
  }
}

async function connectWhenUp(socket: string, done: () => boolean): Promise<SqlClient> {
  for (let i = 0; i < 600 && !done(); i++) {
    try {
      return await connect({ name: 'restored', socket, user: need('GALERA_USER'), password: need('GALERA_PASSWORD') });
    } catch {
      await sleep(100);
    }
  }
  throw new Error('the restored server did not come up');
}

test.serial('the README stock-tool recipe restores a physical snapshot verbatim; mariadbd serves it', (t) =>
  withClusterLock(async () => {
    const repo = testRepo('n2');
    t.teardown(() => removeRepo(repo));
    const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only']);
    t.is(snap.code, 0, snap.stderr);
    const result = JSON.parse(snap.stdout) as { id: string; database: NonNullable<Manifest['parts']['database']> };

    const node = scratchNode();
    const s3 = s3Facts();
    const recipe = startDbRecipe(
      'db-restore-physical',
      {
        REPO: `s3://${s3.bucket}/${repo.prefix}/${repo.cluster}`,
        ENDPOINT: s3.endpoint,
        ID: result.id,
        DATADIR: node.datadir,
        CNF: node.cnf,
      },
      awsEnv(),
    );
    let exited = false;
    void recipe.done.then(() => {
      exited = true;
    });
    try {
      const restored = await connectWhenUp(node.socket, () => exited).catch((err: Error) => {
        throw new Error(`${err.message}: ${recipe.output().slice(-3000)}`);
      });
      try {
        const [row] = await restored.query<{ n: string }>(`SELECT COUNT(*) AS n FROM ${db}.rows_a`);
        t.is(Number(row?.n), 5000);
        const status = await wsrepStatus(restored);
        t.is(status.stateUuid, result.database.galera?.uuid ?? '', 'continues the recorded cluster history');
        // Galera 4 counts the new cluster's first view change as an event: seqno + 1 at most
        const seqno = result.database.galera?.seqno ?? -2;
        t.true(
          status.lastCommitted - seqno >= 0 && status.lastCommitted - seqno <= 1,
          `at ${status.lastCommitted}, recorded ${seqno}`,
        );
      } finally {
        await restored.close();
      }
      // what the recipe says the file holds is what it holds
      t.regex(recipe.output(), /[0-9a-f]{8}-[0-9a-f-]{27}:\d+ \d+/, 'xtrabackup_galera_info: uuid:seqno domain');
      // the manifest's position (from mariadb-backup's log) is the one its archive holds
      const recorded = `${result.database.galera?.uuid}:${result.database.galera?.seqno} `;
      t.true(recipe.output().includes(recorded), `xtrabackup_galera_info holds ${recorded}`);
    } finally {
      // the recipe ends in mariadbd in the foreground: stopping the server ends it
      let pid = 0;
      try {
        pid = Number(readFileSync(join(node.dir, 'mariadbd.pid'), 'utf8').trim());
      } catch {
        recipe.child.kill('SIGTERM');
      }
      if (pid > 0) await stopServer(pid);
      const run = await recipe.done;
      t.is(run.code, 0, `${run.stderr.slice(-1500)}\n${serverLog(node.dir)}`);
      rmSync(node.dir, { recursive: true, force: true });
    }
  }),
);
