#!/usr/bin/env node
import { runCli } from './cli.js';

// First SIGINT/SIGTERM: abort running work cleanly (uploads aborted, desync undone).
// A second one exits at once.
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(`lifeboat: ${sig} received, stopping (again to force)\n`);
    controller.abort(new Error(`${sig} received`));
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: controller.signal,
});
