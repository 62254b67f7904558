import { rmSync } from 'node:fs';
import { HEAP_FLAGS } from '../src/lib/heap.js';
import { nodeClient, type ScratchNode, scratchNode } from '../test/helpers/galera.js';
import { lifeboatBin, lifeboatEnv, testbedStore, testRepo } from '../test/helpers/lifeboat.js';
import { need, s3Facts } from '../test/helpers/testbed.js';
import { generateDatabase } from '../test/testbed/datagen/generate-db.js';
import { type Measured, measure, measureShell, sample } from './measure.js';
import { type BenchOptions, type BenchResult, runRounds, type Sample } from './rounds.js';

/** InnoDB bytes on the node (every schema: a physical backup copies them all). */
async function innodbBytes(): Promise<number> {
  const c = await nodeClient(1);
  try {
    const [row] = await c.query<{ bytes: string | null }>(
      "SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE engine = 'InnoDB'",
    );
    return Number(row?.bytes ?? 0);
  } finally {
    await c.close();
  }
}

/** Generates the benchmark database once (kept for later runs) and returns the node's InnoDB bytes. */
export async function ensureData(database: string, sizeMb: number): Promise<number> {
  const c = await nodeClient(1);
  let bytes: number;
  try {
    const [row] = await c.query<{ bytes: string | null }>(
      'SELECT SUM(data_length + index_length) AS bytes FROM information_schema.tables WHERE table_schema = ?',
      [database],
    );
    bytes = Number(row?.bytes ?? 0);
  } finally {
    await c.close();
  }
  if (bytes < sizeMb * 0.9 * 2 ** 20) {
    console.log(`bench: generating ${sizeMb} MB of Magento-shaped data in ${database} (once; kept for later runs)`);
    await generateDatabase({
      socket: need('GALERA_NODE1_SOCKET'),
      user: need('GALERA_USER'),
      password: need('GALERA_PASSWORD'),
      database,
      sizeMb,
    });
  }
  return innodbBytes();
}

/**
 * What our snapshot does that the hand pipeline does not, from its JSON log lines: the readiness
 * checks and the desync before the backup starts, and the wait for the node to be Synced after.
 */
export function snapshotExtra(stderr: string): Record<string, number> {
  const lines = stderr.split('\n').flatMap((l) => {
    try {
      const v = JSON.parse(l) as { message?: unknown; timestamp?: unknown; ms?: unknown };
      return typeof v.message === 'string' ? [v] : [];
    } catch {
      return [];
    }
  });
  const at = (message: string): number => Date.parse(String(lines.find((l) => l.message === message)?.timestamp));
  const resynced = lines.find((l) => l.message === 'node resynced');
  const extra: Record<string, number> = {};
  const checks = (at('node desynced for snapshot') - at('snapshot started')) / 1000;
  if (Number.isFinite(checks)) extra['checks + desync'] = checks;
  if (typeof resynced?.ms === 'number') extra['resync wait'] = resynced.ms / 1000;
  return extra;
}

/**
 * Snapshot and restore of the node's InnoDB data (>= 1 GiB; quick: ~50 MB generated): `lifeboat
 * snapshot` / `restore db` against the hand pipelines `mariadb-backup | zstd -T0 | aws s3 cp -` and
 * `aws s3 cp - | zstd -d | mbstream -x` + `--prepare`, on the same data and node. Every round starts
 * from an empty repository and empty restore targets.
 */
export async function benchDb(options: BenchOptions): Promise<BenchResult> {
  const dataBytes = options.quick ? await ensureData('bench_magento_quick', 48) : await ensureData('bench_magento', 1100);
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
  let ourNode: ScratchNode | undefined;
  let handNode: ScratchNode | undefined;
  const lifeboat = (...args: string[]): Promise<Measured> =>
    // with the V8 flags the `lifeboat` executable runs with
    measure(process.execPath, [...HEAP_FLAGS, lifeboatBin, '--config', repo.config, ...args], { env, stdout: true });
  const snapshotOurs = async (): Promise<Sample> => {
    const m = await lifeboat('--json', '--log-level', 'info', 'snapshot', '--db-only');
    return sample(m, snapshotExtra(m.stderr));
  };
  const snapshotHand = async (): Promise<Sample> =>
    sample(
      await measureShell(
        `mariadb-backup --backup --galera-info --stream=xbstream --socket=${socket} --user=${need('GALERA_USER')} --datadir=${datadir} 2>/dev/null | zstd -q -T0 | ${aws} - ${handKey}`,
        { ...awsEnv, MYSQL_PWD: need('GALERA_PASSWORD') },
      ),
    );
  const restoreOurs = async (): Promise<Sample> =>
    sample(await lifeboat('restore', 'db', '--snapshot', 'latest', '--to', (ourNode as ScratchNode).datadir));
  const restoreHand = async (): Promise<Sample> => {
    const target = (handNode as ScratchNode).datadir;
    return sample(
      await measureShell(
        `mkdir -p ${target} && ${aws} ${handKey} - | zstd -q -d | mbstream -x -C ${target} && mariadb-backup --prepare --target-dir=${target} --use-memory=512M 2>/dev/null`,
        awsEnv,
      ),
    );
  };
  const cleanup = async (): Promise<void> => {
    for (const node of [ourNode, handNode]) if (node) rmSync(node.dir, { recursive: true, force: true });
    const store = testbedStore();
    try {
      const keys: string[] = [];
      for await (const o of store.list(`${repo.prefix}/`)) keys.push(o.key);
      await store.delete(keys);
    } finally {
      store.destroy();
    }
  };
  const pairs = await runRounds(
    {
      pairs: [
        {
          name: 'snapshot',
          ours: { label: 'lifeboat', run: snapshotOurs },
          baseline: { label: 'hand pipeline', run: snapshotHand },
        },
        {
          name: 'restore',
          ours: { label: 'lifeboat', run: restoreOurs },
          baseline: { label: 'hand pipeline', run: restoreHand },
        },
      ],
      beforeRound: async () => {
        ourNode = scratchNode();
        handNode = scratchNode();
      },
      afterRound: cleanup,
    },
    options.rounds,
  );
  return {
    title: `db: ${(dataBytes / 2 ** 30).toFixed(2)} GiB of InnoDB data on node 2 of the 3-node testbed, Ceph RGW (targets: ratio >= 0.9, peak RSS < 200 MB)`,
    pairs,
    notes: [
      'ratio: hand pipeline wall s / lifeboat wall s; "of which" lines: work inside our wall time the hand pipeline does not do (from the job\'s JSON log)',
      'peak RSS: the largest single process of the side (for a snapshot that may be mariadb-backup, for a restore the --prepare)',
    ],
  };
}
