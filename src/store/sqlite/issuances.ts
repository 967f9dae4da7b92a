/**
 * @module store/sqlite/issuances
 * Reading back what `commitBatch` stored in SQLite: issuances with their certificate hashes and
 * log entries (by hash prefix, by DNS name, or all), read in one transaction so the three reads
 * see the same snapshot, and the malformed entries. Read-only.
 *
 * Pages (`pageIssuances`) are keyset pages over the (first_seen, tbs_sha256) index, or over the
 * primary key of `issuance_suffixes` (suffix, first_seen, tbs_sha256) for a name: either way
 * SQLite walks the index from the position and stops after `limit` rows, with no sort step,
 * however many issuances match (migration 6 says why a suffix table).
 */
import { cleanText, hexPrefixRange } from '../codec.js';
import {
  ISSUANCE_COLUMNS,
  ISSUANCE_COLUMNS_I,
  SQLITE_COLUMNS,
  issuancesFromRows,
  malformedFromRow,
} from '../rows.js';
import { checkHistoryDepth, checkNameList, checkPageQuery, checkSearchName } from '../web-codec.js';
import type { PageQuery } from '../web-codec.js';
import type { IssuanceQueries } from '../roles/issuances.js';
import type { Row } from '../rows.js';
import type { Issuance } from '../types.js';
import type { SqliteConnection } from './connection.js';

/** `where` selects TBS hashes in all four tables (each has a `tbs_sha256` column). */
function readIssuances(
  c: SqliteConnection,
  where: string,
  params: unknown[],
  withEntries = true,
): Issuance[] {
  const read = c.db.transaction((): Issuance[] => {
    const rows = c
      .stmt(`SELECT ${ISSUANCE_COLUMNS} FROM issuances WHERE ${where} ORDER BY first_seen, tbs_sha256`)
      .all(...params) as Row[];
    if (rows.length === 0) return [];
    const certs = c
      .stmt(`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${where}`)
      .all(...params) as Row[];
    const entries = withEntries
      ? (c
          .stmt(`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${where}`)
          .all(...params) as Row[])
      : [];
    const sources = c
      .stmt(`SELECT tbs_sha256, source FROM issuance_sources WHERE ${where}`)
      .all(...params) as Row[];
    return issuancesFromRows(rows, certs, entries, SQLITE_COLUMNS, sources);
  });
  // One read transaction: the three reads see the same snapshot.
  return read.deferred();
}

/** The page's issuance rows, in page order (see the module comment for the plan). */
function pageRows(c: SqliteConnection, q: PageQuery): Row[] {
  const cmp = q.order === 'asc' ? '>' : '<';
  const dir = q.order === 'asc' ? 'ASC' : 'DESC';
  if (q.name === null) {
    const after = q.after === null ? '' : `WHERE (first_seen, tbs_sha256) ${cmp} (?, ?)`;
    const params = q.after === null ? [] : [q.after.firstSeen, q.after.tbsSha256];
    return c
      .stmt(
        `SELECT ${ISSUANCE_COLUMNS} FROM issuances ${after}
         ORDER BY first_seen ${dir}, tbs_sha256 ${dir} LIMIT ?`,
      )
      .all(...params, q.limit) as Row[];
  }
  const after = q.after === null ? '' : `AND (s.first_seen, s.tbs_sha256) ${cmp} (?, ?)`;
  const params = q.after === null ? [] : [q.after.firstSeen, q.after.tbsSha256];
  return c
    .stmt(
      `SELECT ${ISSUANCE_COLUMNS_I} FROM issuance_suffixes s JOIN issuances i ON i.tbs_sha256 = s.tbs_sha256
       WHERE s.suffix = ? ${after} ORDER BY s.first_seen ${dir}, s.tbs_sha256 ${dir} LIMIT ?`,
    )
    .all(q.name, ...params, q.limit) as Row[];
}

export function sqliteIssuances(c: SqliteConnection): IssuanceQueries {
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

    async issuancesForNames(dnsNames, perName) {
      const names = checkNameList(dnsNames);
      const depth = checkHistoryDepth(perName);
      if (names.length === 0) return [];
      // Each name's `depth` most recent issuances, chosen on the indexes before any row is read.
      return readIssuances(
        c,
        `tbs_sha256 IN (SELECT tbs_sha256 FROM (
           SELECT n.tbs_sha256, ROW_NUMBER() OVER (
             PARTITION BY n.dns_name ORDER BY i.first_seen DESC, i.tbs_sha256 DESC) AS rank
           FROM issuance_names n JOIN issuances i ON i.tbs_sha256 = n.tbs_sha256
           WHERE n.dns_name IN (SELECT value FROM json_each(?))) WHERE rank <= ?)`,
        [JSON.stringify(names), depth],
        false,
      );
    },

    async pageIssuances(query) {
      const q = checkPageQuery(query);
      const read = c.db.transaction((): Issuance[] => {
        const rows = pageRows(c, q);
        if (rows.length === 0) return [];
        // One JSON parameter whatever the page size: one prepared statement for every page.
        const tbs = JSON.stringify(rows.map((r) => String(r.tbs_sha256)));
        const where = 'tbs_sha256 IN (SELECT value FROM json_each(?))';
        const certs = c
          .stmt(`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${where}`)
          .all(tbs) as Row[];
        const entries = c
          .stmt(`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${where}`)
          .all(tbs) as Row[];
        const sources = c
          .stmt(`SELECT tbs_sha256, source FROM issuance_sources WHERE ${where}`)
          .all(tbs) as Row[];
        return issuancesFromRows(rows, certs, entries, SQLITE_COLUMNS, sources);
      });
      return read.deferred();
    },

    async countIssuances(name) {
      const row =
        name === undefined
          ? (c.stmt('SELECT count(*) AS n FROM issuances').get() as Row)
          : (c
              .stmt('SELECT count(*) AS n FROM issuance_suffixes WHERE suffix = ?')
              .get(checkSearchName(name)) as Row);
      return SQLITE_COLUMNS.int(row.n);
    },

    async listMalformed() {
      const rows = c
        .stmt('SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx')
        .all() as Row[];
      return rows.map((r) => malformedFromRow(r, SQLITE_COLUMNS));
    },
  };
}
