/**
 * @module store/roles/work-queue
 * Work units (issue 18): several `certvigil monitor` workers share one log's catch-up by claiming
 * ranges of it under a lease, and the log's position moves over the contiguous run they finished.
 */
import type { DoneUnit, TreeState, UnitCompletion, WorkUnit } from '../types.js';

/**
 * The work units of each log.
 *
 * Guarantees:
 * - Engines: on PostgreSQL any number of workers share the queue (claims by `FOR UPDATE SKIP
 *   LOCKED`, leases on the server's clock, `now()`, so hosts with skewed clocks agree on expiry);
 *   SQLite runs the same code with one worker (one process holds the run lock), its reads-then-
 *   writes in IMMEDIATE transactions and its leases on this process's clock.
 * - Planning is idempotent and safe when workers plan at once: a range is keyed by (log, first),
 *   and on PostgreSQL planners of one log queue on its cursor row, so units never overlap or leave
 *   a hole.
 * - A claim is atomic: two workers never hold the same unit at once. A unit stays its worker's
 *   after its lease runs out until another worker reclaims it; the owner's `renewUnitLease` and
 *   `completeUnit` then return false and write nothing.
 * - A completion is atomic (the unit's issuances, log entries, malformed records and alerts, and
 *   the unit marked done, or nothing) and keyed exactly as `LogStateStore.commitBatch`, so a unit
 *   done twice (a reclaim after a stall) or overlapping certificates of two units are stored once
 *   and every alert is enqueued once across workers. PostgreSQL: the row lock on the unit proves
 *   the claim until COMMIT, and each completion inserts in one key order, table by table, so two
 *   completions never deadlock on shared certificates.
 * - The fold is a compare-and-set of the log's position (StoreConflictError if it moved) with the
 *   deletion of the units it passed, in one transaction. The store does not check that those
 *   units were done: the caller folds over what `doneUnitsFrom` returned, after the rebuilt root
 *   matched a signed head.
 * - Crash: a worker killed while holding units leaves them claimed until their leases run out (or
 *   its restart calls `releaseUnits`); done units survive and wait for the fold.
 * - A worker stopped (SIGSTOP, a frozen VM) INSIDE a completion or fold keeps its row locks while
 *   its session lives: claims pass over the unit (SKIP LOCKED), so nobody does it twice, but the
 *   log is not folded past it until the worker resumes or its connection dies. Ending such
 *   sessions with PostgreSQL's idle_in_transaction_session_timeout was tried and left out:
 *   postgres.js 3.4 then fails the resumed process (porsager/postgres#1208).
 */
export interface WorkUnitQueue {
  /**
   * Adds open units covering [max(position, end of the last planned unit), upTo) of the log, each
   * at most `unitSize` entries and ending on a multiple of `unitSize` where it can (static-ct-api
   * tile alignment), planned under `treeSize`. Idempotent and safe when workers plan at once (the
   * same ranges collide on (log_id, first) and are kept once). Returns the number added.
   * STORE_INVALID_ARGUMENT when the log has no cursor or `upTo` passes `treeSize`.
   */
  planUnits(logId: string, upTo: number, unitSize: number, treeSize: number): Promise<number>;
  /**
   * Claims the lowest open unit of the log, or the lowest claimed one whose lease has expired (its
   * worker died or stalled), for `workerId` until now + leaseMs (the store's clock). PostgreSQL:
   * `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers never get the same unit. Null: nothing
   * claimable now (all done, or claimed under live leases).
   */
  claimUnit(logId: string, workerId: string, leaseMs: number): Promise<WorkUnit | null>;
  /**
   * Gives back the units `workerId` holds (one, with `unit`; else all of them) as open, at once:
   * a download that failed, or a restarted worker whose earlier process died holding units.
   * Returns how many were released.
   */
  releaseUnits(workerId: string, unit?: { logId: string; first: number }): Promise<number>;
  /** Extends the lease of a unit this worker still holds; false when it lost it (reclaimed). */
  renewUnitLease(logId: string, first: number, workerId: string, leaseMs: number): Promise<boolean>;
  /**
   * Atomic: if `workerId` still holds the unit (claimed by it; its lease may have run out as long
   * as nobody reclaimed it), stores the issuances, log entries, malformed records and alerts
   * (keyed: nothing twice) and marks the unit done with its leaf hashes; returns true. Otherwise
   * writes nothing and returns false (another worker owns the unit now; or, on PostgreSQL, the
   * server ended the session before COMMIT — a restart, an administrator — so the caller should
   * give the unit back with `releaseUnits`).
   */
  completeUnit(completion: UnitCompletion): Promise<boolean>;
  /**
   * The done units of the log from `position` on, contiguous (stops at the first gap or undone
   * unit), in order, at most `limit` of them, with their leaf hashes.
   */
  doneUnitsFrom(logId: string, position: number, limit: number): Promise<DoneUnit[]>;
  /**
   * The fold: compare-and-set of the log's download position from `expectedPosition` to
   * `newPosition` with its tree (StoreConflictError if it moved), and deletion of the units that
   * end at or before `newPosition`, in one transaction. Also STORE_CONFLICT (nothing written) when
   * the PostgreSQL session ended before COMMIT: the caller re-reads the cursor either way.
   */
  foldUnits(logId: string, expectedPosition: number, newPosition: number, tree: TreeState): Promise<void>;
  /** Deletes every unit of the log that ends after `position` (a rewind after a root mismatch). */
  dropUnitsAfter(logId: string, position: number): Promise<number>;
  /** Every unit of one log, or of all logs, ordered by log and first entry (status, tests). */
  listUnits(logId?: string): Promise<WorkUnit[]>;
}
