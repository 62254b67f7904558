import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { autoRecoveryDrill, waitUntil } from '../helpers/drill.js';
import { lifeboat } from '../helpers/lifeboat.js';
import { need, repoRoot, uniqueName } from '../helpers/testbed.js';

// The GlusterFS playbooks on the real testbed (the volume the drills' daemons mount as
// files.root): a killed brick is started again by a daemon and the volume heals; an emptied
// pub/media is planned for an operator (never restored by the daemon) and restored on their word.

const MEDIA = { name: 'pub/media', include: ['**'], exclude: [] };
const files = () => ({ root: need('GLUSTER_MOUNT'), areas: [MEDIA] });
const brick = (n: 1 | 2 | 3): string => need(`GLUSTER_BRICK${n}`);

function testbedGluster(cmd: string, n: number): void {
  execFileSync('bash', [`${repoRoot}/test/testbed/testbed.sh`, cmd, String(n)], { stdio: 'ignore', timeout: 120_000 });
}

function digest(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir).map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex'),
    ]),
  );
}

test.serial(
  'a brick killed: a daemon starts it again and watches the volume heal; the brick holds what was written meanwhile',
  async (t) => {
    const d = await autoRecoveryDrill(t, { files: files() });
    t.teardown(() => testbedGluster('brick-start', 3));
    const dir = join(need('GLUSTER_MOUNT'), 'pub/media', uniqueName('heal'));
    testbedGluster('brick-kill', 3);
    mkdirSync(dir);
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, `f${i}`), `written while brick 3 was down ${i}\n`);
    await waitUntil(
      'the restart-bricks recovery reported',
      async () =>
        d.alerts.some((a) => a.kind === 'recovery-finished' && (a as { playbook?: string }).playbook === 'restart-bricks'),
      120_000,
    );
    const finished = d.alerts.filter((a) => a.kind === 'recovery-finished') as {
      playbook?: string;
      outcome?: string;
      node?: string;
    }[];
    t.deepEqual(
      finished.map((a) => [a.node, a.playbook, a.outcome]),
      [['n1', 'restart-bricks', 'succeeded']],
      'one daemon drove it (the first in preferred order), once',
    );
    const onBrick = join(brick(3), dir.slice(need('GLUSTER_MOUNT').length));
    t.deepEqual(digest(onBrick), digest(dir), 'brick 3 healed: it holds every file written while it was down');
    rmSync(dir, { recursive: true, force: true });
  },
);

test.serial(
  'pub/media emptied: the daemon only asks; recover --execute --yes restores it from the snapshot, nothing else touched',
  async (t) => {
    const d = await autoRecoveryDrill(t, { files: files() });
    const media = join(need('GLUSTER_MOUNT'), 'pub/media');
    const saved = join(media, '..', `.media-saved-${process.pid}`);
    // what other tests left in pub/media is kept aside and put back
    rmSync(saved, { recursive: true, force: true });
    execFileSync('mv', [media, saved]);
    t.teardown(() => {
      rmSync(media, { recursive: true, force: true });
      execFileSync('mv', [saved, media]);
    });
    mkdirSync(join(media, 'catalog'), { recursive: true });
    for (let i = 0; i < 25; i++) writeFileSync(join(media, 'catalog', `p${i}.jpg`), `image ${i} `.repeat(1000));
    const before = digest(join(media, 'catalog'));
    const repo = d.repos[1];
    const snap = await lifeboat(repo, ['--json', 'snapshot', '--files-only', '--area', 'pub/media']);
    t.is(snap.code, 0, snap.stderr.slice(-2000));
    const id = (JSON.parse(snap.stdout) as { id: string }).id;
    t.is((await lifeboat(repo, ['verify', id])).code, 0);

    for (const e of readdirSync(media)) rmSync(join(media, e), { recursive: true, force: true });
    await waitUntil(
      'the daemon to hold the restore for an operator',
      async () => d.alerts.some((a) => a.kind === 'recovery-held' && (a as { playbook?: string }).playbook === 'restore-areas'),
      90_000,
    );
    t.deepEqual(readdirSync(media), [], 'the daemon restored nothing by itself');
    const plan = await lifeboat(repo, ['recover', '--plan']);
    t.is(plan.code, 0, plan.stderr);
    t.regex(plan.stdout, /decision: restore-areas — pub\/media empty on the volume/);
    t.regex(plan.stdout, /restore-area pub\/media/);
    t.regex(plan.stdout, /DATA LOSS: files written to pub\/media after the snapshot/);
    const run = await lifeboat(repo, ['recover', '--execute', '--yes']);
    t.is(run.code, 0, run.stderr.slice(-2000));
    t.regex(run.stdout, /restored 25 files/);
    t.deepEqual(digest(join(media, 'catalog')), before, 'every file back, byte for byte');
    const again = await lifeboat(repo, ['recover', '--plan']);
    t.regex(again.stdout, /volume \S+: the volume is whole/);
  },
);

test.serial(
  'a brick whose disk was replaced (its directory empty): the daemon only asks; recover --execute --yes resets it and the full heal fills it',
  async (t) => {
    const d = await autoRecoveryDrill(t, { files: files() });
    t.teardown(() => testbedGluster('brick-start', 3));
    const dir = join(need('GLUSTER_MOUNT'), 'pub/media', uniqueName('reset'));
    mkdirSync(dir);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `old${i}`), `written before the disk was lost ${i}\n`);
    testbedGluster('brick-wipe', 3);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `new${i}`), `written while brick 3 was gone ${i}\n`);
    await waitUntil(
      'the daemon to hold the reset for an operator',
      async () => d.alerts.some((a) => a.kind === 'recovery-held' && (a as { playbook?: string }).playbook === 'reset-brick'),
      90_000,
    );
    t.false(
      d.alerts.some((a) => a.kind === 'recovery-started'),
      'nothing run by the daemon',
    );
    const repo = d.repos[1];
    const plan = await lifeboat(repo, ['recover', '--plan']);
    t.regex(plan.stdout, /decision: reset-brick — \S+\/b3 down with an empty directory/);
    const run = await lifeboat(repo, ['recover', '--execute', '--yes']);
    t.is(run.code, 0, `${run.stdout}\n${run.stderr.slice(-2000)}`);
    t.regex(run.stdout, /reset-brick done .*reset and answering/);
    t.log(run.stdout.split('\n').find((l) => /heal (done|skipped)/.test(l)) ?? '(no heal line)');
    const onBrick = join(brick(3), dir.slice(need('GLUSTER_MOUNT').length));
    await waitUntil(
      'brick 3 filled by the full heal',
      async () => {
        try {
          return JSON.stringify(digest(onBrick)) === JSON.stringify(digest(dir));
        } catch {
          return false;
        }
      },
      120_000,
    );
    t.deepEqual(digest(onBrick), digest(dir), 'brick 3 holds every file again');
    rmSync(dir, { recursive: true, force: true });
  },
);
