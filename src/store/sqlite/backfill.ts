/**
 * @module store/sqlite/backfill
 * Issuances imported by `certvigil backfill` in SQLite: the rows of backfill-codec.ts in ONE
 * IMMEDIATE transaction, keyed like `commitBatch` so an issuance already stored (from a log or an
 * earlier import) keeps its columns and first_seen and only gains its source mark.
 */
import { importRows } from '../backfill-codec.js';
import type { ImportRows } from '../backfill-codec.js';
import { nowIso } from '../codec.js';
import type { IssuanceImport } from '../roles/issuances.js';
import type { ImportResult } from '../types.js';
import { insertIssuanceKeys, insertIssuanceRows } from './batch-inserts.js';
import type { SqliteConnection } from './connection.js';

function writeRows(c: SqliteConnection, rows: ImportRows, now: string): ImportResult {
  // The issuance tables exactly as commitBatch writes them (batch-inserts.ts), then the marks.
  const added = insertIssuanceRows(c, rows.issuances, now);
  insertIssuanceKeys(c, rows);
  const insertSource = c.stmt(
    `INSERT INTO issuance_sources (tbs_sha256, source, source_id, imported_at) VALUES (?, ?, ?, ?)
     ON CONFLICT DO NOTHING`,
  );
  for (const x of rows.sources) insertSource.run(x.tbsSha256, rows.source, x.sourceId, now);
  return { added, known: rows.issuances.length - added };
}

export function sqliteBackfill(c: SqliteConnection): IssuanceImport {
  const tx = c.db.transaction((rows: ImportRows, now: string) => writeRows(c, rows, now));
  return {
    async importIssuances(source, records) {
      const rows = importRows(source, records);
      // IMMEDIATE: take the write lock at BEGIN (a running monitor commits in between, never inside).
      return tx.immediate(rows, nowIso());
    },
  };
}
