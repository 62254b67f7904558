import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type SqlClient } from '../../src/galera/index.js';
import { need, testbedDir } from './testbed.js';

export function nodeClient(n: 1 | 2 | 3, database?: string): Promise<SqlClient> {
  return connect({
    name: `n${n}`,
    socket: need(`GALERA_NODE${n}_SOCKET`),
    user: need('GALERA_USER'),
    password: need('GALERA_PASSWORD'),
    ...(database ? { database } : {}),
  });
}

export interface ScratchNode {
  readonly dir: string;
  readonly datadir: string;
  readonly cnf: string;
  readonly socket: string;
}

let nextPort = 13_390;

/**
 * A my.cnf for a throwaway single-node Galera cluster on loopback (ports below 32768), used to
 * bootstrap restored datadirs. Never joins the testbed cluster.
 */
export function scratchNode(): ScratchNode {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-node-'));
  chmodSync(dir, 0o755);
  const datadir = join(dir, 'data');
  const socket = join(dir, 'mariadbd.sock');
  const port = nextPort++;
  mkdirSync(join(dir, 'tmp'));
  chmodSync(join(dir, 'tmp'), 0o1777);
  const cnf = join(dir, 'my.cnf');
  writeFileSync(
    cnf,
    `[mysqld]
datadir=${datadir}
tmpdir=${join(dir, 'tmp')}
socket=${socket}
pid-file=${join(dir, 'mariadbd.pid')}
log-error=${join(dir, 'error.log')}
bind-address=127.0.0.1
port=${port}
innodb_buffer_pool_size=128M
innodb_autoinc_lock_mode=2
binlog_format=ROW
log_bin=mariadb-bin
log_slave_updates=ON
server_id=1
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=lifeboat-restored-${port}
wsrep_cluster_address=gcomm://
wsrep_node_address=127.0.0.1:${port + 1000}
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${port + 1000};ist.recv_addr=127.0.0.1:${port + 2000}"
wsrep_gtid_mode=ON
wsrep_gtid_domain_id=100
`,
  );
  // The server runs as mysql and writes its socket, pid file and log here.
  if (process.getuid?.() === 0) spawnSync('chown', ['mysql:mysql', dir, join(dir, 'tmp')]);
  return { dir, datadir, cnf, socket };
}

/** Stops a server started from a scratch node and waits for it to exit. */
export async function stopServer(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 300; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(100);
  }
  process.kill(pid, 'SIGKILL');
}

/** Runs SQL through the mariadb client on a socket (for bulk setup). */
export function mariadb(socket: string, sql: string): string {
  const r = spawnSync('mariadb', [`--socket=${socket}`, `--user=${need('GALERA_USER')}`, '-N', '-B', '-e', sql], {
    env: { ...process.env, MYSQL_PWD: need('GALERA_PASSWORD') },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`mariadb: ${r.stderr}`);
  return r.stdout;
}

/**
 * Serializes tests that desync testbed nodes (snapshots, daemons) across ava's worker processes:
 * a lock file in the testbed directory holding the owner's pid (a dead owner's lock is taken over).
 */
export async function withClusterLock<T>(fn: () => Promise<T>): Promise<T> {
  const path = join(testbedDir(), 'test-cluster.lock');
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const owner = Number(readFileSync(path, 'utf8').trim() || 0);
      let alive = false;
      try {
        if (owner > 0) process.kill(owner, 0);
        alive = owner > 0;
      } catch {
        alive = false;
      }
      if (!alive) rmSync(path, { force: true });
      else await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
