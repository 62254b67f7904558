import test from 'ava';
import { cliGlusterd, defaultGlusterd, type GlusterCli, memoizedGlusterd } from '../../src/gluster/index.js';
import { AbortedError } from '../../src/lib/errors.js';

test('glusterd busy with another transaction: asked again after a short wait; an abort ends the wait', async (t) => {
  let calls = 0;
  const busyTwice: GlusterCli = async () => {
    if (++calls <= 2)
      throw new Error(
        'gluster: exited with code 1: Another transaction is in progress for media. Please try again after some time.',
      );
    return 'UUID: u1\n';
  };
  t.is(await cliGlusterd(busyTwice).hostUuid(), 'u1');
  t.is(calls, 3);
  const alwaysBusy: GlusterCli = async () => {
    throw new Error('Another transaction is in progress for media');
  };
  const controller = new AbortController();
  const asking = cliGlusterd(alwaysBusy).hostUuid(controller.signal);
  setTimeout(() => controller.abort(new Error('stop')), 20);
  await t.throwsAsync(asking, { instanceOf: AbortedError });
});

test('the CLI is asked when the socket fails, but not once the run is aborted; answers are asked once per run', async (t) => {
  const asked: string[] = [];
  const cli: GlusterCli = async (args) => {
    asked.push(args.join(' '));
    return 'UUID: u1\n';
  };
  const fallbacks: string[] = [];
  const glusterd = defaultGlusterd({ socket: '/nonexistent/glusterd.socket', cli, onFallback: (what) => fallbacks.push(what) });
  t.is(await glusterd.hostUuid(), 'u1');
  t.deepEqual(fallbacks, ['uuid get']);
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await t.throwsAsync(glusterd.hostUuid(controller.signal), { instanceOf: AbortedError });
  t.is(asked.length, 1, 'no CLI process after the abort');
  const once = memoizedGlusterd(glusterd);
  await Promise.all([once.hostUuid(), once.hostUuid()]);
  t.is(asked.length, 2);
});
