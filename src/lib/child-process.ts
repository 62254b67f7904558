import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Duplex, Readable } from 'node:stream';
import { AbortedError, PermanentError } from './errors.js';

export interface ChildOptions {
  /** name used in error messages, e.g. `zstd` or `mariadb-backup` */
  readonly name?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stderr lines matching this fail the stage even when the exit code is 0 */
  readonly failOn?: RegExp;
  /** called for each stderr line (for logging) */
  readonly onStderrLine?: (line: string) => void;
  readonly signal?: AbortSignal;
  /** exit codes besides 0 that count as success (e.g. `getfattr` exits 1 when some files are gone) */
  readonly okExitCodes?: readonly number[];
  /** rewrites the failure error (e.g. to classify a decoder's complaint as an IntegrityError) */
  readonly mapError?: (err: Error) => Error;
  /** the child is killed and the stage fails when it runs longer than this */
  readonly timeoutMs?: number;
  /**
   * the user the child runs as when this process is root (set by setpriv before the death signal:
   * a child that changed user itself, like `mariadbd --user`, would lose it)
   */
  readonly runAs?: string;
  /** runs it niced (10) and in the idle I/O class: for work beside Production on shared hardware */
  readonly lowPriority?: boolean;
}

const STDERR_TAIL = 4096;

/**
 * Tracks a child until exit. Resolves only on exit code 0 with no `failOn` line; rejects with a
 * PermanentError naming the command, the code or signal and the tail of stderr otherwise.
 */
function supervise(child: ChildProcess, command: string, opts: ChildOptions): Promise<void> {
  const name = opts.name ?? command;
  const mapped = (err: Error): Error => (opts.mapError ? opts.mapError(err) : err);
  let tail = '';
  let partial = '';
  let badLine: string | undefined;
  const onLine = (line: string): void => {
    if (opts.failOn?.test(line) && badLine === undefined) badLine = line;
    opts.onStderrLine?.(line);
  };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    tail = (tail + text).slice(-STDERR_TAIL);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  let overdue = false;
  const timer =
    opts.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          overdue = true;
          kill(child);
        }, opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ENOENT' ? `command not found: ${command}` : err.message;
      reject(mapped(new PermanentError(`${name}: ${why}`, { cause: err })));
    });
    child.once('close', (code, signal) => {
      if (partial) onLine(partial);
      clearTimeout(timer);
      const detail = tail.trim() ? `: ${tail.trim().split('\n').slice(-5).join(' | ')}` : '';
      if (overdue)
        reject(
          mapped(new PermanentError(`${name}: did not finish within its deadline of ${(opts.timeoutMs ?? 0) / 1000} s (killed)`)),
        );
      else if (signal) reject(mapped(new PermanentError(`${name}: killed by ${signal}${detail}`)));
      else if (code !== 0 && !opts.okExitCodes?.includes(code ?? -1))
        reject(mapped(new PermanentError(`${name}: exited with code ${code}${detail}`)));
      else if (badLine !== undefined) reject(mapped(new PermanentError(`${name}: reported an error: ${badLine.trim()}`)));
      else resolve();
    });
  });
}

/**
 * Children get SIGKILL when this process dies, even by SIGKILL (`setpriv --pdeathsig`, i.e.
 * PR_SET_PDEATHSIG, where util-linux has it): a child that is not writing would never notice its
 * closed pipes. A command that cannot be found is spawned unwrapped, so it fails as itself.
 */
function start(name: string, argv: readonly string[], opts: ChildOptions, stdin: 'pipe' | 'ignore' | Readable): ChildProcess {
  const [command, args] = opts.lowPriority ? ['nice', ['-n', '10', 'ionice', '-c', '3', name, ...argv]] : [name, argv];
  const options = {
    stdio: [stdin, 'pipe', 'pipe'] as ['pipe' | 'ignore' | Readable, 'pipe', 'pipe'],
    env: opts.env ?? process.env,
    cwd: opts.cwd,
  };
  const setpriv = pdeathsigWrapper();
  const resolved = setpriv ? resolveCommand(command, opts.env ?? process.env) : undefined;
  const asUser =
    opts.runAs && process.getuid?.() === 0 ? [`--reuid=${opts.runAs}`, `--regid=${opts.runAs}`, '--init-groups'] : [];
  if (asUser.length > 0 && !setpriv)
    throw new PermanentError(`${opts.name ?? name}: running as '${opts.runAs}' needs setpriv (util-linux)`);
  if (!setpriv || !resolved) return spawn(command, args, options);
  return spawn(setpriv, [...asUser, '--pdeathsig', 'KILL', '--', resolved, ...args], options);
}

