import test from 'ava';
import { type BrickState, type LocalVolume, planVolume, runVolumeStep, type VolumeFacts } from '../../restore/volume-recovery.js';

// The GlusterFS playbooks over a fake volume: a brick that does not answer is started again and
// the heal watched to its end; an emptied area is planned for an operator, never over entries.

const B = ['vm:/b1', 'vm:/b2', 'vm:/b3'];
const snapshot = { id: '2026-12-03T06-00-00Z-abcdef', takenAt: '2026-12-03T06:00:00Z', files: { 'pub/media': 120, var: 0 } };
const facts = (pending: (number | null)[], empty: string[] = [], snap: VolumeFacts['snapshot'] = snapshot): VolumeFacts => ({
  volume: 'shop',
  bricks: B.map((name, i) => ({ name, pending: i < pending.length ? (pending[i] as number | null) : 0 })),
  areas: ['var', 'pub/media', 'pub/static', 'app/etc'].map((name) => ({ name, empty: empty.includes(name) })),
  snapshot: snap,
});

test('a whole volume, or one healing by itself: nothing to do', (t) => {
  t.is(planVolume(facts([0, 0, 0]), 'n1').playbook, 'none');
  const healing = planVolume(facts([0, 4, 0]), 'n1');
  t.is(healing.playbook, 'none');
  t.regex(healing.decision, /self-heal daemon is healing vm:\/b2 \(4\)/);
});

test('a brick down: restart-bricks, then the heal watched, by the driving node', (t) => {
  const plan = planVolume(facts([3, 3, null]), 'n2');
  t.is(plan.playbook, 'restart-bricks');
  t.deepEqual(
    plan.steps.map((s) => [s.node, s.action]),
    [
      ['n2', 'start-bricks'],
      ['n2', 'heal'],
    ],
  );
  t.true(plan.facts[0]?.includes('vm:/b3 DOWN'));
});

test('a brick down with an empty directory: reset-brick, an operator’s call (an unmounted disk looks the same), before anything else', (t) => {
  const f = facts([0, 0, null], ['pub/media']);
  const plan = planVolume({ ...f, bricks: f.bricks.map((b) => (b.pending === null ? { ...b, blank: true } : b)) }, 'n1');
  t.is(plan.playbook, 'reset-brick');
  t.deepEqual(
    plan.steps.map((s) => [s.action, s.brick]),
    [
      ['reset-brick', 'vm:/b3'],
      ['heal', undefined],
    ],
  );
});

test('reset-brick resets the brick and waits until it answers', async (t) => {
  const { volume, calls } = fakeVolume([state(0, 0, null), state(0, 0, null), state(0, 0, 3)]);
  const r = await runVolumeStep({ node: 'n1', action: 'reset-brick', brick: 'vm:/b3', why: '' }, volume, { pollMs: 1 });
  t.deepEqual(calls, ['reset vm:/b3']);
  t.regex(r.detail, /vm:\/b3 reset and answering/);
});

test('an area emptied on the volume with files in the snapshot: restore-areas, the loss window said; an area the snapshot has no files for is left alone', (t) => {
  const plan = planVolume(facts([0, 0, 0], ['pub/media', 'var']), 'n1');
  t.is(plan.playbook, 'restore-areas');
  t.deepEqual(
    plan.steps.map((s) => [s.action, s.area, s.snapshotId]),
    [['restore-area', 'pub/media', snapshot.id]],
  );
  t.regex(plan.dataLoss ?? '', /files written to pub\/media after the snapshot .* cannot come back/);
  t.is(planVolume(facts([0, 0, 0], ['pub/media'], null), 'n1').playbook, 'none', 'no snapshot: nothing to restore from');
  t.is(planVolume(facts([0, 0, null], ['pub/media']), 'n1').playbook, 'restart-bricks', 'a brick first');
});

function fakeVolume(script: BrickState[][]) {
  const calls: string[] = [];
  let i = 0;
  const volume: LocalVolume = {
    name: 'shop',
    bricks: async () => script[Math.min(i++, script.length - 1)] as BrickState[],
    startDeadBricks: async () => void calls.push('start force'),
    heal: async () => void calls.push('heal'),
    resetBrick: async (brick) => void calls.push(`reset ${brick}`),
    restoreArea: async (area, id) => {
      calls.push(`restore ${area} ${id}`);
      return { files: 120, bytes: 5e6 };
    },
  };
  return { volume, calls };
}
const state = (...pending: (number | null)[]): BrickState[] =>
  B.map((name, i) => ({ name, pending: i < pending.length ? (pending[i] as number | null) : 0 }));

test('start-bricks asks again until every brick answers (glusterd may still count a dead brick as running); fails past its deadline naming the brick', async (t) => {
  const { volume, calls } = fakeVolume([state(0, 0, null), state(0, 0, null), state(2, 2, 0)]);
  const r = await runVolumeStep({ node: 'n1', action: 'start-bricks', why: '' }, volume, { pollMs: 1 });
  t.deepEqual(calls, ['start force', 'start force']);
  t.false(r.skipped);
  const stuck = fakeVolume([state(0, 0, null)]);
  await t.throwsAsync(runVolumeStep({ node: 'n1', action: 'start-bricks', why: '' }, stuck.volume, { pollMs: 1, startMs: 20 }), {
    message: /vm:\/b3 still not answering/,
  });
  t.true((await runVolumeStep({ node: 'n1', action: 'start-bricks', why: '' }, fakeVolume([state(0, 0, 0)]).volume)).skipped);
});

test('heal is watched until no entry is pending; past its deadline it fails with the counts', async (t) => {
  const { volume, calls } = fakeVolume([state(5, 5, 0), state(2, 2, 0), state(0, 0, 0)]);
  const r = await runVolumeStep({ node: 'n1', action: 'heal', why: '' }, volume, { pollMs: 1 });
  t.deepEqual(calls, ['heal']);
  t.regex(r.detail, /10 entries pending at the start, none after/);
  await t.throwsAsync(
    runVolumeStep({ node: 'n1', action: 'heal', why: '' }, fakeVolume([state(5, 5, 0)]).volume, { pollMs: 1, healMs: 20 }),
    { message: /not healed after .*vm:\/b1 5/ },
  );
});

test('restore-area restores the named area from the named snapshot', async (t) => {
  const { volume, calls } = fakeVolume([state(0, 0, 0)]);
  const r = await runVolumeStep(
    { node: 'n1', action: 'restore-area', area: 'pub/media', snapshotId: snapshot.id, why: '' },
    volume,
  );
  t.deepEqual(calls, [`restore pub/media ${snapshot.id}`]);
  t.regex(r.detail, /restored 120 files \(5.0 MB\) of pub\/media/);
});
