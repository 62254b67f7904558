/** Galera and MariaDB access: the only module that talks to the database or its tools. */
export { accountStatements, type DumpAccounts } from './accounts.js';
export { type BackupStream, type LocalServer, logicalDump, physicalBackup } from './backup-stream.js';
export { type BootstrapResult, bootstrapNewCluster, socketOf } from './bootstrap.js';
export {
  type DatadirState,
  formatGrastate,
  type Grastate,
  inspectDatadir,
  parseGrastate,
  readGrastate,
  writeGrastate,
} from './grastate.js';
export { parseRecoveredPosition, type RecoveredPosition } from './positions.js';
export { type ScratchOptions, type ScratchServer, startScratchServer, stopLeftoverScratchServer } from './scratch-server.js';
export { type ServerInfo, serverInfo } from './server-info.js';
export { connect, type Endpoint, type QueryOptions, type Row, type SqlClient, sqlErrno } from './sql.js';
export type { GaleraPositionInfo } from './types.js';
export {
  assertSnapshotReady,
  type DesyncOptions,
  isSyncedPrimary,
  type PeerPosition,
  peerPositions,
  type ReadinessOptions,
  recoverDesync,
  resync,
  type WsrepStatus,
  withDesync,
  wsrepStatus,
} from './wsrep.js';
