import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseDocument, stringify } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from '../src/lib/errors.js';
import { Secret } from '../src/lib/secret.js';
import { configSchema, type ParsedConfig, type secretInput } from './schema.js';

type SecretInput = z.output<typeof secretInput>;

/** ParsedConfig with every secret resolved to a `Secret` and the local node decided. */
export type Config = DeepReadonly<
  Omit<ParsedConfig, 'database' | 'storage' | 'api' | 'cluster' | 'alerts'> & {
    cluster: ParsedConfig['cluster'] & { node: string };
    database: Omit<ParsedConfig['database'], 'password'> & { password?: Secret };
    storage: Omit<ParsedConfig['storage'], 'accessKeyId' | 'secretAccessKey'> & {
      accessKeyId?: Secret;
      secretAccessKey?: Secret;
    };
    api: Omit<ParsedConfig['api'], 'token'> & { token?: Secret };
    alerts: Omit<ParsedConfig['alerts'], 'webhook'> & { webhook?: Secret };
  }
>;

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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
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
  const result = configSchema.safeParse(doc.toJS() ?? {});
  if (!result.success) throw new ConfigError(source, result.error.issues.flatMap(toIssues));
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
  const isS3 = parsed.storage.url.startsWith('s3://');
  if (isS3 && !parsed.storage.accessKeyId) issues.push({ path: 'storage.accessKeyId', message: 'required for s3:// storage' });
  if (isS3 && !parsed.storage.secretAccessKey)
    issues.push({ path: 'storage.secretAccessKey', message: 'required for s3:// storage' });

  const config = {
    ...parsed,
    cluster: { ...parsed.cluster, node },
    database: { ...parsed.database, password: secret(parsed.database.password, 'database.password') },
    storage: {
      ...parsed.storage,
      accessKeyId: secret(parsed.storage.accessKeyId, 'storage.accessKeyId'),
      secretAccessKey: secret(parsed.storage.secretAccessKey, 'storage.secretAccessKey'),
    },
    files: { ...parsed.files, areas: parsed.files.areas.map((a) => ({ ...a, path: a.path ?? a.name })) },
    api: { ...parsed.api, token: secret(parsed.api.token, 'api.token') },
    alerts: { ...parsed.alerts, webhook: secret(parsed.alerts.webhook, 'alerts.webhook') },
  };
  if (issues.length) throw new ConfigError(source, issues);
  return deepFreeze(config) as Config;
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
    return new Secret(readFileSync(value.file, 'utf8').trim(), `file ${value.file}`);
  } catch (err) {
    issues.push({ path, message: `cannot read secret file ${value.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` });
    return undefined;
  }
}

function toIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => ({ path: path ? `${path}.${k}` : k, message: 'unknown key' }));
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) return [{ path, message: 'required' }];
  return [{ path, message: issue.message }];
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
