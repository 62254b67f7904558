import type { Config } from '../../../config/load.js';
import type { ClusterView, NodeRow, Verdict } from '../../health/monitor.js';
import { Witness } from '../../health/witness.js';
import { errorMessage } from '../../lib/errors.js';
import { witnessStore } from '../cluster-health.js';
import type { CommandContext } from '../command-context.js';
import { EXIT } from '../exit-codes.js';
import { openWitnessStore } from '../runtime.js';

/** What `lifeboat cluster status` shows: the daemon's view, or the witness heartbeats when it does not answer. */
export type ClusterStatus =
  | { readonly source: 'daemon'; readonly view: ClusterView }
  | {
      readonly source: 'witness';
      /** why the daemon's API was not used */
      readonly daemonError: string;
      /** no observer answers: `observer` and `minority` are null, staleness is judged on the writers' clocks */
      readonly view: Omit<ClusterView, 'observer' | 'minority'> & { readonly observer: null; readonly minority: null };
    };

const DAEMON_TIMEOUT_MS = 3000;

export async function runClusterStatus(ctx: CommandContext): Promise<number> {
  const config = ctx.config();
  let status: ClusterStatus;
  try {
    status = { source: 'daemon', view: await askDaemon(config) };
  } catch (err) {
    const daemonError = errorMessage(err);
    ctx.logger.warn('the local daemon does not answer: reading the witness heartbeats', { error: daemonError });
    status = { source: 'witness', daemonError, view: await fromWitness(config) };
  }
  ctx.print(status, (s) => describe(s, config));
  return EXIT.ok;
}

/** `GET /v1/cluster` of the daemon on api.listen (a wildcard address is asked on loopback). */
export async function askDaemon(config: Config): Promise<ClusterView> {
  const { listen, token } = config.api;
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at);
  const port = listen.slice(at + 1);
  if (port === '0') throw new Error(`api.listen '${listen}': port 0, the daemon's port is not known`);
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/v1/cluster`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: token ? { authorization: `Bearer ${token.reveal()}` } : {},
      signal: AbortSignal.timeout(DAEMON_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new Error(`daemon API ${url}: ${errorMessage(err)}${cause}`);
  }
  const body = await response.text();
  if (!response.ok) {
    let message = body;
    try {
      message = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body;
    } catch {
      // not our JSON: the text is the message
    }
    throw new Error(`daemon API ${url}: HTTP ${response.status}: ${message}`);
  }
  return JSON.parse(body) as ClusterView;
}

/** Every node's last witness heartbeat, read once: what each one last said it sees. */
async function fromWitness(config: Config): Promise<Extract<ClusterStatus, { source: 'witness' }>['view']> {
  const staleMs = config.health.witnessStaleSeconds * 1000;
  const store = openWitnessStore(config);
  const names = config.cluster.nodes.map((n) => n.name);
  const now = Date.now();
  let heard: Awaited<ReturnType<Witness['read']>> = new Map();
  let readError: string | null = null;
  try {
    heard = await new Witness(witnessStore(store, DAEMON_TIMEOUT_MS), config.cluster.name, config.cluster.node, Date.now).read(
      names,
    );
  } catch (err) {
    readError = errorMessage(err);
  }
  const nodes: NodeRow[] = names.map((name) => {
    const observers: Record<string, Verdict> = {};
    for (const observer of names) {
      const hb = heard.get(observer)?.heartbeat;
      const report = hb?.reports?.[name];
      if (observer === name || !hb || !report) continue;
      const { failingForMs: _f, ...verdict } = report;
      observers[observer] = { ...verdict, source: 'witness', stale: now - Date.parse(hb.at) > staleMs };
    }
    const hb = heard.get(name)?.heartbeat;
    return { name, observers, heartbeat: hb ? { seq: hb.seq, at: hb.at, ageMs: null, galera: hb.galera } : null };
  });
  return {
    observer: null,
    at: new Date(now).toISOString(),
    minority: null,
    witness: { writtenAt: null, writeError: null, readAt: new Date(now).toISOString(), readError },
    nodes,
  };
}

/** The table a person reads at 3 am: a row per node, a column per observer, then the evidence. */
function describe(status: ClusterStatus, config: Config): string {
  const { view } = status;
  const names = config.cluster.nodes.map((n) => n.name);
  const lines: string[] = [];
  if (status.source === 'daemon') {
    lines.push(`cluster ${config.cluster.name}, as the daemon of ${view.observer} sees it at ${view.at}`);
    if (view.minority)
      lines.push('', `!! ${view.observer} IS THE MINORITY OF A PARTITION: it reaches no peer, whose heartbeats are fresh.`, '');
  } else {
    lines.push(
      `cluster ${config.cluster.name}: the local daemon does not answer (${status.daemonError})`,
      `FROM THE WITNESS HEARTBEATS in the object store at ${view.at}: what each node last wrote; staleness by the writers' clocks`,
    );
  }
  if (view.witness.readError) lines.push(`witness heartbeats unreadable: ${view.witness.readError}`);
  if (view.witness.writeError) lines.push(`this node's heartbeat not written: ${view.witness.writeError}`);
  const header = ['NODE', ...names.map((n) => `SEEN BY ${n}`), 'HEARTBEAT'];
  const rows = view.nodes.map((row) => [
    row.name,
    ...names.map((observer) => cell(row, observer, view.at)),
    row.heartbeat ? `#${row.heartbeat.seq} ${row.heartbeat.at}` : 'none',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const r of [header, ...rows])
    lines.push(
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  lines.push('', 'evidence:');
  for (const row of view.nodes) {
    for (const [observer, v] of Object.entries(row.observers)) {
      lines.push(`  ${row.name} seen by ${observer}${v.stale ? ' (stale heartbeat)' : ''}: ${v.evidence}`);
      if (v.state !== 'healthy') lines.push(`    ${v.state} because ${v.reason}`);
    }
  }
  return lines.join('\n');
}

function cell(row: NodeRow, observer: string, now: string): string {
  if (row.name === observer) return '-';
  const v = row.observers[observer];
  if (!v) return 'no report';
  const state = v.state === 'healthy' ? v.state : v.state.toUpperCase();
  return `${state} ${ago(Date.parse(now) - Date.parse(v.since))}${v.stale ? ' (stale)' : ''}`;
}

/** `for 3m12s` */
function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `for ${s}s`;
  if (s < 3600) return `for ${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `for ${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
