import { Command, CommanderError, Option } from 'commander';
import type { Config } from '../../config/load.js';
import { LifeboatError } from '../lib/errors.js';
import { type Action, type CliIo, type CommandContext, DEFAULT_CONFIG, type GlobalOptions } from './command-context.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerDaemonCommand } from './commands/daemon.js';
import { registerMaintenanceCommands } from './commands/maintenance.js';
import { registerRecoverCommands } from './commands/recover.js';
import { registerRestoreCommands } from './commands/restore.js';
import { registerSnapshotCommands } from './commands/snapshot.js';
import { registerStagingCommands } from './commands/staging.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { cliProgress } from './progress-render.js';
import { toolVersion } from './version.js';

/**
 * Runs the `lifeboat` command line and returns the exit code: 0 ok, 1 failed, 2 usage or config
 * error. Never throws; never calls process.exit. Start-up loads commander and the command definitions
 * only: a command's code, the config loader and the logger load when a command runs.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('lifeboat');
  let exitCode: number = EXIT.ok;
  program
    .description('Backups, staging sync and disaster recovery for Galera + GlusterFS clusters')
    .version(toolVersion(), '-V, --version')
    .option('-c, --config <path>', `config file (default: $LIFEBOAT_CONFIG or ${DEFAULT_CONFIG})`)
    .option('--json', 'machine-readable output on stdout')
    .addOption(new Option('--log-level <level>', 'log verbosity on stderr').choices(['error', 'warn', 'info', 'debug']))
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.startsWith('error:') ? `lifeboat: ${s}` : s),
    })
    .showHelpAfterError('(run lifeboat --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 the operation failed, 2 usage or configuration error, 130 interrupted (SIGINT or SIGTERM).\nConfig: see config/lifeboat.example.yaml.',
    );

  const context = async (): Promise<CommandContext> => {
    const [{ loadConfig }, { createLogger }] = await Promise.all([import('../../config/load.js'), import('./logging.js')]);
    const options = program.opts<GlobalOptions>();
    let cached: Config | undefined;
    return {
      options,
      io,
      logger: createLogger({ level: options.logLevel ?? 'warn', format: options.json ? 'json' : 'text', stream: io.stderr }),
      signal: io.signal ?? new AbortController().signal,
      progress: () => cliProgress(io.stderr, options.json === true),
      config: () => {
        cached ??= loadConfig(options.config ?? io.env.LIFEBOAT_CONFIG ?? DEFAULT_CONFIG, { env: io.env });
        return cached;
      },
      print: (value, human) => {
        io.stdout.write(options.json ? `${JSON.stringify(value)}\n` : `${human(value)}\n`);
      },
    };
  };

  const action: Action =
    (load) =>
    async (...args) => {
      const [run, ctx] = await Promise.all([load(), context()]);
      exitCode = await run(ctx, ...args);
    };

  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the config and print it resolved, with secrets redacted')
    .action(action(async () => (await import('./actions/config.js')).runConfigCheck));

  registerSnapshotCommands(program, action);
  registerDaemonCommand(program, action);
  registerRestoreCommands(program, action);
  registerMaintenanceCommands(program, action);
  registerStagingCommands(program, action);
  registerClusterCommands(program, action);
  registerRecoverCommands(program, action);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    // --help, --version and `help` exit 0; help shown for a missing subcommand (`lifeboat restore`) is a usage error
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    const { json, logLevel } = program.opts<GlobalOptions>();
    reportError(err, io, json === true, logLevel === 'debug');
    return exitCodeFor(err);
  }
}

/** One line naming the problem; a stack trace only at --log-level debug, where it is asked for. */
export function reportError(err: unknown, io: CliIo, json: boolean, debug: boolean): void {
  const code = err instanceof LifeboatError ? err.code : 'internal';
  const message = err instanceof Error ? err.message : String(err);
  if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: { code, message } })}\n`);
  const stack = debug && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  const hint = code === 'internal' && !debug ? ' (an internal error: --log-level debug shows where)' : '';
  io.stderr.write(`lifeboat: ${message}${hint}${stack}\n`);
}
