import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ConfigError, ConflictError, LifeboatError, NotFoundError, UsageError } from '../lib/errors.js';
import { type Logger, nullLogger } from '../lib/logger.js';
import type { Secret } from '../lib/secret.js';
import type { JobRecord, JobRunner } from '../scheduler/job-runner.js';
import type { Metrics } from './metrics.js';

/**
 * The daemon's HTTP API (documented in docs/openapi.yaml). This is the only place where errors
 * become HTTP statuses. Every route except `GET /v1/health` needs `Authorization: Bearer <token>`.
 */

export interface ApiDeps {
  /** api.token; without one, every protected route answers 401 */
  readonly token?: Secret;
  readonly runner: JobRunner;
  /**
   * starts a run of a job kind on this daemon with the parameters of a request body (undefined
   * when none); throws UsageError for an unknown kind or bad parameters, ConflictError while a
   * run of the kind is going on
   */
  startJob(kind: string, params: unknown): Promise<JobRecord>;
  /** the status document: last run of each job, this node's database state, RPO age, lease holder, each node's Galera state */
  status(): Promise<unknown>;
  /** committed snapshots, newest first */
  snapshots(): Promise<unknown[]>;
  /** the loss monitor's view (every node × every observer); absent while health.enabled is false: 404 */
  cluster?(): unknown;
  readonly metrics: Metrics;
  readonly logger?: Logger;
  /** largest accepted request body (default 64 KiB) */
  readonly maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

type Method = 'GET' | 'POST';

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: readonly string[];
  /** the client sent `Expect: 100-continue`: it waits for our go before sending the body */
  readonly expectsContinue: boolean;
}

interface Route {
  readonly pattern: RegExp;
  readonly public?: boolean;
  readonly methods: Partial<Record<Method, (r: Request) => Promise<Reply> | Reply>>;
}

/** An answer other than success, decided by the API itself (auth, routing, body checks). */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Builds the API server; the caller listens on it and closes it. */
export function createApiServer(deps: ApiDeps): Server {
  const logger = (deps.logger ?? nullLogger).child({ component: 'http' });
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new UsageError(`http api: maxBodyBytes must be a positive integer, got ${maxBodyBytes}`);
  }
  const revealed = deps.token?.reveal() ?? '';
  // Both sides are hashed so that the comparison takes the same time whatever the lengths.
  const expected = revealed === '' ? undefined : sha256(revealed);

  const authorize = (req: IncomingMessage): void => {
    const challenge = 'Bearer realm="lifeboat"';
    if (expected === undefined) {
      throw new HttpError(401, 'unauthorized', 'api token not configured: set api.token to use this endpoint', {
        'www-authenticate': challenge,
      });
    }
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) {
      throw new HttpError(401, 'unauthorized', 'missing bearer token', { 'www-authenticate': challenge });
    }
    if (!timingSafeEqual(sha256(match[1]), expected)) {
      throw new HttpError(401, 'unauthorized', 'invalid bearer token', {
        'www-authenticate': `${challenge}, error="invalid_token"`,
      });
    }
  };

  const routes: readonly Route[] = [
    { pattern: /^\/v1\/health$/, public: true, methods: { GET: () => json(200, { ok: true }) } },
    { pattern: /^\/v1\/status$/, methods: { GET: async () => json(200, await deps.status()) } },
    {
      pattern: /^\/v1\/cluster$/,
      methods: {
        GET: () => {
          if (!deps.cluster) throw new NotFoundError('loss detection is off (health.enabled: false): no cluster view');
          return json(200, deps.cluster());
        },
      },
    },
    {
      pattern: /^\/v1\/snapshots$/,
      methods: {
        GET: async () => json(200, { snapshots: await deps.snapshots() }),
        // the alias of `POST /v1/jobs {"kind": "snapshot"}`
        POST: async (r) => started(await deps.startJob('snapshot', await readJson(r, maxBodyBytes))),
      },
    },
    {
      pattern: /^\/v1\/staging\/sync$/,
      // the alias of `POST /v1/jobs {"kind": "staging-sync"}`
      methods: { POST: async (r) => started(await deps.startJob('staging-sync', await readJson(r, maxBodyBytes))) },
    },
    {
      pattern: /^\/v1\/jobs$/,
      methods: {
        POST: async (r) => {
          const { kind, ...params } = jobRequest(await readJson(r, maxBodyBytes));
          return started(await deps.startJob(kind, params));
        },
      },
    },
    {
      pattern: /^\/v1\/jobs\/([^/]+)$/,
      methods: {
        GET: (r) => {
          const id = r.params[0] ?? '';
          const job = deps.runner.get(id);
          if (!job) throw new NotFoundError(`job '${id}': not found`);
          return json(200, job);
        },
      },
    },
    {
      pattern: /^\/metrics$/,
      methods: {
        GET: async () => ({ status: 200, body: await deps.metrics.text(), contentType: deps.metrics.contentType }),
      },
    },
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    let path = '/';
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      // an unparsable target matches no route
    }
    res.once('close', () => {
      logger.debug('http request', {
        method,
        path,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      });
    });
    let reply: Reply;
    try {
      reply = await dispatch(req, res, method, path, expectsContinue);
    } catch (err) {
      reply = errorReply(err, logger, { method, path });
    }
    send(req, res, reply);
  };

  const dispatch = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    expectsContinue: boolean,
  ): Promise<Reply> => {
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      const fn = Object.hasOwn(route.methods, method) ? route.methods[method as Method] : undefined;
      if (!fn) {
        const allow = Object.keys(route.methods).join(', ');
        throw new HttpError(405, 'method-not-allowed', `${method} ${path}: method not allowed (allowed: ${allow})`, { allow });
      }
      if (!route.public) authorize(req);
      let params: string[];
      try {
        params = match.slice(1).map((p) => decodeURIComponent(p ?? ''));
      } catch {
        throw new HttpError(404, 'not-found', `${path}: no such route`);
      }
      return await fn({ req, res, params, expectsContinue });
    }
    throw new HttpError(404, 'not-found', `${path}: no such route`);
  };

  const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): void => {
    handle(req, res, expectsContinue).catch((err: unknown) => {
      logger.error('http response failed', { error: err instanceof Error ? err.message : String(err) });
      res.destroy();
    });
  };
  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => serve(req, res, false));
  // Answering before `100 Continue` lets us refuse an oversize or unauthorised body unsent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => serve(req, res, true));
  return server;
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function json(status: number, value: unknown, headers?: Readonly<Record<string, string>>): Reply {
  return { status, body: JSON.stringify(value ?? null), contentType: 'application/json', ...(headers ? { headers } : {}) };
}

