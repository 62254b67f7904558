import test from 'ava';
import { heartbeatKey, Witness, type WitnessStore } from '../../src/health/witness.js';
import { NotFoundError } from '../../src/lib/errors.js';
import { withPrefix } from '../../src/storage/decorators.js';
import { getBuffer, type ObjectStore } from '../../src/storage/object-store.js';
import { testbedStore } from '../helpers/lifeboat.js';
import { uniqueName } from '../helpers/testbed.js';

/** The adapter the app gives the witness over an ObjectStore. */
function witnessStore(store: ObjectStore): WitnessStore {
  return {
    write: async (key, body) => {
      await store.put(key, body);
    },
    read: (key) =>
      getBuffer(store, key).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }),
  };
}

const view = { galera: { state: 'Synced', uuid: null, seqno: 12 }, sees: { n2: 'healthy' as const, n3: 'healthy' as const } };

test('ceph-rgw: heartbeats are written and read; freshness comes from seq changes on the reader clock, not from the writer clock', async (t) => {
  const prefixed = withPrefix(testbedStore(), uniqueName('witness'));
  t.teardown(async () => {
    const keys: string[] = [];
    for await (const o of prefixed.list('')) keys.push(o.key);
    await prefixed.delete(keys);
  });
  const store = witnessStore(prefixed);
  let clock = 0;
  const n1 = new Witness(store, 'c1', 'n1', () => clock);
  const n2 = new Witness(store, 'c1', 'n2', () => clock);

  t.deepEqual([...(await n1.read(['n2'])).values()], [{ heartbeat: undefined, ageMs: null }], 'never written');
  await n2.publish(view);
  const first = (await n1.read(['n2'])).get('n2');
  t.is(first?.heartbeat?.seq, 1);
  t.is(first?.ageMs, null, 'a first sighting does not prove the writer is alive');
  clock = 1000;
  await n2.publish(view);
  clock = 1500;
  t.is((await n1.read(['n2'])).get('n2')?.ageMs, 0, 'seen changing: fresh');
  clock = 9000;
  t.is((await n1.read(['n2'])).get('n2')?.ageMs, 7500, 'no change since: ages on the reader clock');

  // a restarted writer continues its sequence
  const again = new Witness(store, 'c1', 'n2', () => clock);
  t.is((await again.publish(view)).seq, 3);
  t.is(heartbeatKey('c1', 'n2'), 'witness/c1/n2.json');
});
