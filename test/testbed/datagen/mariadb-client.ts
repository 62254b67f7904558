/**
 * Thin wrappers around the `mariadb` command-line client, used for bulk
 * loading (streamed stdin) and for small queries. The password is passed via
 * MYSQL_PWD so it does not appear in the process list.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { SqlSink } from './sql.js';

export interface MariadbTarget {
  socket: string;
  user: string;
  password: string;
}

const STDERR_KEEP = 8192;

/** A running client reading SQL from stdin. */
export interface SqlStream extends SqlSink {
  /** Closes stdin; resolves when the client exited 0, rejects (with its stderr) otherwise. */
  end(): Promise<void>;
}

function clientArgs(target: MariadbTarget, database: string | undefined): string[] {
  const args = [
    `--socket=${target.socket}`,
    `--user=${target.user}`,
    '--default-character-set=utf8mb4',
    '--max-allowed-packet=256M',
    '--batch',
    '--skip-column-names',
  ];
  if (database !== undefined) args.push(database);
  return args;
}

function spawnClient(target: MariadbTarget, database: string | undefined) {
  return spawn('mariadb', clientArgs(target, database), {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, MYSQL_PWD: target.password },
  });
}

/**
 * Starts `mariadb` on `database` and returns a sink for its stdin.
 * write() waits for 'drain' (backpressure) and rejects as soon as the client
 * has failed; end() must be awaited to learn the final outcome.
 */
export function openSqlStream(target: MariadbTarget, database: string | undefined): SqlStream {
  const child = spawnClient(target, database);
  let stderr = '';
  let failure: Error | null = null;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.stdout.resume();
  child.stdin.on('error', () => {
    // EPIPE after the client died; the exit handler reports the real cause.
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`mariadb client exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
  exited.catch((err: unknown) => {
    failure = err instanceof Error ? err : new Error(String(err));
  });
  const exitedEarly = exited.then(() => {
    throw new Error('mariadb client exited before the input was complete');
  });
  exitedEarly.catch(() => {});

  /** The client's own exit error (with stderr) explains a broken pipe better than EPIPE does. */
  const explain = async (err: unknown): Promise<unknown> => {
    await exited.catch(() => {});
    return failure ?? err;
  };

  return {
    async write(sql: string): Promise<void> {
      if (failure !== null) throw failure;
      if (!child.stdin.write(sql)) {
        try {
          await Promise.race([once(child.stdin, 'drain'), exitedEarly]);
        } catch (err) {
          throw await explain(err);
        }
      }
    },
    async end(): Promise<void> {
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * Runs `sql` in a fresh client and returns its stdout (tab-separated, no
 * header row). Rejects with the client's stderr on a non-zero exit.
 */
export async function runSql(target: MariadbTarget, sql: string, database?: string): Promise<string> {
  const child = spawnClient(target, database);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_KEEP);
  });
  child.stdin.on('error', () => {});
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  child.stdin.end(sql);
  const code = await exited;
  if (code !== 0) throw new Error(`mariadb client exited with ${code}: ${stderr.trim()}`);
  return stdout;
}
