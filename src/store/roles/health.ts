/**
 * @module store/roles/health
 * The monitor's own health (issue 13): one record per log, and one status of the monitor process
 * as a whole, for `certvigil status`, `check monitor` and `/metrics`.
 */
import type { LogHealthRecord, MonitorStatusRecord } from '../types.js';

/**
 * Log health and monitor status.
 *
 * Guarantees:
 * - Separate from the log state: nothing here touches a cursor, and losing a health write loses no
 *   entry.
 * - `putLogHealth` is one upsert per log (last write wins) except that a null keeps what was
 *   known; `putMonitorStatus` is a read-merge-write in one transaction (SQLite: IMMEDIATE;
 *   PostgreSQL: under the row lock, `SELECT … FOR UPDATE`), so two writers patching different
 *   fields both win.
 * - Error texts from outside are sanitised and cut to 500 characters before they are stored.
 */
export interface MonitorHealth {
  /**
   * Records the health of `r.logId` after an attempt (idempotent; last write wins), except that a
   * null `lastAttemptAt`, `lastContactAt`, `newestTreeSize` or `newestTreeTimestamp` keeps the
   * stored value: a failed attempt passes null for what it did not learn, and the last contact and
   * newest head seen are not forgotten. `lastError` (null clears it) is sanitised and cut to 500
   * characters. Never touches the log's cursor.
   */
  putLogHealth(r: LogHealthRecord): Promise<void>;
  /** Every log's health record, by log ID; empty when the monitor never recorded one. */
  listLogHealth(): Promise<LogHealthRecord[]>;
  /**
   * Merges `patch` into the monitor status: an absent key keeps its value, `null` clears it
   * (idempotent). Unknown keys are refused (STORE_INVALID_ARGUMENT).
   */
  putMonitorStatus(patch: Partial<MonitorStatusRecord>): Promise<void>;
  /** The monitor status; all-null with `inventoryErrors: 0` when none was ever written. */
  getMonitorStatus(): Promise<MonitorStatusRecord>;
}
