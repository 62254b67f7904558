import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../src/lib/errors.js';
import { Secret } from '../src/lib/secret.js';
import { configSchema, type ParsedConfig, type secretInput } from './schema.js';

type SecretInput = z.output<typeof secretInput>;
type ParsedNode = ParsedConfig['cluster']['nodes'][number];

/** Larger than any config; a bigger file (or /dev/zero) was named by mistake. */
const MAX_BYTES = 1024 * 1024;
const EXAMPLE = 'expected a YAML config file like config/lifeboat.example.yaml';

/** ParsedConfig with every secret resolved to a `Secret` and the local node decided. */
export type Config = DeepReadonly<
  Omit<ParsedConfig, 'database' | 'storage' | 'api' | 'cluster' | 'alerts' | 'staging'> & {
    /** every node has its socket (the node's own, else database.socket) */
    cluster: Omit<ParsedConfig['cluster'], 'nodes'> & { node: string; nodes: (ParsedNode & { socket: string })[] };
    database: Omit<ParsedConfig['database'], 'password'> & { password?: Secret };
    storage: Omit<ParsedConfig['storage'], 'accessKeyId' | 'secretAccessKey'> & {
      accessKeyId?: Secret;
      secretAccessKey?: Secret;
    };
    api: Omit<ParsedConfig['api'], 'token'> & { token?: Secret };
    alerts: Omit<ParsedConfig['alerts'], 'webhook'> & { webhook?: Secret };
    staging?: StagingConfig;
  }
>;

type ParsedStaging = NonNullable<ParsedConfig['staging']>;
type StagingConfig = Omit<ParsedStaging, 'target' | 'anonymize'> & {
  target: Omit<ParsedStaging['target'], 'password'> & { password?: Secret };
  anonymize: Omit<ParsedStaging['anonymize'], 'salt'> & { salt?: Secret };
};

type DeepReadonly<T> = T extends Secret
  ? T
  : T extends (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly hostname?: string;
}

/** Reads and validates a YAML config file; throws ConfigError listing every problem at once. */
export function loadConfig(path: string, options: LoadOptions = {}): Config {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ConfigError(path, [{ path: '', message: `not a regular file: ${EXAMPLE}` }]);
    if (stat.size > MAX_BYTES) throw new ConfigError(path, [{ path: '', message: `larger than 1 MiB: ${EXAMPLE}` }]);
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '\0';
  }
  if (text.includes('\0')) throw new ConfigError(path, [{ path: '', message: `not a text file: ${EXAMPLE}` }]);
  return parseConfig(text, path, options);
}

export function parseConfig(text: string, source: string, options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => ({ path: '', message: `yaml: ${e.message.split('\n')[0]}` })),
    );
  }
  let data: unknown;
  try {
    // the default alias limit (100) turns an alias bomb into an error instead of a huge object
    data = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `yaml: ${(err as Error).message}` }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(source, [{ path: '', message: `${EXAMPLE} (a mapping of settings), got ${describe(data)}` }]);
  }
  const result = configSchema.safeParse(data, { reportInput: true });
  if (!result.success) throw new ConfigError(source, uniqueByPath(result.error.issues.flatMap(toIssues)));
  const parsed = result.data;
  const issues: ConfigIssue[] = [];
  const secret = (value: SecretInput | undefined, path: string): Secret | undefined =>
    value === undefined ? undefined : resolveSecret(value, path, env, issues);

  const nodeNames = parsed.cluster.nodes.map((n) => n.name);
  const node = parsed.cluster.node ?? env.LIFEBOAT_NODE ?? options.hostname ?? hostname();
  if (!nodeNames.includes(node)) {
    issues.push({
      path: 'cluster.node',
      message: `'${node}' is not one of cluster.nodes (${nodeNames.join(', ')}); set cluster.node or LIFEBOAT_NODE`,
    });
  }
  for (const n of duplicates(nodeNames)) issues.push({ path: 'cluster.nodes', message: `node name '${n}' appears twice` });
  parsed.database.preferredNodes.forEach((n, i) => {
    if (!nodeNames.includes(n)) issues.push({ path: `database.preferredNodes.${i}`, message: `unknown node '${n}'` });
  });
  for (const n of duplicates(parsed.files.areas.map((a) => a.name))) {
    issues.push({ path: 'files.areas', message: `area '${n}' appears twice` });
  }
  if (!parsed.api.token && !isLoopback(parsed.api.listen)) {
    issues.push({ path: 'api.token', message: `required when api.listen is not a loopback address ('${parsed.api.listen}')` });
  }
  issues.push(...healthIssues(parsed.health));
  const isS3 = parsed.storage.url.startsWith('s3://');
  if (isS3 && !parsed.storage.accessKeyId) issues.push({ path: 'storage.accessKeyId', message: 'required for s3:// storage' });
  if (isS3 && !parsed.storage.secretAccessKey)
    issues.push({ path: 'storage.secretAccessKey', message: 'required for s3:// storage' });

  const config = {
    ...parsed,
    cluster: {
      ...parsed.cluster,
      node,
      nodes: parsed.cluster.nodes.map((n) => ({
        ...n,
        socket: n.socket ?? parsed.database.socket,
        ...((n.datadir ?? parsed.database.datadir) ? { datadir: n.datadir ?? parsed.database.datadir } : {}),
      })),
    },
    database: { ...parsed.database, password: secret(parsed.database.password, 'database.password') },
    storage: {
      ...parsed.storage,
      accessKeyId: secret(parsed.storage.accessKeyId, 'storage.accessKeyId'),
      secretAccessKey: secret(parsed.storage.secretAccessKey, 'storage.secretAccessKey'),
    },
    files: { ...parsed.files, areas: parsed.files.areas.map((a) => ({ ...a, path: a.path ?? a.name })) },
    api: { ...parsed.api, token: secret(parsed.api.token, 'api.token') },
    alerts: { ...parsed.alerts, webhook: secret(parsed.alerts.webhook, 'alerts.webhook') },
    staging: parsed.staging && {
      ...parsed.staging,
      target: { ...parsed.staging.target, password: secret(parsed.staging.target.password, 'staging.target.password') },
      anonymize: { ...parsed.staging.anonymize, salt: secret(parsed.staging.anonymize.salt, 'staging.anonymize.salt') },
    },
  };
  if (parsed.staging) {
    const { target, anonymize } = parsed.staging;
    if (!target.socket && !target.host) issues.push({ path: 'staging.target', message: 'expected host or socket' });
    if (anonymize.enabled && !anonymize.salt)
      issues.push({ path: 'staging.anonymize.salt', message: 'required while staging.anonymize.enabled' });
  }
  if (issues.length) throw new ConfigError(source, issues);
  return deepFreeze(config) as Config;
}

