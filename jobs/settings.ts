import type { Config } from '../config/load.js';
import { filesPartOf } from '../src/files/index.js';
import type { Endpoint, LocalServer } from '../src/galera/index.js';
import { NotFoundError, UsageError } from '../src/lib/errors.js';
import type { Manifest, ObjectRecord } from '../src/repo/manifest.js';

/** The config, read as the options of the domain modules the jobs compose. */

/** The local node's server as the backup tools see it. */
export function localServer(config: Config): LocalServer {
  const node = config.cluster.nodes.find((n) => n.name === config.cluster.node);
  if (!node) throw new NotFoundError(`node '${config.cluster.node}': not in cluster.nodes`);
  if (!node.socket) throw new UsageError(`cluster.nodes: node '${node.name}' needs 'socket' to take snapshots on it`);
  return {
    socket: node.socket,
    user: config.database.user,
    ...(config.database.password ? { password: config.database.password.reveal() } : {}),
    ...(node.datadir ? { datadir: node.datadir } : {}),
  };
}

/** Every node's name, `database.preferredNodes` first (the order ties and turns are decided in). */
export function preferredOrder(config: Config): string[] {
  const preferred = config.database.preferredNodes;
  return [...preferred, ...config.cluster.nodes.map((n) => n.name).filter((n) => !preferred.includes(n))];
}

/** The local node's server as a SQL client reaches it (its socket), with the configured statement deadline. */
export function localEndpoint(config: Config): Endpoint {
  const server = localServer(config);
  return {
    name: config.cluster.node,
    socket: server.socket,
    user: server.user,
    ...(server.password === undefined ? {} : { password: server.password }),
    statementTimeoutMs: config.database.statementTimeoutSeconds * 1000,
  };
}

/** A cluster node over TCP with short deadlines: asked for its state, never waited on. */
export function nodeEndpoint(config: Config, node: Config['cluster']['nodes'][number]): Endpoint {
  return {
    name: node.name,
    host: node.host,
    port: node.port,
    user: config.database.user,
    ...(config.database.password ? { password: config.database.password.reveal() } : {}),
    connectTimeoutMs: 3000,
    statementTimeoutMs: 3000,
  };
}

/** The pack objects a manifest references besides its own objects (what restore, verify and prune follow). */
export function packObjects(manifest: Manifest): ObjectRecord[] {
  return [...(filesPartOf(manifest)?.packs ?? [])];
}
