import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext } from 'ava';
import type { ClusterView } from '../../src/health/monitor.js';
import { nodeClient } from '../helpers/galera.js';
import { lifeboatBin, lifeboatEnv, removeRepo, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { need, repoRoot, s3Facts, uniqueName } from '../helpers/testbed.js';

// The drill harness (test/drills, bench/detect): one daemon per Galera node, each inside its
// node's network namespace (what the node sees, its daemon sees), the object store reached through
// a relay on the bridge (10.77.0.1), so a node cut off from its peers still reaches it. Drills cut
// links, kill nodes and partition the cluster; `close` leaves the cluster whole again.

const BRIDGE = '10.77.0.1';
const API_PORT = 18491;
const TOKEN = 'test-token-1';
export const NODES = [1, 2, 3] as const;
export type N = (typeof NODES)[number];

export function testbed(cmd: string, n: N): void {
  execFileSync('bash', [`${repoRoot}/test/testbed/testbed.sh`, cmd, String(n)], { stdio: 'ignore', timeout: 240_000 });
}

/** A TCP relay on the bridge to a service of the root namespace. */
async function relay(port: number, to: { host: string; port: number }): Promise<NetServer> {
  const server = createServer((socket) => {
    const upstream = connect(to.port, to.host);
    socket.pipe(upstream).pipe(socket);
    const end = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(port, BRIDGE, resolve));
  return server;
}

export interface Drill {
  readonly repos: Record<N, TestRepo>;
  readonly daemons: Map<N, { child: ChildProcess; stderr: () => string }>;
  readonly alerts: { kind: string; node?: string; observer?: string }[];
  start(n: N): void;
  view(n: N): Promise<ClusterView | undefined>;
  /** heals, restarts what was killed, waits for a whole cluster, stops the daemons */
  close(): Promise<void>;
}

export interface DrillOptions {
  /** each daemon's `recovery` section (default: none, i.e. alert only) */
  readonly recovery?: (n: N) => Record<string, unknown>;
  /** each daemon's `files` section (default: no file areas) */
  readonly files?: Record<string, unknown>;
}

/**
 * `recovery.control` for node n's daemon: the testbed's own commands, run in the root network
 * namespace (where the testbed's links are) from the daemon's — or, `fromRoot`, from there.
 */
export function testbedControl(n: N, fromRoot = false): Record<string, unknown> {
  const enter = fromRoot ? [] : ['nsenter', `--net=/proc/${process.pid}/ns/net`, '--'];
  const cmd = (op: string): string[] => [...enter, 'bash', `${repoRoot}/test/testbed/testbed.sh`, op, String(n)];
  return {
    type: 'commands',
    start: cmd('node-start'),
    bootstrap: cmd('node-bootstrap'),
    stop: cmd('node-stop'),
    status: cmd('node-running'),
    recover: cmd('node-recover'),
  };
}

/** Each daemon's `recovery` section for drills that recover by themselves: auto, confirmed in 1 s, the testbed's commands. */
export const autoRecovery = (n: N): Record<string, unknown> => ({
  auto: true,
  confirmSeconds: 1,
  windowMinutes: 30,
  control: testbedControl(n),
});

/** A drill whose daemons recover by themselves (recovery.auto, the testbed's commands), closed on teardown. */
export async function autoRecoveryDrill(t: ExecutionContext, options: Omit<DrillOptions, 'recovery'> = {}): Promise<Drill> {
  const d = await openDrill({ ...options, recovery: autoRecovery });
  t.teardown(() => d.close());
  return d;
}

/** Starts the three daemons and waits until each sees both peers healthy. */
export async function openDrill(options: DrillOptions = {}): Promise<Drill> {
  const s3 = s3Facts();
  const s3Url = new URL(s3.endpoint);
  const s3Relay = await relay(17480, { host: s3Url.hostname, port: Number(s3Url.port) });
  const alerts: Drill['alerts'] = [];
  const hook: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      try {
        alerts.push(JSON.parse(body) as Drill['alerts'][number]);
      } catch {}
      res.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(17481, BRIDGE, resolve));
  const prefix = uniqueName('drill');
  const nodes = NODES.map((n) => ({
    name: `n${n}`,
    host: need(`GALERA_NODE${n}_HOST`),
    port: Number(need(`GALERA_NODE${n}_PORT`)),
    socket: need(`GALERA_NODE${n}_SOCKET`),
    datadir: need(`GALERA_NODE${n}_DATADIR`),
    api: `${BRIDGE}${n}:${API_PORT}`,
  }));
  const repos = Object.fromEntries(
    NODES.map((n) => [
      n,
      testRepo(`n${n}`, {
        prefix,
        extra: {
          cluster: { name: 'testbed', node: `n${n}`, nodes },
          storage: {
            url: `s3://${s3.bucket}/${prefix}`,
            endpoint: `http://${BRIDGE}:17480`,
            region: s3.region,
            accessKeyId: s3.accessKeyId,
            secretAccessKey: { env: 'LIFEBOAT_TEST_S3_SECRET' },
          },
          schedules: { snapshot: '0 0 1 1 *', prune: '0 0 1 1 *', verify: '0 0 1 1 *' },
          api: { listen: `${BRIDGE}${n}:${API_PORT}`, token: { env: 'LIFEBOAT_TEST_API_TOKEN' } },
          daemon: { shutdownTimeoutSeconds: 5 },
          health: {
            intervalSeconds: 1,
            lostAfterSeconds: 5,
            recoverAfterSeconds: 5,
            witnessIntervalSeconds: 1,
            witnessStaleSeconds: 4,
          },
          alerts: { webhook: `http://${BRIDGE}:17481/` },
          ...(options.recovery ? { recovery: options.recovery(n) } : {}),
          ...(options.files ? { files: options.files } : {}),
          log: { level: 'info', format: 'json' },
        },
      }),
    ]),
  ) as Record<N, TestRepo>;
  const daemons: Drill['daemons'] = new Map();
  const start = (n: N): void => {
    const child = spawn(
      'ip',
      ['netns', 'exec', `lbt-n${n}`, process.execPath, lifeboatBin, '--config', repos[n].config, 'daemon'],
      {
        env: lifeboatEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-200_000);
    });
    daemons.set(n, { child, stderr: () => stderr });
  };
  const view = async (n: N): Promise<ClusterView | undefined> => {
    const r = await fetch(`http://${BRIDGE}${n}:${API_PORT}/v1/cluster`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(2000),
    }).catch(() => undefined);
    return r?.ok ? ((await r.json()) as ClusterView) : undefined;
  };
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const n of NODES) {
      testbed('node-heal', n);
      testbed('node-uncut', n);
    }
    for (const d of daemons.values()) d.child.kill('SIGKILL');
    for (const n of NODES) testbed('node-start', n); // a no-op for a running node
    await waitUntil('the cluster whole again', async () => (await clusterSize()) === 3, 180_000);
    s3Relay.close();
    hook.close();
    await removeRepo(repos[1]);
  };
  for (const n of NODES) start(n);
  let views: (ClusterView | undefined)[] = [];
  await waitUntil('every daemon to see both peers healthy', async () => {
    views = await Promise.all(NODES.map(view));
    return views.every(
      (v, i) =>
        v && NODES.filter((m) => m !== i + 1).every((m) => state(v, m, (i + 1) as N) === 'healthy' && !witnessStale(v, m)),
    );
  }).catch(async (err: unknown) => {
    const tails = [...daemons.entries()].map(([n, x]) => `--- n${n}\n${x.stderr().slice(-1500)}`).join('\n');
    await close();
    throw new Error(`${String(err)}\n${JSON.stringify(views).slice(0, 3000)}\n${tails}`);
  });
  return { repos, daemons, alerts, start, view, close };
}