/** The thresholds that only make sense together. */
function healthIssues(h: ParsedConfig['health']): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (h.probeTimeoutMs > h.intervalSeconds * 1000)
    issues.push({
      path: 'health.probeTimeoutMs',
      message: `expected at most health.intervalSeconds (${h.intervalSeconds * 1000} ms), got ${h.probeTimeoutMs}`,
    });
  if (h.suspectAfterSeconds >= h.lostAfterSeconds)
    issues.push({
      path: 'health.suspectAfterSeconds',
      message: `expected less than health.lostAfterSeconds (${h.lostAfterSeconds}), got ${h.suspectAfterSeconds}`,
    });
  if (h.witnessStaleSeconds < 2 * h.witnessIntervalSeconds)
    issues.push({
      path: 'health.witnessStaleSeconds',
      message: `expected at least twice health.witnessIntervalSeconds (${2 * h.witnessIntervalSeconds}), got ${h.witnessStaleSeconds}`,
    });
  return issues;
}

function resolveSecret(value: SecretInput, path: string, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Secret | undefined {
  if (typeof value === 'string') return new Secret(value, 'config file');
  if ('env' in value) {
    const v = env[value.env];
    if (v === undefined || v === '') {
      issues.push({ path, message: `environment variable ${value.env} is not set` });
      return undefined;
    }
    return new Secret(v, `env ${value.env}`);
  }
  try {
    // refused, not warned about: a warning scrolls by in a daemon log while the secret stays exposed
    const mode = statSync(value.file).mode & 0o777;
    if (mode & 0o044) {
      const octal = mode.toString(8).padStart(4, '0');
      issues.push({ path, message: `secret file ${value.file} is readable by group or others (mode ${octal}); chmod 600 it` });
      return undefined;
    }
    return new Secret(readFileSync(value.file, 'utf8').trim(), `file ${value.file}`);
  } catch (err) {
    issues.push({ path, message: `cannot read secret file ${value.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
    return undefined;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function toIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.map(String).join('.');
  const got = `got ${describe(issue.input)}`;
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: path ? `${path}.${k}` : k, message: 'unknown key' }));
    case 'invalid_type': {
      if (issue.input === undefined) return [{ path, message: 'required' }];
      const expected = issue.message.startsWith('expected ')
        ? issue.message
        : `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
      return [{ path, message: `${expected}, ${got}` }];
    }
    case 'invalid_value':
      return [{ path, message: `expected one of ${issue.values.join(', ')}, ${got}` }];
    case 'invalid_union':
      return [{ path, message: `${issue.message}, ${got}` }];
    case 'too_big':
    case 'too_small': {
      // the safe-integer range of z.int(): every integer field has a tighter range, reported instead
      if (issue.origin === 'int') return [];
      const bound = issue.code === 'too_big' ? `at most ${issue.maximum}` : `at least ${issue.minimum}`;
      if (issue.origin === 'number') return [{ path, message: `expected ${bound}, ${got}` }];
      if (issue.origin === 'string' && issue.code === 'too_small' && issue.minimum === 1)
        return [{ path, message: 'must not be empty' }];
      if (issue.origin === 'string') return [{ path, message: `expected ${bound} characters` }];
      return [{ path, message: issue.message.startsWith('Too') ? `expected ${bound} entries` : issue.message }];
    }
    default:
      return [{ path, message: issue.message }];
  }
}

/** The first problem of each field: a later one is usually a consequence (e.g. two range checks). */
function uniqueByPath(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.filter((issue, i) => issues.findIndex((o) => o.path === issue.path) === i);
}

/** What a YAML value is, in words: `the string "3306"`, `a list`, `an empty value`. */
function describe(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `the ${typeof value} ${String(value)}`;
}

function isLoopback(listen: string): boolean {
  const host = listen.slice(0, listen.lastIndexOf(':'));
  return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function duplicates(values: readonly string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The config as plain data with every secret shown as `[redacted] (source)`. */
export function redacted(config: Config): unknown {
  return JSON.parse(JSON.stringify(config));
}

/** The config as YAML with secrets redacted. */
export function formatConfig(config: Config): string {
  return stringify(redacted(config));
}
