/**
 * @module store/sqlite/backfill
 * Issuances imported by `certvigil backfill` in SQLite: the rows of backfill-codec.ts in ONE
 * IMMEDIATE transaction, keyed like `commitBatch` so an issuance already stored (from a log or an
 * earlier import) keeps its columns and first_seen and only gains its source mark.
 */
import { importRows } from '../backfill-codec.js';
import type { ImportRows } from '../backfill-codec.js';
import { nowIso } from '../codec.js';
import { ISSUANCE_COLUMNS } from '../rows.js';
import type { IssuanceImport } from '../roles/issuances.js';
import type { ImportResult } from '../types.js';
import type { SqliteConnection } from './connection.js';

function writeRows(c: SqliteConnection, rows: ImportRows, now: string): ImportResult {
  const insertIssuance = c.stmt(
    `INSERT INTO issuances (${ISSUANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (tbs_sha256) DO NOTHING`,
  );
  let added = 0;
  for (const i of rows.issuances)
    added += insertIssuance.run(
      i.tbsSha256,
      i.dnsNames,
      i.ipAddresses,
      i.issuer,
      i.serial,
      i.notBefore,
      i.notAfter,
      i.spkiSha256,
      i.keyType,
      now,
    ).changes;
  const insertCert = c.stmt(
    'INSERT INTO issuance_certs (tbs_sha256, cert_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  for (const x of rows.certs) insertCert.run(x.tbsSha256, x.certSha256);
  const insertName = c.stmt(
    'INSERT INTO issuance_names (dns_name, tbs_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  for (const n of rows.names) insertName.run(n.dnsName, n.tbsSha256);
  // After the issuances: suffix rows carry the STORED first_seen, as in commitBatch.
  const insertSuffix = c.stmt(
    `INSERT INTO issuance_suffixes (suffix, first_seen, tbs_sha256)
     SELECT ?, first_seen, tbs_sha256 FROM issuances WHERE tbs_sha256 = ? ON CONFLICT DO NOTHING`,
  );
  for (const x of rows.suffixes) insertSuffix.run(x.suffix, x.tbsSha256);
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
