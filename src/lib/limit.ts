import PQueue from 'p-queue';

/** Runs at most `concurrency` tasks at once; the rest wait in order. */
export interface Limiter {
  <T>(task: () => Promise<T>): Promise<T>;
  /** resolves when every queued and running task has finished */
  idle(): Promise<void>;
}

/** The project's one wrapper around p-queue. */
export function limiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`concurrency: expected a positive integer, got ${concurrency}`);
  const queue = new PQueue({ concurrency });
  const run = <T>(task: () => Promise<T>): Promise<T> => queue.add(task) as Promise<T>;
  return Object.assign(run, { idle: () => queue.onIdle() });
}
