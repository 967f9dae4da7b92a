/**
 * @module store/roles/iodef-inbox
 * The owner side of CAA iodef: the reports the receiver took in (HTTPS, SMTP, a file).
 */
import type {
  IodefReceivedInput,
  IodefReceivedQuota,
  IodefReceivedRecord,
  IodefStoreResult,
} from '../types.js';

/**
 * Received iodef reports.
 *
 * Guarantees:
 * - Stored at most once per `fingerprint` (sender and document): dedup, the quota, the earlier
 *   reports that claim the same incident and the insert are ONE decision (SQLite: one IMMEDIATE
 *   transaction; PostgreSQL: one transaction under a SHARE ROW EXCLUSIVE table lock, which does
 *   not block readers), so receivers sharing the store cannot both pass the quota or both store
 *   one report.
 * - The quota counts the document's bytes as received; the document is stored with U+0000 as
 *   U+FFFD, sender texts cleaned the same way.
 * - A stored report is never changed; only retention deletes it.
 * - Times (`receivedAt`, `quota.since`, the retention cutoff) may come in any ISO 8601 form and
 *   are stored and compared as `toISOString()` text (codec.isoInstant), so both engines select the
 *   same rows; anything else is STORE_INVALID_ARGUMENT.
 */
export interface IodefInbox {
  /**
   * Stores a received report once per `fingerprint` (sender and document), in one transaction
   * with its checks. A known fingerprint is `duplicate` (nothing written, quota not used); past
   * `quota` (reports or document bytes received since `quota.since`) it is `over-quota` (nothing
   * written); else `stored`, with the earlier reports that claim the same `incidentKey` (at most
   * 20, oldest first), and `conflict` when one of them has other content.
   */
  storeReceivedIodef(report: IodefReceivedInput, quota?: IodefReceivedQuota): Promise<IodefStoreResult>;
  /** Every received report, oldest first. */
  listReceivedIodef(): Promise<IodefReceivedRecord[]>;
  /** Retention: deletes received reports with `receivedAt` before `cutoff` (ISO); returns how many. */
  deleteReceivedIodefBefore(cutoff: string): Promise<number>;
}
