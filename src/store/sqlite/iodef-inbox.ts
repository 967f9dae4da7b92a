/**
 * @module store/sqlite/iodef-inbox
 * The owner side of CAA iodef in SQLite: received reports, stored at most once per fingerprint
 * (sender and document). Dedup, the daily quota, the reports claiming the same incident and the
 * insert are ONE IMMEDIATE transaction, so concurrent receivers cannot both pass the quota.
 */
import { iodefQuota, receivedRow, retentionCutoff } from '../iodef-codec.js';
import { SQLITE_COLUMNS, overQuota, receivedFromRow, relatedFromRow } from '../rows.js';
import type { IodefInbox } from '../roles/iodef-inbox.js';
import type { Row } from '../rows.js';
import type { IodefStoreResult } from '../types.js';
import type { SqliteConnection } from './connection.js';

export function sqliteIodefInbox(c: SqliteConnection): IodefInbox {
  return {
    async storeReceivedIodef(report, given) {
      const r = receivedRow(report, given);
      const quota = given === undefined ? undefined : iodefQuota(given);
      // One IMMEDIATE transaction: dedup, quota, the related reports and the insert see one table.
      const tx = c.db.transaction((): IodefStoreResult => {
        const dup = c.stmt('SELECT id FROM iodef_received WHERE fingerprint = ?').get(r.fingerprint) as
          Row | undefined;
        if (dup) return { outcome: 'duplicate', id: Number(dup.id) };
        if (quota !== undefined) {
          const used = c
            .stmt(
              'SELECT COUNT(*) AS n, COALESCE(SUM(document_bytes), 0) AS b FROM iodef_received WHERE received_at >= ?',
            )
            .get(quota.since) as Row;
          const over = overQuota(used, r.bytes, quota, SQLITE_COLUMNS);
          if (over !== null) return over;
        }
        const related =
          r.incidentKey === null
            ? []
            : (
                c
                  .stmt(
                    `SELECT id, sender, document_sha256, (document_sha256 IS NULL AND document = ?) AS same_text
                 FROM iodef_received WHERE incident_key = ? ORDER BY id LIMIT 20`,
                  )
                  .all(r.document, r.incidentKey) as Row[]
              ).map((row) => relatedFromRow(row, r.documentSha256, SQLITE_COLUMNS));
        const conflict = related.some((x) => !x.sameDocument);
        const inserted = c
          .stmt(
            `INSERT INTO iodef_received (fingerprint, sender, channel, received_at, schema_valid, summary, document,
           sender_key, document_sha256, incident_key, document_bytes, conflict)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            r.fingerprint,
            r.sender,
            r.channel,
            r.receivedAt,
            r.schemaValid,
            r.summary,
            r.document,
            r.senderKey,
            r.documentSha256,
            r.incidentKey,
            r.bytes,
            conflict ? 1 : 0,
          );
        return { outcome: 'stored', id: Number(inserted.lastInsertRowid), conflict, related };
      });
      return tx.immediate();
    },

    async deleteReceivedIodefBefore(cutoff) {
      const before = retentionCutoff(cutoff);
      return c.stmt('DELETE FROM iodef_received WHERE received_at < ?').run(before).changes;
    },

    async listReceivedIodef() {
      const rows = c.stmt('SELECT * FROM iodef_received ORDER BY id').all() as Row[];
      return rows.map((row) => receivedFromRow(row, SQLITE_COLUMNS));
    },
  };
}
