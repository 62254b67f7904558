import { rmSync } from 'node:fs';
import { nodeClient, scratchNode } from '../test/helpers/galera.js';
import { lifeboatBin, lifeboatEnv, testbedStore, testRepo } from '../test/helpers/lifeboat.js';
import { need, s3Facts } from '../test/helpers/testbed.js';
import { generateDatabase } from '../test/testbed/datagen/generate-db.js';
import { type Measured, measure, printTable } from './measure.js';

const DATABASE = 'bench_magento';
const TARGET_MB = 1100;

/** InnoDB bytes of the benchmark database, generating it first when missing or too small. */
async function ensureData(): Promise<number> {
  const size = async (): Promise<number> => {
    const c = await nodeClient(1);
    try {
      const [row] = await c.query<{ bytes: string | null }>(
        'SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema = ?',
        [DATABASE],
      );
      return Number(row?.bytes ?? 0);
    } finally {
      await c.close();
    }
  };
  let bytes = await size();
  if (bytes < 1024 ** 3) {
    console.log(`bench db: generating ${TARGET_MB} MB of Magento-shaped data in ${DATABASE} (once; kept for later runs)`);
    await generateDatabase({
      socket: need('GALERA_NODE1_SOCKET'),
      user: need('GALERA_USER'),
      password: need('GALERA_PASSWORD'),
      database: DATABASE,
      sizeMb: TARGET_MB,
    });
    bytes = await size();
  }
  return bytes;
}

/**
 * Snapshot and restore of >= 1 GiB of InnoDB data: `lifeboat snapshot` / `restore db` against the
 * hand pipelines `mariadb-backup | zstd -T0 | aws s3 cp -` and `aws s3 cp - | zstd -d | mbstream
 * -x` + `--prepare`, in the same run, on the same data and node.
 */
export async function benchDb(): Promise<void> {
  const dataBytes = await ensureData();
  const repo = testRepo('n2');
  const facts = s3Facts();
  const env = lifeboatEnv();
  const awsEnv = {
    ...env,
    AWS_ACCESS_KEY_ID: facts.accessKeyId,
    AWS_SECRET_ACCESS_KEY: facts.secretAccessKey,
    AWS_DEFAULT_REGION: facts.region,
  };
  const handKey = `s3://${facts.bucket}/${repo.prefix}/hand/db.xbstream.zst`;
  const aws = `aws --endpoint-url ${facts.endpoint} s3 cp --only-show-errors`;
  const socket = need('GALERA_NODE2_SOCKET');
  const datadir = need('GALERA_NODE2_DATADIR');
  const ourNode = scratchNode();
  const handNode = scratchNode();
  const results: { ours: Measured; hand: Measured }[] = [];
  try {
    const snapshotOurs = await measure(process.execPath, [lifeboatBin, '--config', repo.config, 'snapshot', '--db-only'], {
      env,
      rss: 'self',
    });
    const snapshotHand = await measure(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `mariadb-backup --backup --galera-info --stream=xbstream --socket=${socket} --user=${need('GALERA_USER')} --datadir=${datadir} 2>/dev/null | zstd -q -T0 | ${aws} - ${handKey}`,
      ],
      { env: { ...awsEnv, MYSQL_PWD: need('GALERA_PASSWORD') } },
    );
    results.push({ ours: snapshotOurs, hand: snapshotHand });
    const restoreOurs = await measure(
      process.execPath,
      [lifeboatBin, '--config', repo.config, 'restore', 'db', '--snapshot', 'latest', '--to', ourNode.datadir],
      { env, rss: 'self' },
    );
    const restoreHand = await measure(
      'bash',
      [
        '-o',
        'pipefail',
        '-c',
        `mkdir -p ${handNode.datadir} && ${aws} ${handKey} - | zstd -q -d | mbstream -x -C ${handNode.datadir} && mariadb-backup --prepare --target-dir=${handNode.datadir} --use-memory=512M 2>/dev/null`,
      ],
      { env: awsEnv },
    );
    results.push({ ours: restoreOurs, hand: restoreHand });
  } finally {
    rmSync(ourNode.dir, { recursive: true, force: true });
    rmSync(handNode.dir, { recursive: true, force: true });
    const store = testbedStore();
    const keys: string[] = [];
    for await (const o of store.list(`${repo.prefix}/`)) keys.push(o.key);
    await store.delete(keys);
    store.destroy();
  }
  const MB = 1e6;
  const [snap, rest] = results as [{ ours: Measured; hand: Measured }, { ours: Measured; hand: Measured }];
  printTable(
    `db: ${(dataBytes / 1024 ** 3).toFixed(2)} GiB of InnoDB data on the 3-node testbed, Ceph RGW (targets: ratio >= 0.9, Lifeboat peak RSS < 200 MB)`,
    [
      ['operation', 'lifeboat s', 'hand pipeline s', 'ratio (hand/lifeboat)', 'lifeboat MB/s (data)', 'lifeboat peak RSS MB'],
      [
        'snapshot',
        snap.ours.seconds,
        snap.hand.seconds,
        snap.hand.seconds / snap.ours.seconds,
        dataBytes / MB / snap.ours.seconds,
        snap.ours.peakRss / MB,
      ],
      [
        'restore',
        rest.ours.seconds,
        rest.hand.seconds,
        rest.hand.seconds / rest.ours.seconds,
        dataBytes / MB / rest.ours.seconds,
        rest.ours.peakRss / MB,
      ],
    ],
  );
}
