/**
 * @module store/postgres/iodef-inbox
 * The owner side of CAA iodef in PostgreSQL: received reports, stored at most once per
 * fingerprint (sender and document). Dedup, the daily quota, the reports claiming the same
 * incident and the insert are ONE transaction holding a SHARE ROW EXCLUSIVE table lock, so
 * receivers sharing the database cannot both pass the quota; readers (`iodef list`) are not blocked.
 */
import { toNumber } from '../codec.js';
import { iodefQuota, receivedRow, retentionCutoff } from '../iodef-codec.js';
import { POSTGRES_COLUMNS, overQuota, receivedFromRow, relatedFromRow } from '../rows.js';
import type { IodefInbox } from '../roles/iodef-inbox.js';
import type { Row } from '../rows.js';
import type { IodefStoreResult } from '../types.js';
import type { Sql } from './connection.js';

export function postgresIodefInbox(sql: Sql): IodefInbox {
  return {
    async storeReceivedIodef(report, given) {
      const r = receivedRow(report, given);
      const quota = given === undefined ? undefined : iodefQuota(given);
      return sql.begin(async (tx): Promise<IodefStoreResult> => {
        // Serialises receivers sharing the database, so dedup, quota, conflict and insert are one
        // decision; readers (`iodef list`) are not blocked.
        await tx`LOCK TABLE iodef_received IN SHARE ROW EXCLUSIVE MODE`;
        const [dup] = await tx<Row[]>`SELECT id FROM iodef_received WHERE fingerprint = ${r.fingerprint}`;
        if (dup) return { outcome: 'duplicate', id: toNumber(dup.id) };
        if (quota !== undefined) {
          const [used] = await tx<Row[]>`
          SELECT COUNT(*) AS n, COALESCE(SUM(document_bytes), 0) AS b FROM iodef_received
          WHERE received_at >= ${quota.since}`;
          const over = overQuota(used, r.bytes, quota, POSTGRES_COLUMNS);
          if (over !== null) return over;
        }
        const rows =
          r.incidentKey === null
            ? []
            : await tx<Row[]>`
              SELECT id, sender, document_sha256, (document_sha256 IS NULL AND document = ${r.document}) AS same_text
              FROM iodef_received WHERE incident_key = ${r.incidentKey} ORDER BY id LIMIT 20`;
        const related = rows.map((row) => relatedFromRow(row, r.documentSha256, POSTGRES_COLUMNS));
        const conflict = related.some((x) => !x.sameDocument);
        const [inserted] = await tx<Row[]>`
        INSERT INTO iodef_received (fingerprint, sender, channel, received_at, schema_valid, summary, document,
          sender_key, document_sha256, incident_key, document_bytes, conflict)
        VALUES (${r.fingerprint}, ${r.sender}, ${r.channel}, ${r.receivedAt}, ${r.schemaValid},
          ${r.summary}::text::jsonb, ${r.document}, ${r.senderKey}, ${r.documentSha256},
          ${r.incidentKey}, ${r.bytes}, ${conflict ? 1 : 0})
        RETURNING id`;
        return { outcome: 'stored', id: toNumber(inserted?.id), conflict, related };
      });
    },

    async deleteReceivedIodefBefore(cutoff) {
      const before = retentionCutoff(cutoff);
      const rows = await sql<Row[]>`DELETE FROM iodef_received WHERE received_at < ${before} RETURNING id`;
      return rows.length;
    },

    async listReceivedIodef() {
      const rows = await sql<Row[]>`SELECT * FROM iodef_received ORDER BY id`;
      return rows.map((row) => receivedFromRow(row, POSTGRES_COLUMNS));
    },
  };
}
