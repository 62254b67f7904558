import { parseRecoveredPosition, type RecoveredPosition } from '../src/galera/index.js';
import { run } from '../src/lib/child-process.js';
import { PermanentError, RetryableError } from '../src/lib/errors.js';

/**
 * How recovery starts, stops and inspects this node's `mariadbd` (issue #17's node control
 * seam). Every call has a deadline and fails loudly; none is retried here (a playbook step is
 * idempotent and decides).
 */
export interface NodeControl {
  /** whether the node's service runs (not whether it answers SQL) */
  isRunning(signal?: AbortSignal): Promise<boolean>;
  /** starts it to join the running cluster (it recovers its own position first when it crashed) */
  start(signal?: AbortSignal): Promise<void>;
  /** starts it as a new cluster (its grastate.dat must say safe_to_bootstrap: 1) */
  bootstrap(signal?: AbortSignal): Promise<void>;
  stop(signal?: AbortSignal): Promise<void>;
  /** the position InnoDB recovers (`mariadbd --wsrep-recover`), with the service stopped */
  recoverPosition(signal?: AbortSignal): Promise<RecoveredPosition>;
}

/** A command's argv; `{node}` in any element is replaced by the node's name. */
export type CommandTemplate = readonly [string, ...string[]];

export interface CommandTemplates {
  readonly start: CommandTemplate;
  readonly bootstrap: CommandTemplate;
  readonly stop: CommandTemplate;
  /** exit 0 while the service runs, non-zero otherwise */
  readonly status: CommandTemplate;
  /** prints `WSREP: Recovered position: uuid:seqno` or `--wsrep_start_position=uuid:seqno` */
  readonly recover: CommandTemplate;
}

/** Runs a command to its end; resolves with stdout, rejects naming the command on failure or deadline. */
export type Runner = (argv: readonly string[], options: { timeoutMs: number; signal?: AbortSignal }) => Promise<string>;

const defaultRunner: Runner = ([command, ...args], options) =>
  run(command as string, args, {
    name: command,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });

/** Parses either form the recovery tools print: the server log's line or `galera_recovery`'s flag. */
export function recoveredPosition(output: string, what: string): RecoveredPosition {
  const logged = parseRecoveredPosition(output);
  if (logged) return logged;
  const m = /--wsrep_start_position=([0-9a-f-]{36}):(-?\d+)(?:,(\S+))?/.exec(output);
  if (m?.[1] && m[2]) return { uuid: m[1], seqno: Number(m[2]), gtid: m[3] ?? null };
  throw new PermanentError(`${what}: printed no recovered position`);
}

const DEADLINES = { start: 600_000, stop: 300_000, status: 10_000, recover: 300_000 };

/** Command templates from the config (what the testbed uses, or any init system). */
export function commandControl(node: string, templates: CommandTemplates, runner: Runner = defaultRunner): NodeControl {
  const argv = (t: CommandTemplate): string[] => t.map((a) => a.replaceAll('{node}', node));
  return {
    isRunning: (signal) =>
      runner(argv(templates.status), { timeoutMs: DEADLINES.status, ...(signal ? { signal } : {}) }).then(
        () => true,
        (err: unknown) => {
          if (err instanceof Error && /exited with code \d+/.test(err.message)) return false;
          throw new RetryableError(`node '${node}': status command failed: ${String(err)}`);
        },
      ),
    start: async (signal) => {
      await runner(argv(templates.start), { timeoutMs: DEADLINES.start, ...(signal ? { signal } : {}) });
    },
    bootstrap: async (signal) => {
      await runner(argv(templates.bootstrap), { timeoutMs: DEADLINES.start, ...(signal ? { signal } : {}) });
    },
    stop: async (signal) => {
      await runner(argv(templates.stop), { timeoutMs: DEADLINES.stop, ...(signal ? { signal } : {}) });
    },
    recoverPosition: async (signal) =>
      recoveredPosition(
        await runner(argv(templates.recover), { timeoutMs: DEADLINES.recover, ...(signal ? { signal } : {}) }),
        `node '${node}': ${templates.recover[0]}`,
      ),
  };
}

/**
 * The stock MariaDB packaging under systemd: `systemctl` on the unit (its ExecStartPre runs
 * `galera_recovery`, so a crashed node starts at its recovered position), `galera_new_cluster`
 * to bootstrap, and `galera_recovery` to read the position.
 */
export function systemdControl(node: string, unit = 'mariadb', runner: Runner = defaultRunner): NodeControl {
  return commandControl(
    node,
    {
      start: ['systemctl', 'start', unit],
      bootstrap: ['galera_new_cluster'],
      stop: ['systemctl', 'stop', unit],
      status: ['systemctl', 'is-active', '--quiet', unit],
      recover: ['galera_recovery'],
    },
    runner,
  );
}
