import cron from 'node-cron';

/**
 * Pure checks of what `Scheduler` accepts, for the config loader: the same node-cron parser and
 * the same time-zone lookup the scheduler uses, so a config that passes here schedules.
 * Each returns a problem in words, or undefined when the value is accepted.
 */

export function cronProblem(expression: string): string | undefined {
  const detail = cron.validateDetailed(expression);
  if (detail.valid) return undefined;
  const why = detail.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field}: ${e.message}`)).join('; ');
  return `invalid cron expression '${expression}' (${why})`;
}

/** node-cron formats times with Intl in the task's zone; a zone Intl refuses throws at schedule time. */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'shortOffset' });
    return undefined;
  } catch {
    return `unknown time zone '${timezone}' (expected an IANA name such as UTC or Europe/Berlin)`;
  }
}
