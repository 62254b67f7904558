/** Cluster coordination: which daemon runs what, fenced so that a lost holder cannot commit. */
export { type CoordSql, Lease, SlotBook, type SlotState } from './lease.js';
export { type Held, type LeaseHandle, type LeaseWork, type WithLeaseOptions, withLease } from './with-lease.js';
