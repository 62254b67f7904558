import { UsageError } from '../src/lib/errors.js';
import type { JobDefinition } from './job.js';
import { pruneJob } from './prune.js';
import { snapshotJob } from './snapshot.js';
import { stagingSyncJob } from './staging-sync.js';
import { verifyJob } from './verify.js';

/** Every kind of job: the daemon schedules these, the API and the CLI start them. */
export const JOBS = {
  snapshot: snapshotJob,
  prune: pruneJob,
  verify: verifyJob,
  'staging-sync': stagingSyncJob,
} as const satisfies Record<string, JobDefinition>;

export const jobKinds: readonly string[] = Object.keys(JOBS);

/** The definition of a kind; a UsageError names the known kinds when there is none. */
export function jobOf(kind: string): JobDefinition {
  const job: JobDefinition | undefined = Object.hasOwn(JOBS, kind) ? JOBS[kind as keyof typeof JOBS] : undefined;
  if (!job) throw new UsageError(`job kind '${kind}': unknown (known: ${jobKinds.join(', ')})`);
  return job;
}

export type JobName = keyof typeof JOBS;

/** The result type of a registered kind's run. */
export type JobResult<K extends JobName> = (typeof JOBS)[K] extends JobDefinition<infer _P, infer R> ? R : never;
