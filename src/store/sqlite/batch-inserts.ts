/**
 * @module store/sqlite/batch-inserts
 * The rows of a batch (`commitBatch`), of a completed work unit (`completeUnit`) or of an import
 * (`importIssuances`, the issuance tables only) written inside the caller's IMMEDIATE transaction:
 * issuances, their certificate hashes, log entries, names and suffixes, malformed entries and
 * alerts. Everything is keyed: rows written before (a replayed batch, another unit holding the
 * same certificate or alert key, an earlier import) are kept once, and the first writer keeps an
 * issuance's descriptive columns and first_seen.
 */
import type { BatchRows, IssuanceRow } from '../codec.js';
import { ISSUANCE_COLUMNS } from '../rows.js';
import type { SqliteConnection } from './connection.js';

/** Inserts the issuances not stored yet, stamped `now` (ISO); returns how many were new. */
export function insertIssuanceRows(
  c: SqliteConnection,
  issuances: readonly IssuanceRow[],
  now: string,
): number {
  const insert = c.stmt(
    `INSERT INTO issuances (${ISSUANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tbs_sha256) DO NOTHING`,
  );
  let added = 0;
  for (const i of issuances)
    added += insert.run(
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
  return added;
}

/**
 * The certificate hashes, names and name suffixes of issuances; after `insertIssuanceRows`: the
 * suffix rows carry the STORED first_seen (an issuance seen before keeps its own), which
 * pageIssuances orders by.
 */
export function insertIssuanceKeys(
  c: SqliteConnection,
  rows: Pick<BatchRows, 'certs' | 'names' | 'suffixes'>,
): void {
  const insertCert = c.stmt(
    'INSERT INTO issuance_certs (tbs_sha256, cert_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  for (const cert of rows.certs) insertCert.run(cert.tbsSha256, cert.certSha256);
  const insertName = c.stmt(
    'INSERT INTO issuance_names (dns_name, tbs_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  for (const n of rows.names) insertName.run(n.dnsName, n.tbsSha256);
  const insertSuffix = c.stmt(
    `INSERT INTO issuance_suffixes (suffix, first_seen, tbs_sha256)
     SELECT ?, first_seen, tbs_sha256 FROM issuances WHERE tbs_sha256 = ? ON CONFLICT DO NOTHING`,
  );
  for (const x of rows.suffixes) insertSuffix.run(x.suffix, x.tbsSha256);
}

/** Writes `rows` stamped `now` (ISO); call inside a transaction. */
export function insertBatchRows(c: SqliteConnection, rows: Omit<BatchRows, 'tree'>, now: string): void {
  insertIssuanceRows(c, rows.issuances, now);
  const insertEntry = c.stmt(
    `INSERT INTO log_entries (log_id, idx, tbs_sha256, type, timestamp) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
  );
  for (const e of rows.entries) insertEntry.run(e.logId, e.idx, e.tbsSha256, e.type, e.timestamp);
  insertIssuanceKeys(c, rows);
  const insertMalformed = c.stmt(
    'INSERT INTO malformed (log_id, idx, error, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  for (const m of rows.malformed) insertMalformed.run(m.logId, m.idx, m.error, now);
  const insertAlert = c.stmt(
    'INSERT INTO alerts (key, kind, payload, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
  );
  for (const a of rows.alerts) insertAlert.run(a.key, a.kind, a.payload, now);
}
