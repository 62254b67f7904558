import { JOBS, type JobName, type JobResult } from '../../../jobs/registry.js';
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
  try {
    const result = await job.run(
      {
        config,
        repo,
        toolVersion: toolVersion(),
        useDatabase: async (fn) => fn(await database()),
        underLease: false,
        beforeCommit: async () => {},
        logger: ctx.logger,
        progress: ctx.progress(),
      },
      // the definition of `kind` takes the parameters it parsed
      params as never,
      ctx.signal,
    );
    return result as JobResult<K>;
  } finally {
    if (sql) await (await sql.catch(() => undefined))?.close();
  }
}
