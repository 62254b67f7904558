import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { autoRecoveryDrill, component, missingCommits, startWriter, state, testbed, waitUntil } from '../helpers/drill.js';
import { uniqueName } from '../helpers/testbed.js';

// Automatic recovery on the real testbed, destructively (see test/helpers/drill.ts): the daemons
// run with recovery.auto on, a writer commits through node 1 throughout, and every commit it was
// acknowledged must be on the cluster at the end.

test.serial(
  'two nodes lost: the survivor makes itself Primary, writes succeed again, no acknowledged commit is lost',
  async (t) => {
    const d = await autoRecoveryDrill(t);
    const table = uniqueName('w').replaceAll('-', '_');
    const writer = await startWriter(t, 1, table);
    await sleep(2000);
    const killedAt = Date.now();
    testbed('node-kill', 2);
    testbed('node-kill', 3);
    let wentNonPrimary = 0;
    await waitUntil('node 1 to lose quorum', async () => {
      if ((await component(1)) !== 'non-Primary') return false;
      wentNonPrimary = Date.now();
      return true;
    });
    await waitUntil('node 1 to be Primary again by itself', async () => (await component(1)) === 'Primary', 90_000);
    const primaryAt = Date.now();
    t.log(
      `quorum lost ${((wentNonPrimary - killedAt) / 1000).toFixed(1)} s after the kill; Primary again ${((primaryAt - wentNonPrimary) / 1000).toFixed(1)} s later`,
    );
    // the recovery's alert follows the Primary state by a moment (its record is written first)
    await waitUntil('the recovery reported', async () => d.alerts.some((a) => a.kind === 'recovery-finished'), 30_000).catch(
      () => {},
    );
    const started = d.alerts.filter((a) => a.kind === 'recovery-started');
    const finished = d.alerts.filter((a) => a.kind === 'recovery-finished') as { outcome?: string; node?: string }[];
    t.is(started.length, 1, JSON.stringify(d.alerts));
    t.is(started[0]?.node, 'n1');
    t.is(finished[0]?.outcome, 'succeeded');
    const v = await d.view(1);
    t.is(state(v, 2, 1), 'lost');
    t.is(state(v, 3, 1), 'lost');

    const during = await writer.stop();
    const again = await startWriter(t, 1, `${table}_after`);
    await sleep(2000);
    const after = await again.stop();
    t.true(after.acked.length > 10, `writes succeed on the survivor (${after.acked.length} in 2 s)`);

    // the lost nodes come back (the testbed restarts them) and rejoin the survivor's cluster
    await d.close();
    t.log(
      `writer: ${during.acked.length} commits acknowledged across the loss (${during.errors} refused), ${after.acked.length} after`,
    );
    for (const n of [1, 2, 3] as const) {
      t.deepEqual(await missingCommits(n, table, during.acked), [], `node ${n}: every commit acknowledged across the loss`);
      t.deepEqual(await missingCommits(n, `${table}_after`, after.acked), [], `node ${n}: every commit after`);
    }
  },
);

test.serial('partition with automatic recovery on: no bootstrap anywhere, no recovery started', async (t) => {
  const d = await autoRecoveryDrill(t);
  testbed('node-isolate', 1);
  const states: string[] = [];
  let minority = false;
  const until = Date.now() + 25_000;
  while (Date.now() < until) {
    states.push(await component(1));
    minority ||= (await d.view(1))?.minority === true;
    await sleep(500);
  }
  testbed('node-heal', 1);
  const lostQuorum = states.indexOf('non-Primary');
  t.true(minority, 'the isolated node knows it is the minority');
  t.true(lostQuorum >= 0, `the isolated node lost quorum (${states.join(' ')})`);
  t.false(states.slice(lostQuorum).includes('Primary'), `and never made itself Primary (${states.join(' ')})`);
  t.deepEqual(
    d.alerts.filter((a) => a.kind === 'recovery-started'),
    [],
  );
});

test.serial('a lost server comes back with its datadir: its daemon starts mariadbd, it rejoins by IST', async (t) => {
  const d = await autoRecoveryDrill(t);
  testbed('node-kill', 3);
  await waitUntil('n3 lost', async () => state(await d.view(1), 3, 1) === 'lost', 60_000);
  // the server boots again: its link and its daemon, not its database
  testbed('node-uncut', 3);
  d.start(3);
  await waitUntil('n3 Synced again, started by its daemon', async () => (await component(3)) === 'Primary', 180_000).catch(
    (err: unknown) => {
      const lines = (d.daemons.get(3)?.stderr() ?? '').split('\n').filter((l) => /recover|position|control/i.test(l));
      throw new Error(`${String(err)}\n${lines.slice(-20).join('\n')}`);
    },
  );
  // its alert follows its Synced state by a moment
  await waitUntil('its rejoin reported', async () => d.alerts.some((a) => a.kind === 'recovery-finished'), 30_000).catch(
    () => {},
  );
  const finished = d.alerts.filter((a) => a.kind === 'recovery-finished') as {
    node?: string;
    playbook?: string;
    outcome?: string;
  }[];
  t.deepEqual(
    finished.map((a) => [a.node, a.playbook, a.outcome]),
    [['n3', 'rejoin', 'succeeded']],
  );
  const log = d.daemons.get(3)?.stderr() ?? '';
  t.regex(log, /recovered the position its datadir holds/);
});

test.serial(
  'the whole cluster crashed, daemons up: the most advanced node bootstraps by itself, the others rejoin, no acknowledged commit lost',
  async (t) => {
    const d = await autoRecoveryDrill(t);
    const table = uniqueName('w').replaceAll('-', '_');
    const writer = await startWriter(t, 1, table);
    await sleep(2000);
    const crashedAt = Date.now();
    for (const n of [1, 2, 3] as const) testbed('node-crash', n);
    await waitUntil(
      'all three Synced again',
      async () => (await Promise.all(([1, 2, 3] as const).map(component))).every((c) => c === 'Primary'),
      240_000,
    ).catch((err: unknown) => {
      const tails = ([1, 2, 3] as const).map((n) => {
        const lines = (d.daemons.get(n)?.stderr() ?? '').split('\n').filter((l) => /recover|position|plan|held|step/i.test(l));
        return `--- n${n}\n${lines.slice(-8).join('\n')}`;
      });
      throw new Error(`${String(err)}\n${tails.join('\n')}`);
    });
    t.log(`the whole cluster was Primary again ${((Date.now() - crashedAt) / 1000).toFixed(1)} s after the crash`);
    const result = await writer.stop();
    // the last rejoin's alert follows its node's Synced state by a moment
    await waitUntil(
      'both rejoins reported',
      async () => d.alerts.filter((a) => a.kind === 'recovery-finished' && a.node !== 'n1').length >= 2,
      30_000,
    ).catch(() => {});
    const finished = d.alerts.filter((a) => a.kind === 'recovery-finished') as {
      node?: string;
      playbook?: string;
      outcome?: string;
    }[];
    t.log(finished.map((a) => `${a.node}: ${a.playbook} ${a.outcome}`).join('; '));
    t.is(finished.filter((a) => a.playbook === 'bootstrap-most-advanced').length, 1, 'exactly one bootstrap');
    t.true(finished.every((a) => a.outcome === 'succeeded'));
    t.deepEqual(
      finished
        .filter((a) => a.playbook === 'rejoin')
        .map((a) => a.node)
        .sort(),
      ['n2', 'n3'],
      'the two others rejoined, each once, each by its own daemon',
    );
    for (const n of [1, 2, 3] as const) t.deepEqual(await missingCommits(n, table, result.acked), [], `node ${n}`);
  },
);
