import cron, { type ScheduledTask } from 'node-cron';
import { UsageError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { cronProblem, timezoneProblem } from './schedule-check.js';

/** Fires `fn` with the slot's scheduled time (not the moment it ran), so every node agrees on it. */
export type SlotFn = (slot: Date) => void;

/** Cron schedules (node-cron) in one time zone. The only module that imports node-cron. */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];

  /** Throws a UsageError for a time zone the platform does not know. */
  constructor(
    private readonly timezone: string,
    private readonly logger: Logger = nullLogger,
  ) {
    Scheduler.validateTimezone(timezone, 'schedules.timezone');
  }

  /** Checks an IANA time zone name such as `Europe/Berlin`; throws a UsageError naming the field. */
  static validateTimezone(timezone: string, field: string): void {
    const problem = timezoneProblem(timezone);
    if (problem) throw new UsageError(`${field}: ${problem}`);
  }

  /** Checks a 5- or 6-field cron expression; throws a UsageError naming the field path. */
  static validate(expression: string, field: string): void {
    const problem = cronProblem(expression);
    if (problem) throw new UsageError(`${field}: ${problem}`);
  }

  add(name: string, expression: string, fn: SlotFn): void {
    Scheduler.validate(expression, `schedules.${name}`);
    const task = cron.schedule(
      expression,
      (ctx) => {
        const slot = new Date(Math.floor(ctx.date.getTime() / 1000) * 1000);
        this.logger.debug('schedule fired', { schedule: name, slot: slot.toISOString() });
        fn(slot);
      },
      { timezone: this.timezone, name, noOverlap: false },
    );
    this.tasks.push(task);
    this.logger.info('scheduled', {
      schedule: name,
      expression,
      timezone: this.timezone,
      next: task.getNextRun()?.toISOString() ?? null,
    });
  }

  /** Next fire times per schedule. */
  next(): Record<string, string | null> {
    return Object.fromEntries(this.tasks.map((t) => [t.name ?? t.id, t.getNextRun()?.toISOString() ?? null]));
  }

  async stop(): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.tasks.length = 0;
  }
}

/** The slot id of a scheduled time: ISO seconds in UTC, e.g. `2026-11-26T06:00:00Z`. */
export function slotId(slot: Date): string {
  return `${slot.toISOString().slice(0, 19)}Z`;
}