/** A long-running child (a scratch server) that dies with this process, even by SIGKILL; its output is discarded. */
export function spawnService(command: string, args: readonly string[], opts: ChildOptions = {}): ChildProcess {
  const child = start(command, args, opts, 'ignore');
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

let wrapper: string | null | undefined;

/** The path of a `setpriv` that knows `--pdeathsig`, or null; looked up once. */
function pdeathsigWrapper(): string | null {
  if (wrapper !== undefined) return wrapper;
  const path = process.platform === 'linux' ? resolveCommand('setpriv', process.env) : undefined;
  wrapper =
    path && /--pdeathsig/.test(spawnSync(path, ['--help'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '') ? path : null;
  return wrapper;
}

/** The executable a command name runs (looked up on PATH like execvp), or undefined. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter((dir) => dir !== '')
        .map((dir) => join(dir, command));
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** Forwards child stdout into `target`, ending it only after a clean exit so truncation is never success. */
function forwardOutput(child: ChildProcess, exited: Promise<void>, target: Readable & { _resumeChild?: () => void }): void {
  const out = child.stdout;
  if (!out) throw new Error('child has no stdout');
  out.on('data', (chunk: Buffer) => {
    if (!target.push(chunk)) out.pause();
  });
  target._resumeChild = () => out.resume();
  const outEnded = new Promise<void>((resolve) => out.once('end', resolve));
  Promise.all([exited, outEnded]).then(
    () => target.push(null),
    (err: unknown) => target.destroy(err as Error),
  );
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The stdout of a command as a Readable that errors when the command fails. */
export function spawnSource(command: string, args: readonly string[], opts: ChildOptions = {}): Readable {
  return spawnPipeline([{ command, args, opts }], opts.signal);
}

export interface PipelineStage {
  readonly command: string;
  readonly args: readonly string[];
  readonly opts?: ChildOptions;
}

/**
 * The stdout of the last of `stages` run as a shell pipe (`a | b | c`): each stage's stdout is the
 * next one's stdin directly, so the bytes between them never pass through this process. The
 * stream ends only when every stage has exited cleanly and errors with the first failure seen
 * otherwise (no pipefail hole: a first stage that fails after the last one read EOF still fails
 * it). Destroying it kills them all. `signal` aborts the whole pipe.
 */
export function spawnPipeline(stages: readonly PipelineStage[], signal?: AbortSignal): Readable {
  const children: ChildProcess[] = [];
  const exits: Promise<void>[] = [];
  try {
    for (const stage of stages) {
      const previous = children.at(-1);
      const child = start(stage.command, stage.args, stage.opts ?? {}, previous?.stdout ?? 'ignore');
      // The next stage holds the pipe now; this process keeping a read end would let the
      // previous stage block on a full pipe instead of failing when the next one dies.
      previous?.stdout?.destroy();
      children.push(child);
      exits.push(supervise(child, stage.command, stage.opts ?? {}));
    }
  } catch (err) {
    for (const child of children) kill(child);
    throw err;
  }
  const last = children.at(-1);
  if (!last) throw new Error('spawnPipeline: no stages');
  const killAll = (): void => {
    for (const child of children) kill(child);
  };
  // The first failure seen is the error (the others it provokes are echoes), and ends them all.
  const exited = new Promise<void>((resolve, reject) => {
    for (const e of exits) e.catch(reject);
    Promise.all(exits).then(() => resolve(), reject);
  });
  exited.catch(killAll);
  const source = new (class extends Readable {
    _resumeChild?: () => void;
    override _read(): void {
      this._resumeChild?.();
    }
    override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
      killAll();
      cb(err);
    }
  })();
  forwardOutput(last, exited, source);
  bindAbort(signal, source);
  return source;
}

/** A command used as a transform (stdin → stdout) that errors when the command fails. */
export function spawnTransform(command: string, args: readonly string[], opts: ChildOptions = {}): Duplex {
  const child = start(command, args, opts, 'pipe');
  const exited = supervise(child, command, opts);
  const stdin = child.stdin;
  if (!stdin) throw new Error('child has no stdin');
  // EPIPE on stdin means the child died; its exit status carries the real reason.
  stdin.on('error', () => {});
  const duplex = new (class extends Duplex {
    _resumeChild?: () => void;
    override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
      if (stdin.write(chunk)) cb();
      else stdin.once('drain', () => cb());
    }
    override _final(cb: (err?: Error | null) => void): void {
      stdin.end(() => cb());
    }
    override _read(): void {
      this._resumeChild?.();
    }
    override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
      kill(child);
      cb(err);
    }
  })();
  forwardOutput(child, exited, duplex);
  exited.catch((err: unknown) => duplex.destroy(err as Error));
  bindAbort(opts.signal, duplex);
  return duplex;
}

/** Runs a command to completion and returns its stdout; rejects like the streams above. */
export async function run(command: string, args: readonly string[], opts: ChildOptions = {}): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of spawnSource(command, args, opts)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function bindAbort(signal: AbortSignal | undefined, stream: Readable | Duplex): void {
  if (!signal) return;
  const onAbort = (): void => {
    stream.destroy(new AbortedError('process aborted', { cause: signal.reason }));
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
}
