/**
 * @module store/sqlite/iodef-outbox
 * The CA side of CAA iodef (RFC 8659 §4.4) in SQLite: the durable outbox of reports to send.
 * `enqueueIodefReport` decides dedup, both rate limits and the insert in ONE IMMEDIATE
 * transaction, so two processes enqueuing at once cannot both pass a limit; the marks touch only
 * a report not yet sent.
 */
import { checkLimit, cleanText, isoInstant, nowIso } from '../codec.js';
import { iodefLimits, outboxRow } from '../iodef-codec.js';
import { SQLITE_COLUMNS, outboxFromRow } from '../rows.js';
import type { IodefOutbox } from '../roles/outboxes.js';
import type { Row } from '../rows.js';
import type { IodefEnqueueResult } from '../types.js';
import type { SqliteConnection } from './connection.js';

export function sqliteIodefOutbox(c: SqliteConnection): IodefOutbox {
  return {
    async enqueueIodefReport(report, given) {
      const r = outboxRow(report);
      const limits = iodefLimits(given);
      // One IMMEDIATE transaction: the checks and the insert see the same outbox, also across processes.
      const tx = c.db.transaction((): IodefEnqueueResult => {
        const dup = c
          .stmt('SELECT id FROM iodef_outbox WHERE dedup_key = ? AND created_at >= ? ORDER BY id LIMIT 1')
          .get(r.dedupKey, limits.dedupSince) as Row | undefined;
        if (dup) return { outcome: 'duplicate', id: Number(dup.id) };
        const perRecipient = c
          .stmt('SELECT COUNT(*) AS n FROM iodef_outbox WHERE recipient = ? AND created_at >= ?')
          .get(r.recipient, limits.recipientSince) as Row;
        if (Number(perRecipient.n) >= limits.recipientMax)
          return { outcome: 'rate-limited-recipient', id: null };
        const perDomain = c
          .stmt('SELECT COUNT(*) AS n FROM iodef_outbox WHERE registered_domain = ? AND created_at >= ?')
          .get(r.registeredDomain, limits.domainSince) as Row;
        if (Number(perDomain.n) >= limits.domainMax) return { outcome: 'rate-limited-domain', id: null };
        const inserted = c
          .stmt(
            `INSERT INTO iodef_outbox (dedup_key, recipient, channel, registered_domain, names, reason, incident_id,
           document, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.dedupKey,
            r.recipient,
            r.channel,
            r.registeredDomain,
            r.names,
            r.reason,
            r.incidentId,
            r.document,
            r.createdAt,
            r.createdAt,
          );
        return { outcome: 'enqueued', id: Number(inserted.lastInsertRowid) };
      });
      return tx.immediate();
    },

    async dueIodefReports(given, limit) {
      checkLimit(limit);
      const now = isoInstant('now', given);
      const rows = c
        .stmt(
          `SELECT * FROM iodef_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
        )
        .all(now, limit) as Row[];
      return rows.map((row) => outboxFromRow(row, SQLITE_COLUMNS));
    },

    async markIodefReportSent(id, at) {
      c.stmt(
        'UPDATE iodef_outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL',
      ).run(at, id);
    },

    async markIodefReportFailed(id, error, nextAttemptAt) {
      if (nextAttemptAt === null)
        c.stmt(
          'UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ?, gave_up_at = ? WHERE id = ? AND sent_at IS NULL',
        ).run(cleanText(error), nowIso(), id);
      else
        c.stmt(
          'UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL',
        ).run(cleanText(error), nextAttemptAt, id);
    },

    async listIodefOutbox() {
      const rows = c.stmt('SELECT * FROM iodef_outbox ORDER BY id').all() as Row[];
      return rows.map((row) => outboxFromRow(row, SQLITE_COLUMNS));
    },
  };
}
