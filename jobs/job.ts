import type { Config } from '../config/load.js';
import type { OpenLease } from '../src/coord/index.js';
import type { SqlClient } from '../src/galera/index.js';
import { UsageError } from '../src/lib/errors.js';
import type { Logger } from '../src/lib/logger.js';
import type { Progress } from '../src/lib/progress.js';
import type { Repository } from '../src/repo/repository.js';

/**
 * One kind of job, as the daemon, the CLI and the HTTP API start it (`jobs/registry.ts` lists
 * them). A new kind is its file exporting one of these plus a line in the registry.
 */
export interface JobDefinition<P = unknown, R = unknown> {
  readonly kind: string;
  /** one run per scheduled slot across the cluster, under the lease named `kind`; else each node runs its own */
  readonly clusterWide: boolean;
  /**
   * Where a cluster-wide kind's lease lives when not in the cluster's database: a lock on the
   * server the job writes (so the CLI and every daemon exclude each other without Production).
   */
  openLease?(config: Config): Promise<OpenLease>;
  /** the key of its cron under `schedules` in the config; undefined when it only runs on demand */
  readonly scheduleKey: Exclude<keyof Config['schedules'], 'timezone'> | undefined;
  /** evidence besides the slot book that a scheduled slot's work exists (e.g. a manifest naming the slot) */
  slotDone?(repo: Repository, slot: string): Promise<boolean>;
  /** a run's parameters from an API body or CLI flags (undefined = none); throws UsageError naming the field */
  params(input: unknown, config: Config): P;
  run(ctx: RunContext, params: P, signal: AbortSignal): Promise<R>;
  /** what a finished run amounts to: a line for the slot book, an error that makes it count as failed, a warning to alert on */
  settle(result: R): Settled;
}

export interface Settled {
  readonly summary: string;
  readonly failure?: Error;
  readonly warning?: string;
}

/** What a run gets from whoever starts it. */
export interface RunContext {
  readonly config: Config;
  readonly repo: Repository;
  readonly toolVersion: string;
  /** this node's database for the duration of `fn` (connected when first asked) */
  useDatabase<T>(fn: (sql: SqlClient) => Promise<T>): Promise<T>;
  /** true when a daemon runs it under the cluster lease; a CLI command runs alone */
  readonly underLease: boolean;
  /** the scheduled slot this run is for */
  readonly slot?: string;
  /** awaited right before the run makes its result visible: the lease's fencing check, or nothing */
  beforeCommit(): Promise<void>;
  readonly logger: Logger;
  readonly progress: Progress;
}

/** The parameters object of an API body or CLI flags: a plain object with only `known` fields. */
export function paramsObject(input: unknown, known: readonly string[]): Record<string, unknown> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new UsageError('request body: expected a JSON object');
  const unknown = Object.keys(input).filter((k) => !known.includes(k));
  if (unknown.length === 1) throw new UsageError(`request body: unknown field '${unknown[0]}'`);
  if (unknown.length > 1) throw new UsageError(`request body: unknown fields ${unknown.map((k) => `'${k}'`).join(', ')}`);
  return input as Record<string, unknown>;
}

/** An optional boolean field of a parameters object (default false). */
export function booleanParam(params: Record<string, unknown>, name: string): boolean {
  const value = params[name] ?? false;
  if (typeof value !== 'boolean') throw new UsageError(`request body: '${name}' must be true or false`);
  return value;
}
