/**
 * @module store/roles/outboxes
 * The two durable outboxes: alerts for the organisation's own sinks (`notify`), and CAA iodef
 * reports a CA sends to domain owners (RFC 8659 §4.4).
 */
import type {
  AlertInput,
  AlertRecord,
  IodefEnqueueLimits,
  IodefEnqueueResult,
  IodefOutboxInput,
  IodefOutboxRecord,
} from '../types.js';

/**
 * The alert outbox: what the monitor decided to tell, kept until a sink took it.
 *
 * Guarantees:
 * - Exactly-once enqueue, across processes and workers: an alert is keyed by `key` (U+0000
 *   cleaned) and a key once enqueued, here or by `commitBatch` / `completeUnit`, is never enqueued
 *   again, delivered or not (alerts are never deleted).
 * - `pendingAlerts` returns undelivered alerts in id order (enqueue order within one process).
 * - The marks touch only an undelivered alert: a delivered one is never delivered or counted
 *   again, and marking it twice is a no-op. Retry timing (backoff) is the caller's.
 * - Delivery is at-least-once: a process that dies after a sink took an alert and before
 *   `markAlertDelivered` leaves it pending, and the next drain sends it again.
 * - `withDeliveryLock` serialises drains across processes on PostgreSQL (a session advisory lock
 *   on a reserved connection: waits, without a time-out, for the holder; a holder's death releases
 *   it). On SQLite it takes no lock: one process owns the state (the run lock).
 */
export interface AlertOutbox {
  /** Enqueues an alert unless its key exists; returns whether it was new. */
  enqueueAlert(alert: AlertInput): Promise<boolean>;
  /** At most `limit` undelivered alerts, oldest (lowest id) first. */
  pendingAlerts(limit: number): Promise<AlertRecord[]>;
  /** Marks an undelivered alert delivered and counts the attempt; nothing for a delivered one. */
  markAlertDelivered(id: number): Promise<void>;
  /** Counts a failed attempt and keeps its error (U+0000 cleaned); nothing for a delivered one. */
  markAlertFailed(id: number, error: string): Promise<void>;
  /** Every alert, delivered or not, by id. */
  listAlerts(): Promise<AlertRecord[]>;
  /**
   * Runs `fn` while holding the store-wide delivery lock (PostgreSQL: a session advisory lock on a
   * reserved connection; SQLite: one process, no lock), so workers sharing the store drain the
   * alert outbox one at a time and no alert is delivered twice. Released when `fn` settles.
   * Waits at most `waitMs` for a holder: a worker stopped (SIGSTOP) while draining keeps the lock
   * as long as its session lives, and must not stop the others. Null: not taken, `fn` not run —
   * the alerts stay in the outbox for the holder's next drain or a later run.
   */
  withDeliveryLock<T>(fn: () => Promise<T>, waitMs: number): Promise<T | null>;
}

/**
 * The CA side of CAA iodef (RFC 8659 §4.4): the durable outbox of reports to send.
 *
 * Guarantees:
 * - `enqueueIodefReport` decides dedup, both rate limits and the insert as ONE decision: SQLite,
 *   one IMMEDIATE transaction; PostgreSQL, one transaction under a SHARE ROW EXCLUSIVE lock on the
 *   table, so enqueuers sharing the database cannot both pass a limit. Readers (`dueIodefReports`,
 *   `listIodefOutbox`) are not blocked; the marks, which UPDATE, wait for that transaction.
 * - The document is stored with U+0000 as U+FFFD on both engines (iodef-codec `outboxDocument`).
 * - `dueIodefReports` is a read: two senders running at once may both send a report (no claim);
 *   run one sender per store. The marks touch only a report not yet sent.
 * - Times (`createdAt`, the windows' starts, `now`) may come in any ISO 8601 form and are stored
 *   and compared as `toISOString()` text (codec.isoInstant), so both engines select the same rows;
 *   anything else is STORE_INVALID_ARGUMENT.
 */
export interface IodefOutbox {
  /**
   * Enqueues a report in the durable outbox unless, in one transaction, a report with the same
   * dedup key was enqueued since `limits.dedupSince`, or the recipient or its registered domain
   * already got their maximum since their window start.
   */
  enqueueIodefReport(report: IodefOutboxInput, limits: IodefEnqueueLimits): Promise<IodefEnqueueResult>;
  /** Reports not sent, not given up, and due at `now` (ISO), by due time then id. */
  dueIodefReports(now: string, limit: number): Promise<IodefOutboxRecord[]>;
  /** Marks a report sent at `at` and counts the attempt; nothing for a report already sent. */
  markIodefReportSent(id: number, at: string): Promise<void>;
  /** Records a failed attempt; `nextAttemptAt` null gives up on the report for good. */
  markIodefReportFailed(id: number, error: string, nextAttemptAt: string | null): Promise<void>;
  /** Every report, by id. */
  listIodefOutbox(): Promise<IodefOutboxRecord[]>;
}
