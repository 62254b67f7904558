import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Store } from '../../src/storage/s3-store.js';
import { need, repoRoot, s3Facts, uniqueName } from './testbed.js';

export const lifeboatBin = join(repoRoot, 'dist/bundle/main.js');

export interface TestRepo {
  /** config file for the CLI */
  readonly config: string;
  /** repository prefix inside the testbed bucket */
  readonly prefix: string;
  readonly stateDir: string;
  readonly cluster: string;
}

/**
 * A config for the real testbed (Galera nodes, Ceph RGW) with its own bucket prefix and state
 * directory. `node` is the node this "daemon" runs on.
 */
export function testRepo(
  node: 'n1' | 'n2' | 'n3',
  overrides: { tools?: Record<string, string>; socket?: string; prefix?: string; extra?: Record<string, unknown> } = {},
): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-test-'));
  chmodSync(dir, 0o755);
  const prefix = overrides.prefix ?? uniqueName('t');
  created.add(prefix);
  const s3 = s3Facts();
  const nodes = [1, 2, 3].map((n) => ({
    name: `n${n}`,
    host: need(`GALERA_NODE${n}_HOST`),
    port: Number(need(`GALERA_NODE${n}_PORT`)),
    socket: overrides.socket && `n${n}` === node ? overrides.socket : need(`GALERA_NODE${n}_SOCKET`),
    datadir: need(`GALERA_NODE${n}_DATADIR`),
  }));
  const config = {
    stateDir: join(dir, 'state'),
    cluster: { name: 'testbed', node, nodes },
    database: {
      user: need('GALERA_USER'),
      password: { env: 'LIFEBOAT_TEST_DB_PASSWORD' },
      ...(overrides.tools ? { tools: overrides.tools } : {}),
    },
    storage: {
      url: `s3://${s3.bucket}/${prefix}`,
      endpoint: s3.endpoint,
      region: s3.region,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: { env: 'LIFEBOAT_TEST_S3_SECRET' },
    },
    // No file areas unless a test asks for them: database tests stay database-only.
    files: { root: need('GLUSTER_MOUNT'), areas: [] },
    log: { level: 'debug', format: 'json' },
    ...overrides.extra,
  };
  const path = join(dir, 'lifeboat.yaml');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { config: path, prefix, stateDir: config.stateDir, cluster: 'testbed' };
}

export function lifeboatEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LIFEBOAT_TEST_DB_PASSWORD: need('GALERA_PASSWORD'),
    LIFEBOAT_TEST_S3_SECRET: s3Facts().secretAccessKey,
    LIFEBOAT_TEST_API_TOKEN: 'test-token-1',
  };
}

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Lifeboat processes still running: a test that fails half-way never leaves one behind its file. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts the real `lifeboat` CLI as a child process; `stderr()` is what it logged so far. */

export function startLifeboat(
  repo: TestRepo,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<Run>; stderr: () => string } {
  const child = spawn(process.execPath, [lifeboatBin, '--config', repo.config, ...args], {
    env: { ...lifeboatEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  running.add(child);
  const done = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return { child, done, stderr: () => stderr };
}

export function lifeboat(repo: TestRepo, args: readonly string[]): Promise<Run> {
  return startLifeboat(repo, args).done;
}

/** An S3 store on the testbed bucket, for inspecting what a test left. */
export function testbedStore(): S3Store {
  return new S3Store({ ...s3Facts(), forcePathStyle: true });
}

/** Deletes everything a test wrote under its repository prefix (the testbed's OSD is small). */
/** prefixes handed out by `testRepo` in this process (ava runs each test file in its own) */
const created = new Set<string>();

/**
 * For `test.after.always`: stops any Lifeboat process a failed test left running (it would keep
 * the worker alive until ava's timeout) and deletes every prefix `testRepo` made in this process
 * (a 6 GiB testbed store fills up otherwise).
 */
export async function removeTestRepos(): Promise<void> {
  for (const child of running) {
    process.stderr.write(`lifeboat pid ${child.pid} (${child.spawnargs.slice(-1).join(' ')}) left running by a test: killed\n`);
    child.kill('SIGKILL');
  }
  for (const prefix of created) await removeRepo({ prefix });
  created.clear();
  // A worker still alive 30 s after its last hook keeps ava waiting until its timeout: say why.
  setTimeout(() => {
    process.stderr.write(`test worker still alive after its tests, held by: ${process.getActiveResourcesInfo().join(', ')}\n`);
  }, 30_000).unref();
}

export async function removeRepo(repo: Pick<TestRepo, 'prefix'>): Promise<void> {
  const store = testbedStore();
  try {
    const keys: string[] = [];
    for await (const o of store.list(`${repo.prefix}/`)) keys.push(o.key);
    for (let i = 0; i < keys.length; i += 1000) await store.delete(keys.slice(i, i + 1000));
  } finally {
    store.destroy();
  }
}
