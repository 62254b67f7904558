import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { run, spawnService } from '../lib/child-process.js';
import { PermanentError } from '../lib/errors.js';
import { connect, type SqlClient } from './sql.js';

export interface ScratchServer {
  readonly socket: string;
  /** a connection to the server (any user: it runs without grant tables, reachable only by its private socket) */
  client(): Promise<SqlClient>;
  /** Stops the server and waits for it to exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

export interface ScratchOptions {
  /** a prepared datadir (a restored physical snapshot), owned by `runAs` when running as root */
  readonly datadir: string;
  /** a private directory (mode 0700, the server's own) for the socket, pid file and error log; its parents must let `runAs` through */
  readonly dir: string;
  readonly runAs?: string;
  readonly binary?: string;
  readonly timeoutMs?: number;
  readonly bufferPool?: string;
  /** niced and in the idle I/O class (it shares the hardware with Production) */
  readonly lowPriority?: boolean;
}

/**
 * A throwaway mariadbd on a restored datadir, to read a snapshot with SQL: no network, no
 * Galera, no binlog, no grant tables (its only door is a socket in a private directory); it dies
 * with Lifeboat, even by SIGKILL, and `stop` ends it cleanly.
 */
export async function startScratchServer(options: ScratchOptions): Promise<ScratchServer> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await run('chown', [options.runAs ?? 'mysql', options.dir], { name: 'chown' });
  const socket = join(options.dir, 'mariadbd.sock');
  const args = [
    '--no-defaults',
    `--datadir=${options.datadir}`,
    `--socket=${socket}`,
    `--pid-file=${join(options.dir, 'mariadbd.pid')}`,
    `--log-error=${join(options.dir, 'error.log')}`,
    `--tmpdir=${options.dir}`,
    '--skip-networking',
    '--skip-grant-tables',
    '--wsrep-on=OFF',
    '--skip-log-bin',
    '--skip-slave-start',
    '--event-scheduler=OFF',
    `--innodb-buffer-pool-size=${options.bufferPool ?? '128M'}`,
  ];
  // not detached: it dies with Lifeboat (a killed sync leaves no server on the scratch datadir)
  const child = spawnService(options.binary ?? 'mariadbd', args, {
    name: 'mariadbd (scratch)',
    runAs: options.runAs ?? 'mysql',
    ...(options.lowPriority ? { lowPriority: true } : {}),
  });
  let exited: string | undefined;
  const gone = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    }),
  );
  child.once('error', (err) => {
    exited = err.message;
  });
  const client = (): Promise<SqlClient> => connect({ name: 'snapshot', socket, user: 'root' });
  const stop = async (graceMs = 30_000): Promise<void> => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let last = 'not reachable';
  while (Date.now() < deadline) {
    if (exited)
      throw new PermanentError(`mariadbd on '${options.datadir}': ${exited} at start-up; see ${join(options.dir, 'error.log')}`);
    try {
      const sql = await client();
      await sql.close();
      return { socket, client, stop };
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  await stop(1000);
  throw new PermanentError(
    `mariadbd on '${options.datadir}': not answering after ${Math.round((options.timeoutMs ?? 120_000) / 1000)} s (${last})`,
  );
}

/**
 * Kills a scratch server a killed Lifeboat left on `dir` (found by its pid file, and only if its
 * command line names `dir`), so a new one can use the datadir.
 */
export async function stopLeftoverScratchServer(dir: string): Promise<boolean> {
  const pid = Number((await readFile(join(dir, 'mariadbd.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(dir)) return false;
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) !== ''; i++) await sleep(50);
  return true;
}
