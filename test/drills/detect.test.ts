import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import type { ClusterView } from '../../src/health/monitor.js';
import { nodeClient } from '../helpers/galera.js';
import { lifeboatBin, lifeboatEnv, removeRepo, type TestRepo, testRepo } from '../helpers/lifeboat.js';
import { need, repoRoot, s3Facts, uniqueName } from '../helpers/testbed.js';

// Loss detection on the real testbed, destructively: one daemon per Galera node, each inside its
// node's network namespace (what the node sees, its daemon sees), the object store reached through
// a relay on the bridge (10.77.0.1), so a node cut off from its peers still reaches it. These
// drills cut links, kill nodes and partition the cluster: `npm test` runs them alone, after the
// rest of the suite, and each leaves the cluster whole again.

const BRIDGE = '10.77.0.1';
const API_PORT = 18491;
const TOKEN = 'test-token-1';
const NODES = [1, 2, 3] as const;
type N = (typeof NODES)[number];

function testbed(cmd: string, n: N): void {
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

interface Drill {
  readonly repos: Record<N, TestRepo>;
  readonly daemons: Map<N, { child: ChildProcess; stderr: () => string }>;
  readonly alerts: { kind: string; node?: string; observer?: string }[];
  start(n: N): void;
  view(n: N): Promise<ClusterView | undefined>;
}

async function drill(t: import('ava').ExecutionContext): Promise<Drill> {
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
  t.teardown(async () => {
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
  });
  for (const n of NODES) start(n);
  let views: (ClusterView | undefined)[] = [];
  await waitUntil('every daemon to see both peers healthy', async () => {
    views = await Promise.all(NODES.map(view));
    return views.every(
      (v, i) =>
        v && NODES.filter((m) => m !== i + 1).every((m) => state(v, m, (i + 1) as N) === 'healthy' && !witnessStale(v, m)),
    );
  }).catch((err: unknown) => {
    const tails = [...daemons.entries()].map(([n, x]) => `--- n${n}\n${x.stderr().slice(-1500)}`).join('\n');
    throw new Error(`${String(err)}\n${JSON.stringify(views).slice(0, 3000)}\n${tails}`);
  });
  return { repos, daemons, alerts, start, view };
}

function state(v: ClusterView | undefined, node: N, observer: N): string | undefined {
  return v?.nodes.find((r) => r.name === `n${node}`)?.observers[`n${observer}`]?.state;
}

/** The node's witness heartbeat has not moved for longer than the drills' witnessStaleSeconds (4). */
function witnessStale(v: ClusterView, node: N): boolean {
  return (v.nodes.find((r) => r.name === `n${node}`)?.heartbeat?.ageMs ?? Number.POSITIVE_INFINITY) > 4000;
}

async function clusterSize(): Promise<number> {
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

async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/** Every state each observer's own view gave the watched nodes while `during` ran. */
async function watch(d: Drill, observers: readonly N[], during: () => Promise<void>): Promise<Set<string>> {
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

const verdicts = (seen: Set<string>): string[] => [...seen].filter((s) => /:(lost|partitioned)$/.test(s));

test.serial('link blips shorter than the threshold (10 of them): no verdict anywhere, no alert', async (t) => {
  const d = await drill(t);
  const seen = await watch(d, [1, 2], async () => {
    for (let i = 0; i < 10; i++) {
      testbed('node-cut', 3);
      await sleep(2000);
      testbed('node-uncut', 3);
      await sleep(2500);
    }
  });
  t.log(`states seen: ${[...seen].sort().join(' ')}`);
  t.deepEqual(verdicts(seen), []);
  t.deepEqual(
    d.alerts.filter((a) => a.kind.startsWith('node-')),
    [],
  );
});

test.serial('a daemon that dies while its MariaDB keeps running is not a lost server', async (t) => {
  const d = await drill(t);
  const seen = await watch(d, [1, 2], async () => {
    d.daemons.get(3)?.child.kill('SIGKILL');
    await sleep(12_000);
  });
  t.deepEqual(verdicts(seen), [], [...seen].join(' '));
  t.true([...seen].includes('n3@n1:healthy'));
});

test.serial(
  'partition: the majority says partitioned, the isolated node knows it is the minority; no lost anywhere',
  async (t) => {
    const d = await drill(t);
    let minority = false;
    let partitioned = 0;
    const seen = await watch(d, [1, 2, 3], async () => {
      testbed('node-isolate', 1);
      const until = Date.now() + 20_000;
      while (Date.now() < until) {
        const [v1, v2, v3] = await Promise.all([d.view(1), d.view(2), d.view(3)]);
        if (v1?.minority) minority = true;
        if (state(v2, 1, 2) === 'partitioned' && state(v3, 1, 3) === 'partitioned') partitioned++;
        await sleep(500);
      }
      testbed('node-heal', 1);
    });
    t.log(`states seen: ${[...seen].sort().join(' ')}`);
    t.true(minority, 'n1 knows it is the minority');
    t.true(partitioned > 0, 'n2 and n3 call n1 partitioned');
    t.deepEqual(
      [...seen].filter((s) => s.endsWith(':lost')),
      [],
    );
    t.deepEqual(
      d.alerts.filter((a) => a.kind === 'node-lost'),
      [],
    );
  },
);

test.serial(
  'whole-server loss (link down + SIGKILL of everything of the node): both survivors say lost within the threshold, the witness agrees',
  async (t) => {
    const d = await drill(t);
    const killed = Date.now();
    testbed('node-kill', 3);
    const at: Partial<Record<N, number>> = {};
    await waitUntil(
      'both survivors to call n3 lost',
      async () => {
        for (const o of [1, 2] as const) if (!at[o] && state(await d.view(o), 3, o) === 'lost') at[o] = Date.now() - killed;
        return at[1] !== undefined && at[2] !== undefined;
      },
      40_000,
    );
    t.log(`detection latency: n1 ${at[1]} ms, n2 ${at[2]} ms (lostAfterSeconds 5, witnessStaleSeconds 4)`);
    const v1 = await d.view(1);
    t.true(v1 ? witnessStale(v1, 3) : false, "the witness agrees: n3's heartbeat is stale");
    // n2's verdict as n1 reads it from n2's heartbeat (a witness round or two behind)
    await waitUntil("n2's verdict in its heartbeat", async () => state(await d.view(1), 3, 2) === 'lost', 10_000);
    t.true((at[1] ?? 0) < 20_000 && (at[2] ?? 0) < 20_000);
    await waitUntil('the loss alerted', async () => d.alerts.some((a) => a.kind === 'node-lost'), 10_000);
    // the node returns: healthy again after the hysteresis
    testbed('node-start', 3);
    d.start(3);
    await waitUntil(
      'n3 healthy again from both survivors',
      async () => {
        const [v1b, v2b] = await Promise.all([d.view(1), d.view(2)]);
        return state(v1b, 3, 1) === 'healthy' && state(v2b, 3, 2) === 'healthy';
      },
      120_000,
    );
    await waitUntil('the resolved alert', async () => d.alerts.some((a) => a.kind === 'node-healthy'), 10_000);
  },
);
