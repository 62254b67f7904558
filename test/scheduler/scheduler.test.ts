import test from 'ava';
import { Scheduler } from '../../src/scheduler/scheduler.js';

test('an unknown or empty time zone is a usage error naming schedules.timezone', (t) => {
  for (const tz of ['Mars/Olympus', '']) {
    t.throws(() => new Scheduler(tz), { message: new RegExp(`^schedules.timezone: unknown time zone '${tz}'`) });
  }
  t.notThrows(() => new Scheduler('Europe/Berlin'));
});

test('cron expressions out of range or not numbers are usage errors naming the field', (t) => {
  t.throws(() => Scheduler.validate('99 99 * * *', 'schedules.prune'), {
    message: /^schedules\.prune: invalid cron expression '99 99/,
  });
  t.throws(() => Scheduler.validate('a b c d e', 'schedules.verify'), { message: /^schedules\.verify: invalid cron expression/ });
  t.notThrows(() => Scheduler.validate('*/2 * * * * *', 'schedules.snapshot'));
});
