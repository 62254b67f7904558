import { JOBS, type JobName, type JobResult } from '../../../jobs/registry.js';
import { heldElsewhere, withLease } from '../../coord/index.js';
import type { SqlClient } from '../../galera/index.js';
import type { CommandContext } from '../command-context.js';
import { connectLocal, openRepository } from '../runtime.js';
import { toolVersion } from '../version.js';

/**
 * Runs a registered job in this process, as a CLI command does: alone (no lease, no slot), with
 * this node's database connected when the job first asks for it and closed afterwards. The
 * parameters are checked before anything is opened.
 */
export async function runJobHere<K extends JobName>(ctx: CommandContext, kind: K, input: unknown): Promise<JobResult<K>> {
  const job = JOBS[kind];
  const config = ctx.config();
  const params = job.params(input, config);
  const repo = await openRepository(config, ctx.logger);
  let sql: Promise<SqlClient> | undefined;
  const database = (): Promise<SqlClient> => {
    sql ??= connectLocal(config);
    return sql;
  };
  const run = (signal: AbortSignal, beforeCommit: () => Promise<void>, underLease: boolean): Promise<unknown> =>
    job.run(
      {
        config,
        repo,
        toolVersion: toolVersion(),
        useDatabase: async (fn) => fn(await database()),
        underLease,
        beforeCommit,
        logger: ctx.logger,
        progress: ctx.progress(),
      },
      // the definition of `kind` takes the parameters it parsed
      params as never,
      signal,
    );
  try {
    if (!job.openLease) return (await run(ctx.signal, async () => {}, false)) as JobResult<K>;
    // a kind with a lease of its own (not the cluster's) takes it here too: a CLI run and a daemon's exclude each other
    const lease = await job.openLease(config);
    try {
      const held = await withLease(lease, `cli-${process.pid}`, (signal, beforeCommit) => run(signal, beforeCommit, true), {
        signal: ctx.signal,
        logger: ctx.logger,
      });
      if (!held.acquired) throw await heldElsewhere(kind, lease);
      return held.value as JobResult<K>;
    } finally {
      await lease.close().catch(() => {});
    }
  } finally {
    if (sql) await (await sql.catch(() => undefined))?.close();
  }
}
