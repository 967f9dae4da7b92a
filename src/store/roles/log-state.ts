/**
 * @module store/roles/log-state
 * Where each CT log's download stands (cursor, compact tree, verified head), the one atomic write
 * of the single-process path (`commitBatch`), and the evidence against a misbehaving log.
 */
import type { CommitBatch, LogCursor, MisbehaviourRecord, StoredHead, TreeState } from '../types.js';

/**
 * The state of each log (certspotter's `StateProvider` for one log: two cursors, download and
 * verified).
 *
 * Guarantees:
 * - Crash safety: a batch of processed entries and the position after it are ONE transaction
 *   (`commitBatch`), so a process killed at any moment resumes from a position whose entries are
 *   all stored, and none twice. A SIGKILL before COMMIT leaves nothing of the batch.
 * - Compare-and-set: `commitBatch` and `rewindCursor` move the position only from
 *   `expectedPosition`. Two writers of one log never both win: the loser gets StoreConflictError
 *   (`actualPosition` says where the log is) and wrote nothing. SQLite takes the write lock at
 *   BEGIN (IMMEDIATE; another writer waits up to 5 s, then SQLITE_BUSY); PostgreSQL re-checks the
 *   position after waiting for the row lock (READ COMMITTED), so the second commit fails cleanly.
 * - Keys that dedupe: an issuance is keyed by its TBS hash (the first writer keeps its columns and
 *   `firstSeen`; later entries and certificate hashes join it), a log entry and a malformed record
 *   by (log, index), an alert by its key. A batch replayed from an older position, after a rewind,
 *   adds nothing twice.
 * - Argument checks before anything is written (STORE_INVALID_ARGUMENT): positions are safe
 *   non-negative integers, a tree holds exactly `position` entries, an issuance or malformed entry
 *   lies in the batch's range of its own log, hashes are 64 lower-case hex digits.
 * - Outside text (URLs, names, errors, JSON evidence) is stored with U+0000 as U+FFFD (codec.ts
 *   `cleanText`): a hostile certificate cannot make a batch unstorable and wedge a log.
 * - PostgreSQL only: once the run lock's session is lost (`StoreLifecycle.lock`), `commitBatch`,
 *   `setVerifiedHead` and `rewindCursor` refuse with STORE_LOCKED; a batch that only moves the
 *   cursor is one UPDATE (its own transaction).
 */
export interface LogStateStore {
  /** The cursor of a log, or null when the log was never seen. */
  getCursor(logId: string): Promise<LogCursor | null>;
  /**
   * Creates the cursor at `position` if absent; returns the stored cursor either way (idempotent:
   * when processes race, the first insert wins and every caller gets that cursor).
   */
  ensureCursor(init: Omit<LogCursor, 'updatedAt' | 'verified' | 'verifiedTree'>): Promise<LogCursor>;
  /** Every cursor, by log ID. */
  listCursors(): Promise<LogCursor[]>;
  /**
   * Atomic: issuances, entries, malformed records, alerts and the new position, or nothing.
   * StoreConflictError when the stored position is not `batch.expectedPosition` (nothing written).
   */
  commitBatch(batch: CommitBatch): Promise<void>;
  /**
   * Records a head verified against the stored tree of the same size, and (when given, of the
   * same size) that tree, so a later root mismatch can rewind to it. Idempotent (the last call
   * wins; the store does not check that heads only grow). STORE_CONFLICT when the log has no
   * cursor or fewer than `head.treeSize` entries stored.
   */
  setVerifiedHead(logId: string, head: StoredHead, tree?: TreeState): Promise<void>;
  /**
   * Moves the download position BACK to `to.position` with its tree (a root mismatch: the entries
   * after the verified head are unverified and will be downloaded again; certspotter's
   * rewindDownloadPosition). Compare-and-set on `expectedPosition` (StoreConflictError if it
   * moved); `to.position` must not pass `expectedPosition`. What was committed (issuances,
   * alerts) stays: a replay of the same entries adds nothing twice.
   */
  rewindCursor(
    logId: string,
    expectedPosition: number,
    to: { position: number; tree: TreeState },
  ): Promise<void>;
  /** Keeps the signed heads that prove a log misbehaved: one new record per call (not keyed). */
  recordMisbehaviour(logId: string, evidence: unknown): Promise<void>;
  /** Everything `recordMisbehaviour` kept, oldest first (both stores implement it). */
  listMisbehaviour?(): Promise<MisbehaviourRecord[]>;
}
