/**
 * @module store/postgres/iodef-outbox
 * The CA side of CAA iodef (RFC 8659 §4.4) in PostgreSQL: the durable outbox of reports to send.
 * `enqueueIodefReport` decides dedup, both rate limits and the insert in ONE transaction holding
 * a SHARE ROW EXCLUSIVE table lock, so enqueuers sharing the database cannot both pass a limit
 * (readers are not blocked; the sender's marks wait for it); the marks touch only a report not yet
 * sent.
 */
import { checkLimit, cleanText, isoInstant, nowIso, toNumber } from '../codec.js';
import { iodefLimits, outboxRow } from '../iodef-codec.js';
import { POSTGRES_COLUMNS, outboxFromRow } from '../rows.js';
import type { IodefOutbox } from '../roles/outboxes.js';
import type { Row } from '../rows.js';
import type { Sql } from './connection.js';

export function postgresIodefOutbox(sql: Sql): IodefOutbox {
  return {
    async enqueueIodefReport(report, given) {
      const r = outboxRow(report);
      const limits = iodefLimits(given);
      return sql.begin(async (tx) => {
        // Serialises enqueuers (several CA workers may share the database) so that the dedup and
        // rate-limit checks and the insert are one decision. Readers are not blocked; the sender's
        // marks (UPDATE, ROW EXCLUSIVE) wait for this transaction.
        await tx`LOCK TABLE iodef_outbox IN SHARE ROW EXCLUSIVE MODE`;
        const dup = await tx<Row[]>`
        SELECT id FROM iodef_outbox WHERE dedup_key = ${r.dedupKey} AND created_at >= ${limits.dedupSince}
        ORDER BY id LIMIT 1`;
        if (dup[0]) return { outcome: 'duplicate' as const, id: toNumber(dup[0].id) };
        const [perRecipient] = await tx<Row[]>`
        SELECT COUNT(*) AS n FROM iodef_outbox WHERE recipient = ${r.recipient} AND created_at >= ${limits.recipientSince}`;
        if (toNumber(perRecipient?.n) >= limits.recipientMax)
          return { outcome: 'rate-limited-recipient' as const, id: null };
        const [perDomain] = await tx<Row[]>`
        SELECT COUNT(*) AS n FROM iodef_outbox
        WHERE registered_domain = ${r.registeredDomain} AND created_at >= ${limits.domainSince}`;
        if (toNumber(perDomain?.n) >= limits.domainMax)
          return { outcome: 'rate-limited-domain' as const, id: null };
        const [inserted] = await tx<Row[]>`
        INSERT INTO iodef_outbox (dedup_key, recipient, channel, registered_domain, names, reason, incident_id,
          document, created_at, next_attempt_at)
        VALUES (${r.dedupKey}, ${r.recipient}, ${r.channel}, ${r.registeredDomain}, ${r.names}::text::jsonb,
          ${r.reason}, ${r.incidentId}, ${r.document}, ${r.createdAt}, ${r.createdAt})
        RETURNING id`;
        return { outcome: 'enqueued' as const, id: toNumber(inserted?.id) };
      });
    },

    async dueIodefReports(given, limit) {
      checkLimit(limit);
      const now = isoInstant('now', given);
      const rows = await sql<Row[]>`
      SELECT * FROM iodef_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id LIMIT ${limit}`;
      return rows.map((row) => outboxFromRow(row, POSTGRES_COLUMNS));
    },

    async markIodefReportSent(id, at) {
      await sql`UPDATE iodef_outbox SET sent_at = ${at}, attempts = attempts + 1 WHERE id = ${id} AND sent_at IS NULL`;
    },

    async markIodefReportFailed(id, error, nextAttemptAt) {
      if (nextAttemptAt === null)
        await sql`
        UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ${cleanText(error)}, gave_up_at = ${nowIso()}
        WHERE id = ${id} AND sent_at IS NULL`;
      else
        await sql`
        UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ${cleanText(error)}, next_attempt_at = ${nextAttemptAt}
        WHERE id = ${id} AND sent_at IS NULL`;
    },

    async listIodefOutbox() {
      const rows = await sql<Row[]>`SELECT * FROM iodef_outbox ORDER BY id`;
      return rows.map((row) => outboxFromRow(row, POSTGRES_COLUMNS));
    },
  };
}
