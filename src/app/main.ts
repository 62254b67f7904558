#!/usr/bin/env -S node --max-semi-space-size=4
// The shebang's flags are HEAP_FLAGS (src/lib/heap.ts); a test keeps the two equal.
import { setMaxListeners } from 'node:events';
import { AbortedError } from '../lib/errors.js';
import { runCli } from './cli.js';
import { EXIT } from './exit-codes.js';

// The AWS SDK warns on every start that future versions will need Node 22; Lifeboat supports
// Node >= 20 with the SDK it ships, so that one warning is noise for operators.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (!warning.message.startsWith('NodeVersionSupportWarning')) process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

// A reader that goes away (`lifeboat … | head`, a restarted log collector) must not end a run
// half-way (a node left desynced until the next run): what it can no longer read is dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
  });
}

// First SIGINT/SIGTERM: abort running work cleanly (uploads aborted, desync undone).
// A second one exits at once.
const controller = new AbortController();
// every operation of a command listens to it (a restore fetches frames 8 at once, each with an
// upload or download listening too): Node's default limit of 10 would warn on a normal restore
setMaxListeners(256, controller.signal);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    process.stderr.write(`lifeboat: ${sig} received, stopping (again to force)\n`);
    controller.abort(new AbortedError(`${sig} received`));
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
// Interrupted work has been stopped and undone by now; a request that an abort left open (an S3
// part upload's socket) must not keep the process alive. stdout/stderr are synchronous here.
if (controller.signal.aborted) process.exit();
