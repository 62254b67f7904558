import { type Readable, Transform } from 'node:stream';
import { type PipelineStage, spawnPipeline, spawnSource } from '../lib/child-process.js';
import { PermanentError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { parseBackupLog, parseDumpPositions } from './positions.js';
import type { GaleraPositionInfo } from './types.js';

export interface LocalServer {
  readonly socket: string;
  readonly user: string;
  readonly password?: string;
  /** the server's datadir (mariadb-backup reads it directly) */
  readonly datadir?: string;
}

export interface BackupStream {
  /** the archive bytes; errors if the tool fails in any way */
  readonly stream: Readable;
  /** the bytes are the archive compressed by the `compressWith` command */
  readonly compressed?: boolean;
  /** positions captured from the stream; valid once it has ended */
  position(): GaleraPositionInfo;
}

export interface BackupOptions {
  readonly binary?: string;
  readonly signal?: AbortSignal;
  /** the tool is killed and the stream fails past this */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

function clientEnv(server: LocalServer): NodeJS.ProcessEnv {
  // The password goes through the environment, never the command line (visible in ps).
  return server.password === undefined ? { ...process.env } : { ...process.env, MYSQL_PWD: server.password };
}

/**
 * `mariadb-backup --backup --galera-info --stream=xbstream` of the local server, piped straight
 * into `compressWith` when given (the archive then never passes through this process). Any
 * failure of either (exit code, signal, `[ERROR]` lines) fails the stream. The Galera and binlog
 * positions are the ones the tool reports writing into the archive (`xtrabackup_galera_info`,
 * `xtrabackup_binlog_info`), read from its log.
 */
export function physicalBackup(
  server: LocalServer,
  options: BackupOptions & { tmpdir?: string; compressWith?: PipelineStage } = {},
): BackupStream {
  const logger = options.logger ?? nullLogger;
  const args = [
    '--backup',
    '--galera-info',
    '--stream=xbstream',
    `--socket=${server.socket}`,
    `--user=${server.user}`,
    ...(server.datadir ? [`--datadir=${server.datadir}`] : []),
    ...(options.tmpdir ? [`--target-dir=${options.tmpdir}`, `--tmpdir=${options.tmpdir}`] : []),
  ];
  const log: string[] = [];
  const backup: PipelineStage = {
    command: options.binary ?? 'mariadb-backup',
    args,
    opts: {
      name: 'mariadb-backup',
      env: clientEnv(server),
      failOn: /\[ERROR\]|\bFATAL\b/,
      onStderrLine: (line) => {
        if (/Galera info|binlog position/.test(line)) log.push(line);
        logger.debug('mariadb-backup', { line });
      },
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    },
  };
  const stream = spawnPipeline(options.compressWith ? [backup, options.compressWith] : [backup], options.signal);
  return {
    stream,
    ...(options.compressWith ? { compressed: true } : {}),
    position: () => {
      const position = parseBackupLog(log.join('\n'));
      if (!position) throw new PermanentError('mariadb-backup: it reported no Galera position (no "Writing Galera info" line)');
      return position;
    },
  };
}

/**
 * `mariadb-dump --single-transaction --gtid --master-data=2 --routines --triggers --events` of
 * the given databases, then `epilogue` (SQL appended after the dump, e.g. the accounts its
 * objects need). GTID and binlog position come from the dump's own comments; the Galera position
 * stays null: the dump's consistent point is taken inside its session, which reports binlog
 * coordinates and GTID but not `wsrep_last_committed`, and the wsrep domain's GTID seqno is not
 * the Galera seqno.
 */
export function logicalDump(
  server: LocalServer,
  databases: readonly string[],
  options: BackupOptions & { epilogue?: string } = {},
): BackupStream {
  const logger = options.logger ?? nullLogger;
  if (databases.length === 0) throw new PermanentError('mariadb-dump: no databases to dump');
  const args = [
    `--socket=${server.socket}`,
    `--user=${server.user}`,
    '--single-transaction',
    '--quick',
    '--gtid',
    '--master-data=2',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--default-character-set=utf8mb4',
    '--databases',
    ...databases,
  ];
  const source = spawnSource(options.binary ?? 'mariadb-dump', args, {
    name: 'mariadb-dump',
    env: clientEnv(server),
    failOn: /^mariadb-dump: (Got error|Couldn't|Error)/,
    onStderrLine: (line) => logger.debug('mariadb-dump', { line }),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const EDGE = 64 * 1024;
  let head = '';
  let tail: Buffer = Buffer.alloc(0);
  const sniff = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (head.length < EDGE) head += chunk.toString('utf8', 0, Math.min(chunk.length, EDGE));
      tail = chunk.length >= EDGE ? chunk.subarray(-EDGE) : Buffer.concat([tail, chunk]).subarray(-EDGE);
      cb(null, chunk);
    },
    flush(cb) {
      cb(null, options.epilogue ? Buffer.from(options.epilogue) : undefined);
    },
  });
  source.on('error', (err) => sniff.destroy(err));
  sniff.on('close', () => source.destroy());
  source.pipe(sniff);
  return { stream: sniff, position: () => ({ galera: null, ...parseDumpPositions(`${head}\n${tail.toString('utf8')}`) }) };
}
