/** Cluster coordination: which daemon runs what, fenced so that a lost holder cannot commit. */
export { type CoordSql, Lease, SlotBook, type SlotState } from './lease.js';
export { NamedLock, type NamedLockSql } from './named-lock.js';
export {
  type Held,
  heldElsewhere,
  holdLease,
  type LeaseHandle,
  type LeaseWork,
  type OpenLease,
  type WithLeaseOptions,
  withLease,
} from './with-lease.js';