export function state(v: ClusterView | undefined, node: N, observer: N): string | undefined {
  return v?.nodes.find((r) => r.name === `n${node}`)?.observers[`n${observer}`]?.state;
}

/** The node's witness heartbeat has not moved for longer than the drills' witnessStaleSeconds (4). */
export function witnessStale(v: ClusterView, node: N): boolean {
  return (v.nodes.find((r) => r.name === `n${node}`)?.heartbeat?.ageMs ?? Number.POSITIVE_INFINITY) > 4000;
}

export async function clusterSize(): Promise<number> {
  const c = await nodeClient(1).catch(() => undefined);
  if (!c) return 0;
  try {
    const rows = await c.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_size'");
    return Number(rows[0]?.Value ?? 0);
  } catch {
    return 0;
  } finally {
    await c.close();
  }
}

export async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Every state each observer's own view gave the watched nodes while `during` ran. */
export async function watch(d: Drill, observers: readonly N[], during: () => Promise<void>): Promise<Set<string>> {
  const seen = new Set<string>();
  let going = true;
  const poller = (async () => {
    while (going) {
      for (const o of observers) {
        const v = await d.view(o);
        for (const m of NODES) if (m !== o && v) seen.add(`n${m}@n${o}:${state(v, m, o)}`);
      }
      await sleep(200);
    }
  })();
  try {
    await during();
  } finally {
    going = false;
    await poller;
  }
  return seen;
}

