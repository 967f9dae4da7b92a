/**
 * @module store/postgres/backfill
 * Issuances imported by `certvigil backfill` in PostgreSQL: the rows of backfill-codec.ts in ONE
 * transaction, set-based as `commitBatch` (postgres/log-state.ts), keyed the same way so an
 * issuance already stored (from a log or an earlier import) keeps its columns and first_seen and
 * only gains its source mark.
 */
import { importRows } from '../backfill-codec.js';
import { nowIso } from '../codec.js';
import type { IssuanceImport } from '../roles/issuances.js';
import type { ImportResult } from '../types.js';
import { certsInsert, issuancesInsert, namesInsert, suffixesInsert } from './batch-inserts.js';
import type { Sql } from './connection.js';

export function postgresBackfill(sql: Sql): IssuanceImport {
  return {
    async importIssuances(source, records) {
      const rows = importRows(source, records);
      const now = nowIso();
      if (rows.issuances.length === 0) return { added: 0, known: 0 };
      return sql.begin(async (tx): Promise<ImportResult> => {
        // The issuance tables exactly as commitBatch writes them (batch-inserts.ts), in the same
        // table and key order as a worker's completion (its lock order), then the source marks.
        const inserted = await issuancesInsert(tx, rows.issuances, now, true);
        if (rows.certs.length > 0) await certsInsert(tx, rows.certs);
        if (rows.names.length > 0) await namesInsert(tx, rows.names);
        if (rows.suffixes.length > 0) await suffixesInsert(tx, rows.suffixes);
        await tx`
          INSERT INTO issuance_sources (tbs_sha256, source, source_id, imported_at)
          SELECT r."tbsSha256", ${rows.source}, r."sourceId", ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(rows.sources)}::text::json) AS r("tbsSha256" text, "sourceId" text)
          ON CONFLICT DO NOTHING`;
        return { added: inserted.length, known: rows.issuances.length - inserted.length };
      }) as Promise<ImportResult>;
    },
  };
}
