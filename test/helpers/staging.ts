import { connect, type SqlClient } from '../../src/galera/index.js';
import { need } from './testbed.js';

/** The testbed's Staging MariaDB (standalone, not a member of the Production cluster), as its own account. */
export function stagingClient(database?: string): Promise<SqlClient> {
  return connect({
    name: 'staging',
    socket: need('STAGING_SOCKET'),
    user: need('STAGING_USER'),
    password: need('STAGING_PASSWORD'),
    ...(database ? { database } : {}),
  });
}

/** The account Staging's views, triggers, routines and events belong to. */
export const STAGING_ACCOUNT = { user: 'lifeboat_staging', host: 'localhost' } as const;
