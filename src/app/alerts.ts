import { errorMessage, UsageError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import { Secret } from '../lib/secret.js';

/**
 * What the daemon reports. `rpo-recovered` only sends when a breach was alerted before, and
 * `database-up` only when `database-down` was. A peer's verdict (`node-lost`, `node-partitioned`)
 * sends once per verdict (not again when a recovering peer falls back to it), `node-healthy` only
 * after a verdict was alerted; `node-minority-resolved` only after `node-minority`.
 */
export type AlertEvent =
  | { readonly kind: 'job-failed'; readonly job: string; readonly runId: string; readonly error: string }
  | { readonly kind: 'database-down'; readonly since: string; readonly error: string }
  | { readonly kind: 'database-up'; readonly downSince: string }
  | { readonly kind: 'rpo-breach'; readonly ageSeconds: number; readonly limitSeconds: number; readonly newest: string | null }
  | {
      readonly kind: 'rpo-recovered';
      readonly ageSeconds: number;
      readonly limitSeconds: number;
      readonly newest: string | null;
    }
  | { readonly kind: 'node-lost'; readonly peer: string; readonly since: string; readonly evidence: string }
  | { readonly kind: 'node-partitioned'; readonly peer: string; readonly since: string; readonly evidence: string }
  | { readonly kind: 'node-healthy'; readonly peer: string; readonly was: 'lost' | 'partitioned'; readonly evidence: string }
  | { readonly kind: 'node-minority'; readonly since: string; readonly evidence: string }
  | { readonly kind: 'node-minority-resolved'; readonly evidence: string }
  | {
      readonly kind: 'recovery-started';
      readonly id: string;
      readonly playbook: string;
      readonly decision: string;
      /** what cannot come back, when the plan rebuilds from a snapshot */
      readonly dataLoss?: string;
    }
  | {
      readonly kind: 'recovery-finished';
      readonly id: string;
      readonly playbook: string;
      readonly outcome: 'succeeded' | 'failed';
      readonly error?: string;
    }
  | { readonly kind: 'recovery-held'; readonly playbook: string; readonly decision: string; readonly reason: string };

/**
 * The JSON body POSTed to the webhook: the event's fields, who sends it, when, and a one-line
 * `text` that chat webhooks (Slack, Mattermost, Teams connectors) display as is.
 */
export type AlertPayload = AlertEvent & {
  readonly source: 'lifeboat';
  readonly cluster: string | null;
  readonly node: string | null;
  readonly at: string;
  readonly text: string;
};

export interface AlerterOptions {
  /** webhook URL; without one alerts are logged at debug and dropped. A URL with a token in it may come as a Secret. */
  readonly url?: string | Secret;
  readonly cluster?: string;
  readonly node?: string;
  readonly logger?: Logger;
  /** per attempt (default 5000) */
  readonly timeoutMs?: number;
  /** attempts after the first on a network error, a timeout, 408, 429 or 5xx (default 2) */
  readonly retries?: number;
  /** wait before the first retry, doubled for each next one (default 1000) */
  readonly backoffMs?: number;
  /** an rpo breach is re-sent at most this often while it lasts (default one hour) */
  readonly rpoRepeatMs?: number;
  readonly fetchImpl?: typeof fetch;
  readonly now?: () => number;
}

export interface Alerter {
  /** Delivers the event or gives up after the retries; never rejects. */
  alert(event: AlertEvent): Promise<void>;
  /** Waits for deliveries in flight (for shutdown). */
  flush(): Promise<void>;
}

/** Longest error text sent; job errors can quote whole command outputs. */
const MAX_ERROR_CHARS = 2000;

export function createAlerter(options: AlerterOptions): Alerter {
  const logger = (options.logger ?? nullLogger).child({ component: 'alerts' });
  const url = options.url instanceof Secret ? options.url.reveal() : options.url;
  if (url !== undefined) checkUrl(url);
  const timeoutMs = positive(options.timeoutMs, 5000, 'timeoutMs');
  const retries = nonNegative(options.retries, 2, 'retries');
  const backoffMs = nonNegative(options.backoffMs, 1000, 'backoffMs');
  const rpoRepeatMs = nonNegative(options.rpoRepeatMs, 3_600_000, 'rpoRepeatMs');
  const fetchImpl = options.fetchImpl ?? fetch;
  const now = options.now ?? Date.now;
  // The URL may carry a token (Slack, Teams): only its origin is ever logged.
  const target = url === undefined ? undefined : safeOrigin(url);
  const pending = new Set<Promise<void>>();
  /** when the current breach was last alerted; undefined while there is no alerted breach */
  let rpoAlertedAt: number | undefined;
  let databaseDownAlerted = false;
  /** the verdict alerted for each peer, until it is healthy again */
  const verdictAlerted = new Map<string, 'lost' | 'partitioned'>();
  let minorityAlerted = false;

  const deliver = async (payload: AlertPayload): Promise<boolean> => {
    if (url === undefined) return false;
    const body = JSON.stringify(payload);
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(backoffMs * 2 ** (attempt - 1));
      let problem: string;
      let retryable = true;
      try {
        const res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'lifeboat' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel().catch(() => {});
        if (res.ok) {
          logger.debug('alert delivered', { kind: payload.kind, target, attempt: attempt + 1 });
          return true;
        }
        problem = `http ${res.status}`;
        retryable = res.status >= 500 || res.status === 408 || res.status === 429;
      } catch (err) {
        problem = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeMessage(err);
      }
      logger.warn('alert delivery failed', { kind: payload.kind, target, attempt: attempt + 1, error: problem });
      if (!retryable) break;
    }
    logger.error('alert dropped', { kind: payload.kind, target, text: payload.text });
    return false;
  };

  const send = async (event: AlertEvent): Promise<void> => {
    const payload = compose(event, options.cluster ?? null, options.node ?? null, new Date(now()).toISOString());
    if (url === undefined) {
      logger.debug('alert not sent: no webhook configured', { kind: event.kind, text: payload.text });
      return;
    }
    if (event.kind === 'job-failed' || event.kind.startsWith('recovery-')) {
      await deliver(payload);
      return;
    }
    if (event.kind === 'database-down') {
      databaseDownAlerted = (await deliver(payload)) || databaseDownAlerted;
      return;
    }
    if (event.kind === 'database-up') {
      if (!databaseDownAlerted) return;
      databaseDownAlerted = false;
      await deliver(payload);
      return;
    }
    if (event.kind === 'node-lost' || event.kind === 'node-partitioned') {
      const verdict = event.kind === 'node-lost' ? 'lost' : 'partitioned';
      if (verdictAlerted.get(event.peer) === verdict) return;
      if (await deliver(payload)) verdictAlerted.set(event.peer, verdict);
      return;
    }
    if (event.kind === 'node-healthy') {
      if (!verdictAlerted.has(event.peer)) return;
      verdictAlerted.delete(event.peer);
      await deliver(payload);
      return;
    }
    if (event.kind === 'node-minority') {
      minorityAlerted = (await deliver(payload)) || minorityAlerted;
      return;
    }
    if (event.kind === 'node-minority-resolved') {
      if (!minorityAlerted) return;
      minorityAlerted = false;
      await deliver(payload);
      return;
    }
    if (event.kind === 'rpo-recovered') {
      if (rpoAlertedAt === undefined) return;
      rpoAlertedAt = undefined;
      await deliver(payload);
      return;
    }
    const t = now();
    if (rpoAlertedAt !== undefined && t - rpoAlertedAt < rpoRepeatMs) return;
    const previous = rpoAlertedAt;
    // Claimed before delivery so that overlapping checks send once; a failed delivery releases it.
    rpoAlertedAt = t;
    if (!(await deliver(payload)) && rpoAlertedAt === t) rpoAlertedAt = previous;
  };

  return {
    alert(event) {
      const p = send(event).catch((err: unknown) => {
        logger.error('alert failed', { kind: event.kind, error: errorMessage(err) });
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
      return p;
    },
    async flush() {
      await Promise.all([...pending]);
    },
  };
}

function compose(event: AlertEvent, cluster: string | null, node: string | null, at: string): AlertPayload {
  const where = `lifeboat${cluster === null ? '' : ` ${cluster}`}${node === null ? '' : ` (${node})`}`;
  const envelope = { source: 'lifeboat', cluster, node, at } as const;
  switch (event.kind) {
    case 'job-failed': {
      const error = event.error.length > MAX_ERROR_CHARS ? `${event.error.slice(0, MAX_ERROR_CHARS)}…` : event.error;
      return { ...event, error, ...envelope, text: `${where}: job '${event.job}' failed (run ${event.runId}): ${error}` };
    }
    case 'database-down':
      return { ...event, ...envelope, text: `${where}: database unreachable since ${event.since}: ${event.error}` };
    case 'database-up':
      return { ...event, ...envelope, text: `${where}: database reachable again (down since ${event.downSince})` };
    case 'rpo-breach':
      return {
        ...event,
        ...envelope,
        text:
          event.newest === null
            ? `${where}: no complete snapshot exists (RPO limit ${hours(event.limitSeconds)})`
            : `${where}: newest snapshot ${event.newest} is ${hours(event.ageSeconds)} old, over the RPO limit of ${hours(event.limitSeconds)}`,
      };
    case 'node-lost':
      return { ...event, ...envelope, text: `${where}: node ${event.peer} is LOST since ${event.since}: ${event.evidence}` };
    case 'node-partitioned':
      return {
        ...event,
        ...envelope,
        text: `${where}: node ${event.peer} is PARTITIONED (alive, cut off from this node) since ${event.since}: ${event.evidence}`,
      };
    case 'node-healthy':
      return {
        ...event,
        ...envelope,
        text: `${where}: node ${event.peer} is healthy again (was ${event.was}): ${event.evidence}`,
      };
    case 'node-minority':
      return {
        ...event,
        ...envelope,
        text: `${where}: this node is the MINORITY of a partition since ${event.since}: ${event.evidence}`,
      };
    case 'node-minority-resolved':
      return { ...event, ...envelope, text: `${where}: this node is no longer the minority of a partition: ${event.evidence}` };
    case 'recovery-started':
      return {
        ...event,
        ...envelope,
        text: `${where}: RECOVERY ${event.id} started: ${event.playbook} — ${event.decision}${event.dataLoss ? `; DATA LOSS: ${event.dataLoss}` : ''}`,
      };
    case 'recovery-finished':
      return {
        ...event,
        ...envelope,
        text: `${where}: recovery ${event.id} (${event.playbook}) ${event.outcome}${event.error ? `: ${event.error}` : ''}`,
      };
    case 'recovery-held':
      return {
        ...event,
        ...envelope,
        text: `${where}: recovery NOT run (${event.reason}): ${event.playbook} — ${event.decision}; see lifeboat recover --plan`,
      };
    case 'rpo-recovered':
      return {
        ...event,
        ...envelope,
        text: `${where}: RPO back within ${hours(event.limitSeconds)}: newest snapshot ${event.newest ?? '-'} is ${hours(event.ageSeconds)} old`,
      };
  }
}

function hours(seconds: number): string {
  return Number.isFinite(seconds) ? `${(seconds / 3600).toFixed(1)} h` : 'forever';
}

/** The URL itself is never quoted: it may carry a token. */
function checkUrl(url: string): void {
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new UsageError('alerter: the webhook is not a valid URL');
  }
  if (protocol !== 'http:' && protocol !== 'https:')
    throw new UsageError(`alerter: the webhook must be http or https, not ${protocol}`);
}

function safeOrigin(url: string): string {
  return new URL(url).origin;
}

/** fetch wraps network errors as `fetch failed`; the cause says what happened. */
function causeMessage(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${errorMessage(err)}${cause}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`alerter: ${name} must be a positive number, got ${value}`);
  return value;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`alerter: ${name} must be zero or more, got ${value}`);
  return value;
}
