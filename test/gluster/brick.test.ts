import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import {
  chooseBrick,
  cliGlusterd,
  type GlusterCli,
  parseHealCount,
  parseMountinfo,
  parseVolumeInfo,
} from '../../src/gluster/index.js';

// Captured from glusterfs 10.3 (the testbed's) and trimmed.
const HEAL_COUNT = `Gathering count of entries to be healed on volume media has been successful

Brick n1:/bricks/media
Number of entries: 0

Brick n2:/bricks/media
Status: Brick is not connected
No gathered input for this brick

Brick n3:/bricks/media
Number of entries: 2
`;

function volumeInfo(opts: { type?: string; shard?: boolean; arbiterLocal?: boolean; brick: string; self: string }): string {
  const brick = (name: string, uuid: string, arbiter = false): string =>
    `<brick uuid="${uuid}">${name}<name>${name}</name><hostUuid>${uuid}</hostUuid><isArbiter>${arbiter ? 1 : 0}</isArbiter></brick>`;
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cliOutput><opRet>0</opRet><opErrno>0</opErrno><opErrstr/><volInfo><volumes><volume>
<name>media</name><id>7423973c-49d4-491c-8ca4-20e09bda8f68</id><typeStr>${opts.type ?? 'Replicate'}</typeStr>
<bricks>${brick('n0:/bricks/media', 'aaaaaaaa-0000-0000-0000-000000000000')}${brick(`n1:${opts.brick}`, opts.self, opts.arbiterLocal)}</bricks>
<options>${opts.shard ? '<option><name>features.shard</name><value>on</value></option>' : ''}<option><name>nfs.disable</name><value>on</value></option></options>
</volume><count>1</count></volumes></volInfo></cliOutput>`;
}

test('heal counts: bricks that are down report none', (t) => {
  t.deepEqual(
    [...parseHealCount(HEAL_COUNT)],
    [
      ['n1:/bricks/media', 0],
      ['n3:/bricks/media', 2],
    ],
  );
});

test('mountinfo: octal escapes are decoded', (t) => {
  const m = parseMountinfo('56 27 0:41 / /srv/my\\040site rw,relatime - fuse.glusterfs n1:/media rw,user_id=0\n');
  t.deepEqual(m, [{ root: '/', mountPoint: '/srv/my site', fstype: 'fuse.glusterfs', source: 'n1:/media' }]);
});

test('volume info: type, bricks with arbiter flags, options', (t) => {
  const info = parseVolumeInfo(volumeInfo({ brick: '/b', self: 'u1', arbiterLocal: true, shard: true }));
  t.is(info.type, 'Replicate');
  t.deepEqual(info.bricks[1], { name: 'n1:/b', hostUuid: 'u1', arbiter: true });
  t.is(info.options.get('features.shard'), 'on');
  t.throws(() => parseVolumeInfo('<cliOutput><opRet>-1</opRet><opErrstr>Volume x does not exist</opErrstr></cliOutput>'), {
    message: /does not exist/,
  });
});

/** A mount point and a brick holding `sub/area`, with a fake gluster CLI. */
function setup(t: { teardown: (fn: () => void) => void }, answers: { info: string; heal?: string }) {
  const base = mkdtempSync(join(tmpdir(), 'lifeboat-gluster-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const mnt = join(base, 'mnt');
  const brick = join(base, 'brick');
  mkdirSync(join(mnt, 'area'), { recursive: true });
  mkdirSync(join(brick, 'sub', 'area'), { recursive: true });
  const calls: string[] = [];
  const cli: GlusterCli = async (args) => {
    calls.push(args.join(' '));
    if (args[0] === 'system::') return 'UUID: u1\n';
    if (args[1] === 'info') return answers.info;
    return answers.heal ?? 'Brick n0:/bricks/media\nNumber of entries: 0\n\nBrick n1:' + brick + '\nNumber of entries: 0\n';
  };
  const mountinfo = `56 27 0:41 / ${mnt} rw - fuse.glusterfs n1:/media/sub rw\n1 0 8:1 / / rw - ext4 /dev/sda1 rw\n`;
  return { mnt, brick, cli, mountinfo, calls };
}

test('a healthy replica with a local data brick is read from the brick (subdirectory mounts too)', async (t) => {
  const { mnt, brick, cli, mountinfo } = setup(t, { info: '' });
  const info = volumeInfo({ brick, self: 'u1' });
  const choice = await chooseBrick(join(mnt, 'area'), {
    glusterd: cliGlusterd((args, s) => (args[1] === 'info' ? Promise.resolve(info) : cli(args, s))),
    mountinfo,
  });
  t.is(choice.kind, 'brick');
  if (choice.kind !== 'brick') return;
  t.is(choice.view.dir, join(brick, 'sub', 'area'));
  t.is(choice.view.brick, `n1:${brick}`);
  t.false(choice.view.atBrickRoot);
  t.is(choice.view.id, `7423973c-49d4-491c-8ca4-20e09bda8f68:n1:${brick}`);
});

test('a bind mount of part of the volume maps to that part of the brick; the visible one of stacked mounts counts', async (t) => {
  const { mnt, brick, cli, mountinfo } = setup(t, { info: '' });
  const info = volumeInfo({ brick, self: 'u1' });
  const answers: GlusterCli = (args, s) => (args[1] === 'info' ? Promise.resolve(info) : cli(args, s));
  mkdirSync(join(brick, 'sub', 'media', 'area'), { recursive: true });
  // `media` of the volume's `sub` directory bind-mounted at mnt, over an older mount of the whole volume
  const bound = `${mountinfo}57 27 0:41 /media ${mnt} rw - fuse.glusterfs n1:/media/sub rw\n`;
  const choice = await chooseBrick(join(mnt, 'area'), { glusterd: cliGlusterd(answers), mountinfo: bound });
  t.is(choice.kind === 'brick' ? choice.view.dir : choice.reason, join(brick, 'sub', 'media', 'area'));
});

test('anything short of a clean local data brick reads the mount, saying why', async (t) => {
  const cases: [string, (brick: string) => { info: string; heal?: string }, RegExp][] = [
    ['distributed', (b) => ({ info: volumeInfo({ brick: b, self: 'u1', type: 'Distributed-Replicate' }) }), /part of its files/],
    ['sharded', (b) => ({ info: volumeInfo({ brick: b, self: 'u1', shard: true }) }), /sharded/],
    ['arbiter', (b) => ({ info: volumeInfo({ brick: b, self: 'u1', arbiterLocal: true }) }), /no data brick/],
    ['remote bricks only', (b) => ({ info: volumeInfo({ brick: b, self: 'someone-else' }) }), /no data brick/],
    [
      'pending heal',
      (b) => ({
        info: volumeInfo({ brick: b, self: 'u1' }),
        heal: `Brick n0:/bricks/media\nNumber of entries: 0\n\nBrick n1:${b}\nNumber of entries: 3\n`,
      }),
      /3 entries pending heal/,
    ],
    [
      'brick down',
      (b) => ({
        info: volumeInfo({ brick: b, self: 'u1' }),
        heal: `Brick n0:/bricks/media\nStatus: Brick is not connected\n\nBrick n1:${b}\nNumber of entries: 0\n`,
      }),
      /did not report its heal count/,
    ],
    ['cli fails', () => ({ info: 'not xml at all' }), /cannot inspect|volume info/],
  ];
  for (const [name, make, reason] of cases) {
    let brick = '';
    const probe = setup(t, { info: '' });
    brick = probe.brick;
    const answers = make(brick);
    const cli: GlusterCli = async (args) => {
      if (args[0] === 'system::') return 'UUID: u1\n';
      if (args[1] === 'info') return answers.info;
      return answers.heal ?? `Brick n0:/bricks/media\nNumber of entries: 0\n\nBrick n1:${brick}\nNumber of entries: 0\n`;
    };
    const choice = await chooseBrick(join(probe.mnt, 'area'), { glusterd: cliGlusterd(cli), mountinfo: probe.mountinfo });
    t.is(choice.kind, 'mount', name);
    if (choice.kind === 'mount') t.regex(choice.reason, reason, name);
  }
});

test('a directory that is not on a GlusterFS mount never runs the gluster CLI', async (t) => {
  const { mnt, cli, calls } = setup(t, { info: '' });
  const choice = await chooseBrick(mnt, { glusterd: cliGlusterd(cli), mountinfo: '1 0 8:1 / / rw - ext4 /dev/sda1 rw\n' });
  t.deepEqual(choice, { kind: 'mount', reason: 'not on a GlusterFS mount' });
  t.deepEqual(calls, []);
});
