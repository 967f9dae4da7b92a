/**
 * @module store/sqlite/issuances
 * Reading back what `commitBatch` stored in SQLite: issuances with their certificate hashes and
 * log entries (by hash prefix, by DNS name, or all), read in one transaction so the three reads
 * see the same snapshot, and the malformed entries. Read-only.
 */
import { cleanText, hexPrefixRange } from '../codec.js';
import { ISSUANCE_COLUMNS, SQLITE_COLUMNS, issuancesFromRows, malformedFromRow } from '../rows.js';
import type { IssuancesPart } from '../parts.js';
import type { Row } from '../rows.js';
import type { Issuance } from '../types.js';
import type { SqliteConnection } from './connection.js';

/** `where` selects TBS hashes in all three tables (each has a `tbs_sha256` column). */
function readIssuances(c: SqliteConnection, where: string, params: unknown[]): Issuance[] {
  const read = c.db.transaction((): Issuance[] => {
    const rows = c
      .stmt(`SELECT ${ISSUANCE_COLUMNS} FROM issuances WHERE ${where} ORDER BY first_seen, tbs_sha256`)
      .all(...params) as Row[];
    if (rows.length === 0) return [];
    const certs = c
      .stmt(`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${where}`)
      .all(...params) as Row[];
    const entries = c
      .stmt(`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${where}`)
      .all(...params) as Row[];
    return issuancesFromRows(rows, certs, entries, SQLITE_COLUMNS);
  });
  // One read transaction: the three reads see the same snapshot.
  return read.deferred();
}

export function sqliteIssuances(c: SqliteConnection): IssuancesPart {
  return {
    async listIssuances() {
      return readIssuances(c, '1 = 1', []);
    },

    async findIssuances(hexPrefix) {
      const [low, high] = hexPrefixRange(hexPrefix);
      return readIssuances(
        c,
        `tbs_sha256 IN (SELECT tbs_sha256 FROM issuances WHERE tbs_sha256 >= ? AND tbs_sha256 < ?
        UNION SELECT tbs_sha256 FROM issuance_certs WHERE cert_sha256 >= ? AND cert_sha256 < ?)`,
        [low, high, low, high],
      );
    },

    async issuancesForName(dnsName) {
      return readIssuances(c, 'tbs_sha256 IN (SELECT tbs_sha256 FROM issuance_names WHERE dns_name = ?)', [
        cleanText(dnsName),
      ]);
    },

    async listMalformed() {
      const rows = c
        .stmt('SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx')
        .all() as Row[];
      return rows.map((r) => malformedFromRow(r, SQLITE_COLUMNS));
    },
  };
}
