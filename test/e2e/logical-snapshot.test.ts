import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { accountStatements } from '../../src/galera/index.js';
import { nullLogger } from '../../src/lib/logger.js';
import type { Manifest } from '../../src/repo/manifest.js';
import { awsEnv, startDbRecipe } from '../files/recipe.js';
import { mariadb, nodeClient, scratchNode, stopServer, withClusterLock } from '../helpers/galera.js';
import { lifeboat, removeRepo, testRepo } from '../helpers/lifeboat.js';
import { need, s3Facts, uniqueName } from '../helpers/testbed.js';

// A logical snapshot of a database whose view, trigger, procedure and event have a non-root
// definer loads into a fresh server through the README's logical recipe, and the objects work
// there (no ERROR 1449); the manifest carries the dump's GTID and binlog position (the GTID is in
// the dump's last lines: the filler table puts them well past its first 64 KiB).

const db = uniqueName('lblogical').replaceAll('-', '_');
const definer = `lbdef_${db.slice(-6)}`;

test.before(() => {
  mariadb(
    need('GALERA_NODE1_SOCKET'),
    `CREATE DATABASE ${db};
     CREATE USER '${definer}'@'localhost' IDENTIFIED BY 'definer-pw-1';
     USE ${db};
     GRANT SELECT, INSERT, EXECUTE, TRIGGER ON ${db}.* TO '${definer}'@'localhost';
     CREATE TABLE ${db}.items (id INT PRIMARY KEY, name VARCHAR(40)) ENGINE=InnoDB;
     CREATE TABLE ${db}.audit (id INT AUTO_INCREMENT PRIMARY KEY, item INT) ENGINE=InnoDB;
     GRANT UPDATE (item) ON ${db}.audit TO '${definer}'@'localhost';
     INSERT INTO ${db}.items SELECT seq, CONCAT('item-', seq) FROM seq_1_to_100;
     CREATE TABLE ${db}.filler (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB;
     INSERT INTO ${db}.filler SELECT seq, REPEAT(MD5(seq), 4) FROM seq_1_to_2000;
     CREATE DEFINER='${definer}'@'localhost' SQL SECURITY DEFINER VIEW ${db}.named AS SELECT id, name FROM ${db}.items WHERE id <= 10;
     CREATE DEFINER='${definer}'@'localhost' TRIGGER ${db}.items_ai AFTER INSERT ON ${db}.items FOR EACH ROW INSERT INTO ${db}.audit (item) VALUES (NEW.id);
     CREATE DEFINER='${definer}'@'localhost' PROCEDURE ${db}.item_count() SQL SECURITY DEFINER SELECT COUNT(*) FROM ${db}.items;
     CREATE DEFINER='${definer}'@'localhost' EVENT ${db}.tidy ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM ${db}.audit WHERE item < 0;`,
  );
});

test.after.always(() => {
  try {
    mariadb(need('GALERA_NODE1_SOCKET'), `DROP DATABASE IF EXISTS ${db}; DROP USER IF EXISTS '${definer}'@'localhost'`);
  } catch {
    // the testbed may already be gone
  }
});

