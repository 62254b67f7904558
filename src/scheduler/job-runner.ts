import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { ConflictError, errorMessage, LifeboatError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { Progress } from '../lib/progress.js';

/** A job's kind, e.g. `snapshot`: open here; the app checks it against `jobs/registry.ts`. */
export type JobKind = string;
export type JobTrigger = 'schedule' | 'api' | 'cli';
export type JobState = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobProgress {
  readonly phase: string;
  readonly done: number;
  readonly total: number | null;
  readonly unit: string;
  /** the current phase's remaining time at its rate so far; null while `total` or the rate is unknown */
  readonly etaSeconds: number | null;
}

/** A run of a job as the API and metrics see it. Plain data: safe to serialize. */
export interface JobRecord {
  readonly id: string;
  readonly kind: JobKind;
  readonly trigger: JobTrigger;
  readonly state: JobState;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly progress: JobProgress | null;
  /** the job's typed result once succeeded */
  readonly result: unknown;
  readonly error: { readonly code: string; readonly message: string } | null;
}

export interface JobContext {
  readonly id: string;
  readonly signal: AbortSignal;
  readonly progress: Progress;
  readonly logger: Logger;
}

export type JobFn = (ctx: JobContext) => Promise<unknown>;

export interface JobRunnerOptions {
  readonly logger?: Logger;
  /** finished runs kept for the API (default 100) */
  readonly history?: number;
  readonly now?: () => Date;
  /** called when a run finishes (metrics, alerts) */
  readonly onFinish?: (record: JobRecord) => void;
}

interface Running {
  record: JobRecord;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * Runs jobs in the background: at most one of each kind at a time, with progress, cancellation
 * and a bounded history. `close()` cancels what runs and waits for it (bounded).
 */
export class JobRunner {
  private readonly running = new Map<JobKind, Running>();
  private readonly records = new Map<string, JobRecord>();
  private readonly logger: Logger;
  private readonly history: number;
  private readonly now: () => Date;
  private readonly onFinish: ((record: JobRecord) => void) | undefined;
  private closed = false;

  constructor(options: JobRunnerOptions = {}) {
    this.logger = options.logger ?? nullLogger;
    this.history = options.history ?? 100;
    this.now = options.now ?? (() => new Date());
    this.onFinish = options.onFinish;
  }

  /** Starts a run; throws ConflictError while one of the same kind runs. */
  start(kind: JobKind, trigger: JobTrigger, fn: JobFn): JobRecord {
    if (this.closed) throw new ConflictError('job runner: shutting down');
    const busy = this.running.get(kind);
    if (busy) throw new ConflictError(`job '${kind}': already running (${busy.record.id})`);
    const id = randomUUID();
    const controller = new AbortController();
    setMaxListeners(256, controller.signal); // all of the run's parallel operations listen to it
    let record: JobRecord = {
      id,
      kind,
      trigger,
      state: 'running',
      startedAt: this.now().toISOString(),
      finishedAt: null,
      progress: null,
      result: null,
      error: null,
    };
    const update = (patch: Partial<JobRecord>): void => {
      record = { ...record, ...patch };
      this.records.set(id, record);
      const r = this.running.get(kind);
      if (r && r.record.id === id) r.record = record;
    };
    let phase = '';
    let total: number | null = null;
    let unit = 'bytes';
    let done = 0;
    let phaseStarted = 0;
    const current = (): JobProgress => {
      const elapsed = (performance.now() - phaseStarted) / 1000;
      const etaSeconds = total !== null && done > 0 ? Math.max(0, Math.round((elapsed * (total - done)) / done)) : null;
      return { phase, done, total, unit, etaSeconds };
    };
    const progress: Progress = {
      phase: (name, t, u) => {
        phase = name;
        total = t ?? null;
        unit = u ?? 'bytes';
        done = 0;
        phaseStarted = performance.now();
        update({ progress: current() });
      },
      advance: (n) => {
        done += n;
        record = { ...record, progress: current() };
        this.records.set(id, record);
      },
      done: () => update({ progress: current() }),
    };
    const logger = this.logger.child({ job: kind, runId: id });
    this.records.set(id, record);
    let settle: () => void = () => {};
    const finished = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.running.set(kind, { record, controller, done: finished });
    void (async () => {
      logger.info('job started', { trigger });
      try {
        // The job starts on a later tick, so a synchronous throw is a failure like any other.
        const result = await Promise.resolve().then(() => fn({ id, signal: controller.signal, progress, logger }));
        update({ state: 'succeeded', result: result ?? null, finishedAt: this.now().toISOString() });
        logger.info('job succeeded');
      } catch (err) {
        const cancelled = controller.signal.aborted;
        update({
          state: cancelled ? 'cancelled' : 'failed',
          error: { code: err instanceof LifeboatError ? err.code : 'internal', message: errorMessage(err) },
          finishedAt: this.now().toISOString(),
        });
        logger.error(cancelled ? 'job cancelled' : 'job failed', { error: errorMessage(err) });
      } finally {
        this.running.delete(kind);
        this.trim();
        try {
          this.onFinish?.(record);
        } catch (err) {
          logger.error('job finish hook failed', { error: errorMessage(err) });
        }
        settle();
      }
    })();
    return record;
  }

  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  /** Newest first. */
  list(): JobRecord[] {
    return [...this.records.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1));
  }

  isRunning(kind: JobKind): boolean {
    return this.running.has(kind);
  }

  /** Waits for the current run of `kind`, if any. */
  async wait(kind: JobKind): Promise<void> {
    await this.running.get(kind)?.done;
  }

  cancel(id: string): boolean {
    for (const r of this.running.values()) {
      if (r.record.id === id) {
        r.controller.abort(new Error('cancelled'));
        return true;
      }
    }
    return false;
  }

  /** Refuses new runs, cancels running ones and waits up to `timeoutMs` for them to finish. */
  async close(timeoutMs = 60_000): Promise<boolean> {
    this.closed = true;
    for (const r of this.running.values()) r.controller.abort(new Error('shutting down'));
    const all = Promise.all([...this.running.values()].map((r) => r.done)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = await Promise.race([all, timeout]);
    clearTimeout(timer);
    return finished;
  }

  private trim(): void {
    const finished = this.list().filter((r) => r.state !== 'running');
    for (const r of finished.slice(this.history)) this.records.delete(r.id);
  }
}
