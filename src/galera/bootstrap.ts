import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { connect } from './sql.js';
import { isSyncedPrimary, type WsrepStatus, wsrepStatus } from './wsrep.js';

export interface BootstrapOptions {
  /** my.cnf of the new node; its [mysqld] section must name `socket` */
  readonly defaultsFile: string;
  readonly datadir: string;
  readonly user: string;
  readonly password?: string;
  /** OS user the server runs as when started by root (default `mysql`) */
  readonly runAs?: string;
  readonly binary?: string;
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface BootstrapResult {
  readonly pid: number;
  readonly socket: string;
  readonly status: WsrepStatus;
}

/** The `socket` of a my.cnf's [mysqld] (or [mariadbd]) section. */
export async function socketOf(defaultsFile: string): Promise<string> {
  let section = '';
  for (const raw of (await readFile(defaultsFile, 'utf8')).split('\n')) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1]) section = header[1];
    const m = /^socket\s*=\s*(\S+)/.exec(line);
    if (m?.[1] && (section === 'mysqld' || section === 'mariadbd' || section === 'server')) return m[1];
  }
  throw new PermanentError(`${defaultsFile}: no socket= in the [mysqld] section`);
}

/**
 * Starts a server on a restored datadir as the first node of a new cluster
 * (`--wsrep-new-cluster`), detached, and waits until it is Synced in a Primary component.
 */
export async function bootstrapNewCluster(options: BootstrapOptions): Promise<BootstrapResult> {
  const logger = options.logger ?? nullLogger;
  const socket = await socketOf(options.defaultsFile);
  const asRoot = process.getuid?.() === 0;
  const args = [
    `--defaults-file=${options.defaultsFile}`,
    `--datadir=${options.datadir}`,
    '--wsrep-new-cluster',
    ...(asRoot ? [`--user=${options.runAs ?? 'mysql'}`] : []),
  ];
  const child = spawn(options.binary ?? 'mariadbd', args, { detached: true, stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
  });
  child.once('error', (err) => {
    exited = err.message;
  });
  child.unref();
  const deadline = Date.now() + (options.timeoutMs ?? 180_000);
  let last = 'not reachable';
  while (Date.now() < deadline) {
    if (exited) throw new PermanentError(`mariadbd on '${options.datadir}': ${exited} while bootstrapping; see its error log`);
    try {
      const sql = await connect({
        name: 'new-cluster',
        socket,
        user: options.user,
        ...(options.password === undefined ? {} : { password: options.password }),
      });
      try {
        const status = await wsrepStatus(sql);
        last = `${status.clusterStatus}/${status.localState}`;
        if (isSyncedPrimary(status)) {
          logger.info('new cluster bootstrapped', { pid: child.pid, socket });
          return { pid: child.pid ?? -1, socket, status };
        }
      } finally {
        await sql.close();
      }
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(300);
  }
  throw new PermanentError(
    `mariadbd on '${options.datadir}': not Synced after ${Math.round((options.timeoutMs ?? 180_000) / 1000)} s (${last})`,
  );
}