/** SQL as the server's root over its unix socket (socket authentication: this process runs as root). */
function asRoot(socket: string, sql: string): { code: number | null; out: string } {
  const r = spawnSync('mariadb', ['--no-defaults', `--socket=${socket}`, '--user=root', '-N', '-B', '-e', sql], {
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** A fresh, empty, standalone server on a scratch socket and port; stopped by the returned function. */
async function freshServer(): Promise<{ socket: string; dir: string; stop: () => Promise<void> }> {
  const node = scratchNode();
  const install = spawnSync(
    'mariadb-install-db',
    ['--user=mysql', `--datadir=${node.datadir}`, '--auth-root-authentication-method=socket', '--skip-test-db'],
    { encoding: 'utf8' },
  );
  if (install.status !== 0) throw new Error(`mariadb-install-db: ${install.stderr}`);
  const server = spawn('mariadbd', [`--defaults-file=${node.cnf}`, '--user=mysql', '--wsrep-on=OFF'], { stdio: 'ignore' });
  const stop = async () => {
    if (server.pid) await stopServer(server.pid);
    rmSync(node.dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    if (asRoot(node.socket, 'SELECT 1').code === 0) return { socket: node.socket, dir: node.dir, stop };
    if (server.exitCode !== null) break;
    await sleep(100);
  }
  await stop();
  throw new Error(`scratch mariadbd did not start: ${readFileSync(join(node.dir, 'error.log'), 'utf8').slice(-2000)}`);
}

test.serial('a logical snapshot carries its definers and its position; the README recipe loads it into a fresh server', (t) =>
  withClusterLock(async () => {
    const repo = testRepo('n1');
    t.teardown(() => removeRepo(repo));
    const [before] = mariadb(need('GALERA_NODE1_SOCKET'), 'SELECT @@gtid_binlog_pos').trim().split('\n');
    const snap = await lifeboat(repo, ['--json', 'snapshot', '--db-only', '--logical']);
    t.is(snap.code, 0, snap.stderr);
    const result = JSON.parse(snap.stdout) as { id: string; database: NonNullable<Manifest['parts']['database']> };
    const domain = (gtid: string | null | undefined) => Number(/(?:^|,)100-\d+-(\d+)/.exec(gtid ?? '')?.[1]);
    t.true(domain(result.database.gtid) >= domain(before), `gtid ${result.database.gtid} (before: ${before})`);
    t.regex(result.database.binlog?.file ?? '', /^mariadb-bin\.\d+$/);
    t.true((result.database.binlog?.position ?? 0) > 0);
    t.is(result.database.galera, null, 'a logical dump has no consistent Galera seqno');

    const server = await freshServer();
    try {
      // the recipe's `mariadb` finds the scratch server through ~/.my.cnf, as the README says
      const home = join(server.dir, 'home');
      spawnSync('mkdir', ['-p', home]);
      writeFileSync(join(home, '.my.cnf'), `[client]\nsocket=${server.socket}\nuser=root\n`);
      const s3 = s3Facts();
      const recipe = startDbRecipe(
        'db-restore-logical',
        { REPO: `s3://${s3.bucket}/${repo.prefix}/${repo.cluster}`, ENDPOINT: s3.endpoint, ID: result.id },
        { ...awsEnv(), HOME: home },
      );
      const run = await recipe.done;
      t.is(run.code, 0, run.stderr);

      t.is(asRoot(server.socket, `SELECT COUNT(*) FROM ${db}.named`).out.trim(), '10', 'view');
      t.is(asRoot(server.socket, `CALL ${db}.item_count()`).out.trim(), '100', 'procedure');
      const insert = asRoot(server.socket, `INSERT INTO ${db}.items VALUES (101, 'new'); SELECT item FROM ${db}.audit`);
      t.is(insert.out.trim(), '101', `trigger: ${insert.out}`);
      t.is(
        asRoot(server.socket, `SELECT DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${db}'`).out.trim(),
        `${definer}@localhost`,
      );
      const grants = asRoot(server.socket, `SHOW GRANTS FOR '${definer}'@'localhost'`).out;
      t.regex(grants, /GRANT SELECT, INSERT, EXECUTE, TRIGGER ON `lblogical_\w+`\.\* TO/);
      t.regex(grants, /GRANT UPDATE \(`item`\) ON `lblogical_\w+`\.`audit` TO/, 'a column grant after its table exists');
      const login = spawnSync(
        'mariadb',
        ['--no-defaults', `--socket=${server.socket}`, `--user=${definer}`, '-N', '-B', '-e', `SELECT COUNT(*) FROM ${db}.items`],
        { encoding: 'utf8', env: { ...process.env, MYSQL_PWD: 'definer-pw-1' } },
      );
      t.is(login.stdout.trim(), '101', `the account keeps its password: ${login.stderr}`);
      t.is(asRoot(server.socket, "SELECT COUNT(*) FROM mysql.user WHERE User = 'lifeboat'").out.trim(), '0', 'definers only');

      // `all`: every account but the server's own, loadable over an existing root without changing it
      const live = await nodeClient(1);
      const all = await accountStatements(live, [], 'all', nullLogger).finally(() => live.close());
      t.true(all.accounts.includes('lifeboat@localhost') && all.accounts.includes('root@localhost'), all.accounts.join(' '));
      t.false(all.accounts.includes('mariadb.sys@localhost'));
      const load = spawnSync('mariadb', ['--no-defaults', `--socket=${server.socket}`, '--user=root'], {
        input: all.sql,
        encoding: 'utf8',
      });
      t.is(load.status, 0, load.stderr);
      const lifeboatLogin = spawnSync(
        'mariadb',
        ['--no-defaults', `--socket=${server.socket}`, `--user=${need('GALERA_USER')}`, '-e', 'SELECT 1'],
        {
          encoding: 'utf8',
          env: { ...process.env, MYSQL_PWD: need('GALERA_PASSWORD') },
        },
      );
      t.is(lifeboatLogin.status, 0, lifeboatLogin.stderr);
      t.is(asRoot(server.socket, 'SELECT 1').code, 0, 'root keeps socket authentication');
    } finally {
      await server.stop();
    }
  }),
);
