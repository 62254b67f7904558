/**
 * Test-data CLI. Prints one JSON summary to stdout; progress goes to stderr.
 *
 *   node dist/test/testbed/datagen/main.js db --socket S --user U --password P --database D --size-mb N [--seed N]
 *   node dist/test/testbed/datagen/main.js media --root DIR --small N --large N --static N [--seed N]
 *   node dist/test/testbed/datagen/main.js mutate --root DIR --percent P [--seed N]
 */
import { generateDatabase } from './generate-db.js';
import { generateMedia, mutateMedia } from './generate-media.js';

const USAGE = `usage:
  main.js db --socket S --user U --password P --database D --size-mb N [--seed N]
  main.js media --root DIR --small N --large N --static N [--seed N]
  main.js mutate --root DIR --percent P [--seed N]`;

type Flags = Map<string, string>;

/** Bad command line; reported together with the usage text. */
class UsageError extends Error {}

function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i];
    const value = args[i + 1];
    if (key === undefined || !key.startsWith('--') || value === undefined)
      throw new UsageError(`bad arguments near ${key ?? '(end)'}`);
    flags.set(key.slice(2), value);
  }
  return flags;
}

function text(flags: Flags, name: string): string {
  const value = flags.get(name);
  if (value === undefined) throw new UsageError(`missing --${name}`);
  return value;
}

function num(flags: Flags, name: string): number {
  const value = Number(text(flags, name));
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`--${name} must be a non-negative number`);
  return value;
}

function optionalSeed(flags: Flags): number | undefined {
  return flags.has('seed') ? num(flags, 'seed') : undefined;
}

const log = (msg: string): void => {
  console.error(`[datagen] ${msg}`);
};

async function run(command: string | undefined, flags: Flags): Promise<unknown> {
  switch (command) {
    case 'db':
      return generateDatabase({
        socket: text(flags, 'socket'),
        user: text(flags, 'user'),
        password: text(flags, 'password'),
        database: text(flags, 'database'),
        sizeMb: num(flags, 'size-mb'),
        seed: optionalSeed(flags),
        log,
      });
    case 'media':
      return generateMedia({
        root: text(flags, 'root'),
        smallFiles: num(flags, 'small'),
        largeFiles: num(flags, 'large'),
        staticFiles: num(flags, 'static'),
        seed: optionalSeed(flags),
      });
    case 'mutate':
      return mutateMedia({ root: text(flags, 'root'), percent: num(flags, 'percent'), seed: optionalSeed(flags) });
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const result = await run(command, parseFlags(rest));
    console.log(JSON.stringify(result, null, 2));
    return 0;
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    if (err instanceof UsageError) console.error(USAGE);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
