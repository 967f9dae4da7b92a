/**
 * @module store
 * Public surface of the monitor's state: the `Store` contract, stated role by role (`LogStateStore`,
 * `WorkUnitQueue`, `AlertOutbox`, … in `roles/`, each with its guarantees), the engines behind it
 * and their errors. The core imports the types only, and a caller that needs one role takes that
 * role; the CLI and the daemon call `openStore`.
 */
export type * from './types.js';
export { openStore, SQLITE_FILE_NAME } from './open.js';
export type { StoreLocation } from './open.js';
export { StoreConflictError, StoreLockedError } from './errors.js';
export type { LockHolder } from './errors.js';
export { LATEST_VERSION } from './migrations.js';
export { RESULT_JSON_MAX } from './web-codec.js';
export type { StoreErrorCode } from './errors.js';