export interface Writer {
  /** stops it; the ids whose commit was acknowledged, and the errors seen */
  stop(): Promise<{ acked: number[]; errors: number }>;
}

/**
 * Commits numbered rows to `lifeboat_drill.writes` through node `n`'s server, reconnecting after
 * any error (a node out of the Primary component refuses writes): every id it reports acked got
 * an OK for its COMMIT.
 */
export async function startWriter(t: ExecutionContext, n: N, table: string): Promise<Writer> {
  const setup = await nodeClient(n);
  try {
    await setup.execute('CREATE DATABASE IF NOT EXISTS lifeboat_drill');
    await setup.execute(`CREATE TABLE lifeboat_drill.${table} (id INT PRIMARY KEY, at DATETIME(3) NOT NULL)`);
  } finally {
    await setup.close();
  }
  let running = true;
  const acked: number[] = [];
  let errors = 0;
  const loop = (async () => {
    let id = 0;
    let client: Awaited<ReturnType<typeof nodeClient>> | undefined;
    while (running) {
      id++;
      try {
        client ??= await nodeClient(n);
        await client.execute(`INSERT INTO lifeboat_drill.${table} (id, at) VALUES (?, NOW(3))`, [id], { timeoutMs: 3000 });
        acked.push(id);
        await sleep(20);
      } catch {
        errors++;
        await client?.close().catch(() => {});
        client = undefined;
        await sleep(200);
      }
    }
    await client?.close().catch(() => {});
  })();
  const stop = async () => {
    running = false;
    await loop;
    return { acked, errors };
  };
  // a failed assertion must not leave the loop running: it would keep the test process alive
  t.teardown(async () => {
    await stop();
  });
  return { stop };
}

/** Node n's MariaDB error log from byte `from` on (what Galera said of a join: IST or SST). */
export function errorLog(n: N, from = 0): string {
  const log = readFileSync(need(`GALERA_NODE${n}_ERRORLOG`));
  return log.subarray(Math.min(from, log.length)).toString('utf8');
}

export function errorLogSize(n: N): number {
  return statSync(need(`GALERA_NODE${n}_ERRORLOG`)).size;
}

/** The ids of `table` on node `n` that are missing from `acked` (an acknowledged commit lost). */
export async function missingCommits(n: N, table: string, acked: readonly number[]): Promise<number[]> {
  const c = await nodeClient(n);
  try {
    const rows = await c.query<{ id: number }>(`SELECT id FROM lifeboat_drill.${table}`);
    const present = new Set(rows.map((r) => Number(r.id)));
    return acked.filter((id) => !present.has(id));
  } finally {
    await c.close();
  }
}

/** This node's Galera component as its server says (`Primary`, `non-Primary`, or `down`). */
export async function component(n: N): Promise<string> {
  const c = await nodeClient(n).catch(() => undefined);
  if (!c) return 'down';
  try {
    const rows = await c.query<{ Value: string }>("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_status'", [], { timeoutMs: 2000 });
    return rows[0]?.Value ?? 'unknown';
  } catch {
    return 'down';
  } finally {
    await c.close().catch(() => {});
  }
}
