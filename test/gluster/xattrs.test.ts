import test from 'ava';
import { mountTimesFromBrick, parseGetfattr } from '../../src/gluster/index.js';

// Captured from the testbed (glusterfs 10.3): `getfattr -h -d -e hex --absolute-names -m …` on a
// brick; the mount showed mtime 1795683483.911783785 and inode 11402328918315797891 for `f`.
const GETFATTR = `# file: /bricks/b1/x/d/f
trusted.gfid=0x6aeb2ad1b89e41b79e3d35bd34608d83
trusted.glusterfs.mdata=0x010000000000000000000000006b07f49b000000003658b769000000006b07f49b000000003658b769000000006b07f49b000000003640120a

# file: /bricks/b1/x/d/a b=c\\134d
trusted.gfid=0x18a96810e56c4cb7a58bd39b7033af9a

# file: /bricks/b1/x/d/\\303\\251t\\303\\251
trusted.gfid=0xd562dab630754ce4b1f45456b8204de9
trusted.glusterfs.mdata=0x020000000000000000000000006b07f49b00000000368eb4ba000000006b07f49b00000000368eb4ba000000006b07f49b0000000036218f40
`;

test('a failing xattr reader leaves every path to the mount', async (t) => {
  const errors: unknown[] = [];
  const times = await mountTimesFromBrick(['/b/x'], {
    reader: async () => {
      throw new Error('getfattr: command not found');
    },
    onError: (err) => void errors.push(err),
  });
  t.is(times.size, 0);
  t.is(errors.length, 1);
});

test('mount times from brick xattrs: mdata mtime and the gfid inode; anything unknown is left to the mount', async (t) => {
  const parsed = parseGetfattr(GETFATTR);
  t.deepEqual([...parsed.keys()], ['/bricks/b1/x/d/f', '/bricks/b1/x/d/a b=c\\d', '/bricks/b1/x/d/été']);
  const batches: string[][] = [];
  const times = await mountTimesFromBrick(['/bricks/b1/x/d/f', '/bricks/b1/x/d/a b=c\\d', '/bricks/b1/x/d/été', '/gone'], {
    reader: async (paths) => {
      batches.push([...paths]);
      return GETFATTR;
    },
  });
  t.is(batches.length, 1);
  t.deepEqual(
    [...times],
    [['/bricks/b1/x/d/f', { mtime: '2026-11-26T08:58:03.911783785Z', inode: '11402328918315797891' }]],
    'no mdata, or an unknown mdata version: not answered',
  );
});
