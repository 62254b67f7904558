// `npm test`'s second phase: the destructive drills (test/drills), one file at a time, serially,
// after the rest of the suite, because they cut links and kill nodes of the shared testbed.
export default {
  files: ['dist/test/drills/**/*.test.js'],
  timeout: '5m',
  workerThreads: false,
  concurrency: 1,
  serial: true,
};
