import { PermanentError } from '../lib/errors.js';
import type { MagentoDatabase } from './database.js';

/** Where a server is reached (a config endpoint: TCP or unix socket). */
export interface Reach {
  readonly name: string;
  readonly host?: string;
  readonly port?: number;
  readonly socket?: string;
}

/** What a server says it is, asked over its own connection. */
export interface ServerIdentity {
  readonly hostname: string;
  readonly port: number;
  readonly datadir: string;
  /** `wsrep_cluster_state_uuid` when the server is a Galera node, else null */
  readonly clusterUuid: string | null;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '']);

/**
 * Refuses, before any connection, a Staging target configured like a Production node: the same
 * unix socket, or the same host and port (loopback names counted as one). A sync never writes
 * to Production, so this is checked first and again on the connected server.
 */
export function refuseProductionEndpoint(target: Reach, production: readonly Reach[]): void {
  const host = (h: string | undefined): string => (LOOPBACK.has(h ?? '') ? 'loopback' : (h ?? '').toLowerCase());
  for (const node of production) {
    const sameSocket = target.socket !== undefined && target.socket === node.socket;
    const sameTcp =
      target.socket === undefined &&
      node.socket === undefined &&
      host(target.host) === host(node.host) &&
      (target.port ?? 3306) === (node.port ?? 3306);
    if (sameSocket || sameTcp)
      throw new PermanentError(
        `staging target '${target.name}': it is Production node '${node.name}' (${sameSocket ? `socket ${node.socket}` : `${node.host}:${node.port ?? 3306}`}); refusing to sync`,
      );
  }
}

export async function identify(db: MagentoDatabase): Promise<ServerIdentity> {
  const [v] = await db.query<{ hostname: string; port: number | string; datadir: string }>(
    'SELECT @@hostname AS hostname, @@port AS port, @@datadir AS datadir',
  );
  const status = await db.query<{ Variable_name: string; Value: string }>("SHOW GLOBAL STATUS LIKE 'wsrep_cluster_state_uuid'");
  const uuid = status[0]?.Value;
  return {
    hostname: v?.hostname ?? '',
    port: Number(v?.port ?? 0),
    datadir: v?.datadir ?? '',
    clusterUuid: uuid && !/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(uuid) ? uuid : null,
  };
}

/**
 * Refuses a connected Staging server that is part of Production: a member of a Production
 * cluster (`clusters`: the uuids of the snapshot's position or of the live nodes), or the same
 * server as one of `servers` (hostname, port and datadir). Errors name what matched.
 */
export function refuseProductionServer(
  targetName: string,
  target: ServerIdentity,
  production: { readonly clusters: readonly string[]; readonly servers?: readonly ServerIdentity[] },
): void {
  if (target.clusterUuid && production.clusters.includes(target.clusterUuid))
    throw new PermanentError(
      `staging target '${targetName}': it is a member of the Production Galera cluster ${target.clusterUuid}; refusing to sync`,
    );
  const same = production.servers?.find(
    (s) => s.hostname === target.hostname && s.port === target.port && s.datadir === target.datadir,
  );
  if (same)
    throw new PermanentError(
      `staging target '${targetName}': it is the Production server ${same.hostname}:${same.port} (datadir ${same.datadir}); refusing to sync`,
    );
}
