/**
 * @module store/errors
 * The errors a `Store` throws on purpose. Callers branch on `code` (`STORE_LOCKED`,
 * `STORE_CONFLICT`, ...), never on the message; the classes only add the data a caller needs to
 * act (who holds the lock, where the cursor really is).
 */
import { CertvigilError } from '../errors.js';

// STORE_UNAVAILABLE and STATE_UNSAFE belong to src/state-files.ts, the layer below that also
// guards the state directory of the file stores in ct/ and cli/.
interface StoreErrorCodes {
  /** Another process holds the run lock (`StoreLockedError` names it), or this store lost it. */
  STORE_LOCKED: 'store';
  /** The log position moved under a commit (`StoreConflictError`): nothing was written. */
  STORE_CONFLICT: 'store';
  /** The schema cannot be brought up to date (newer than this version, or a step failed). */
  STORE_MIGRATION: 'store';
  /** A caller broke the store's contract (bad argument, a value out of range). */
  STORE_INVALID_ARGUMENT: 'store';
  /** A read-only command found no state to read; nothing is created for it. */
  STORE_NOT_FOUND: 'store';
}

declare module '../errors.js' {
  interface ErrorCodes extends StoreErrorCodes {}
}

/** The codes of this module. */
export type StoreErrorCode = keyof StoreErrorCodes;

/** Who holds the run lock, as the holder recorded it when it took the lock. */
export interface LockHolder {
  owner: string;
  pid: number;
  hostname: string;
  acquiredAt: string;
}

/** Another process runs on this state (or this store lost its lock): refuse to run. */
export class StoreLockedError extends CertvigilError {
  constructor(
    message: string,
    /** Null when the holder could not be read (it may have been taking the lock right then). */
    readonly holder: LockHolder | null,
    options?: { cause?: unknown },
  ) {
    super('STORE_LOCKED', message, options);
    this.name = 'StoreLockedError';
  }
}

/** A commit whose `expectedPosition` is not the stored position: nothing was written. */
export class StoreConflictError extends CertvigilError {
  constructor(
    message: string,
    readonly logId: string,
    readonly expectedPosition: number,
    /** The stored position, or null when the log has no cursor. */
    readonly actualPosition: number | null,
  ) {
    super('STORE_CONFLICT', message);
    this.name = 'StoreConflictError';
  }
}

export function describeHolder(holder: LockHolder | null): string {
  if (holder === null) return 'another process (holder not recorded yet)';
  return `${holder.owner} (pid ${holder.pid} on ${holder.hostname}, since ${holder.acquiredAt})`;
}

export function conflictError(
  logId: string,
  expectedPosition: number,
  actualPosition: number | null,
): StoreConflictError {
  const where = actualPosition === null ? 'has no cursor' : `is at position ${actualPosition}`;
  return new StoreConflictError(
    `log ${logId} ${where}, not ${expectedPosition}: the batch was not committed`,
    logId,
    expectedPosition,
    actualPosition,
  );
}

export function invalidArgument(message: string): CertvigilError {
  return new CertvigilError('STORE_INVALID_ARGUMENT', message);
}

export function verifiedHeadConflict(
  logId: string,
  head: { treeSize: number },
  position: number | null,
): CertvigilError {
  return new CertvigilError(
    'STORE_CONFLICT',
    position === null
      ? `log ${logId} has no cursor: cannot record a verified head`
      : `a head of size ${head.treeSize} cannot be verified: log ${logId} has only ${position} entries stored`,
  );
}

/** What a read-only command says when there is nothing to read (and it creates nothing). */
export function noState(where: string): CertvigilError {
  return new CertvigilError(
    'STORE_NOT_FOUND',
    `no certvigil state at ${where} (run \`certvigil monitor\` first)`,
  );
}

/**
 * A read-only open cannot migrate: a state without a schema is no state, and one written by an
 * older certvigil must be upgraded by a command that may write.
 */
export function checkReadableVersion(version: number, latest: number, missing: CertvigilError): void {
  if (version === 0) throw missing;
  if (version < latest)
    throw new CertvigilError(
      'STORE_MIGRATION',
      `the state has schema version ${version}, this certvigil needs ${latest}: run \`certvigil monitor --once\` to upgrade it`,
    );
}