function errorReply(err: unknown, logger: Logger, fields: { method: string; path: string }): Reply {
  if (err instanceof HttpError) return json(err.status, { error: { code: err.code, message: err.message } }, err.headers);
  if (err instanceof LifeboatError) {
    const status =
      err instanceof ConflictError
        ? 409
        : err instanceof NotFoundError
          ? 404
          : err instanceof UsageError || err instanceof ConfigError
            ? 400
            : err.code === 'retryable'
              ? 503 // a dependency is down (this node's database): try again, or on another node
              : 500;
    if (status === 500) logger.error('http request failed', { ...fields, code: err.code, error: err.message });
    return json(status, { error: { code: err.code, message: err.message } });
  }
  // Not one of ours: its message may describe internals; the log keeps the detail.
  logger.error('http request failed', {
    ...fields,
    error: err instanceof Error ? err.message : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return json(500, { error: { code: 'internal', message: 'internal error' } });
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(reply.body, 'utf8');
  const headers: Record<string, string | number> = {
    ...reply.headers,
    'content-type': reply.contentType,
    'content-length': body.length,
    'cache-control': 'no-store',
  };
  // A body we did not read is not read afterwards either: the connection closes after the reply.
  if (hasBody(req) && !req.complete) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(body);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'payload-too-large', `request body: larger than ${limit} bytes`);
}

/** The request body parsed as JSON; undefined when there is none. */
async function readJson(r: Request, limit: number): Promise<unknown> {
  const declared = Number(r.req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  if (!hasBody(r.req)) return undefined;
  if (r.expectsContinue) r.res.writeContinue();
  const raw = await readBody(r.req, limit);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new UsageError('request body: not valid UTF-8');
  }
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`request body: malformed JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Reads at most `limit` bytes; beyond that it stops reading and rejects with 413. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new HttpError(400, 'usage', 'request body: client closed the connection before sending it all'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** 202 with the run and where to follow it. */
function started(job: JobRecord): Reply {
  return json(202, { job }, { location: `/v1/jobs/${encodeURIComponent(job.id)}` });
}

/** A `POST /v1/jobs` body: an object naming the job's `kind`, its other fields the run's parameters. */
function jobRequest(body: unknown): { kind: string } & Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new UsageError('request body: expected a JSON object with the job\'s kind, e.g. {"kind": "snapshot"}');
  }
  const { kind } = body as { kind?: unknown };
  if (typeof kind !== 'string') throw new UsageError('request body: \'kind\' must name a job kind, e.g. "snapshot"');
  return body as { kind: string };
}
