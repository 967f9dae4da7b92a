/**
 * @module store/postgres/issuances
 * Reading back what `commitBatch` stored in PostgreSQL: issuances with their certificate hashes
 * and log entries (by hash prefix, by DNS name, or all), read in one REPEATABLE READ READ ONLY
 * transaction so the three reads see the same snapshot, and the malformed entries. Read-only.
 *
 * Pages (`pageIssuances`) are keyset pages over the (first_seen, tbs_sha256) index, or over the
 * primary key of `issuance_suffixes` (suffix, first_seen, tbs_sha256) for a name: an index scan
 * from the position that stops after `limit` rows, however many issuances match.
 */
import type postgres from 'postgres';
import { cleanText, hexPrefixRange } from '../codec.js';
import {
  ISSUANCE_COLUMNS,
  ISSUANCE_COLUMNS_I,
  POSTGRES_COLUMNS,
  issuancesFromRows,
  malformedFromRow,
} from '../rows.js';
import { checkHistoryDepth, checkNameList, checkPageQuery, checkSearchName } from '../web-codec.js';
import type { PageQuery } from '../web-codec.js';
import type { IssuanceQueries } from '../roles/issuances.js';
import type { Row } from '../rows.js';
import type { Issuance } from '../types.js';
import type { Sql, Tx } from './connection.js';

/** `filter` selects TBS hashes; the three reads share one snapshot (REPEATABLE READ). */
async function readIssuances(sql: Sql, filter: postgres.Fragment, withEntries = true): Promise<Issuance[]> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const rows = await tx<Row[]>`SELECT ${tx.unsafe(ISSUANCE_COLUMNS)} FROM issuances WHERE ${filter}
                        ORDER BY first_seen, tbs_sha256`;
    return rows.length === 0 ? [] : assemble(tx, rows, filter, withEntries);
  }) as Promise<Issuance[]>;
}

/** The issuances of `rows`, with the certificates and (unless not wanted) log entries `filter` selects. */
async function assemble(
  tx: Tx,
  rows: Row[],
  filter: postgres.Fragment,
  withEntries = true,
): Promise<Issuance[]> {
  const certs = await tx<Row[]>`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${filter}`;
  const entries = withEntries
    ? await tx<Row[]>`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${filter}`
    : [];
  const sources = await tx<Row[]>`SELECT tbs_sha256, source FROM issuance_sources WHERE ${filter}`;
  return issuancesFromRows(rows, certs, entries, POSTGRES_COLUMNS, sources);
}

/** The page's issuance rows, in page order (see the module comment for the plan). */
async function pageRows(tx: Tx, q: PageQuery): Promise<Row[]> {
  const cmp = tx.unsafe(q.order === 'asc' ? '>' : '<');
  const dir = tx.unsafe(q.order === 'asc' ? 'ASC' : 'DESC');
  if (q.name === null) {
    const after =
      q.after === null
        ? tx``
        : tx`WHERE (first_seen, tbs_sha256) ${cmp} (${q.after.firstSeen}::timestamptz, ${q.after.tbsSha256})`;
    return tx<Row[]>`SELECT ${tx.unsafe(ISSUANCE_COLUMNS)} FROM issuances ${after}
                     ORDER BY first_seen ${dir}, tbs_sha256 ${dir} LIMIT ${q.limit}`;
  }
  const after =
    q.after === null
      ? tx``
      : tx`AND (s.first_seen, s.tbs_sha256) ${cmp} (${q.after.firstSeen}::timestamptz, ${q.after.tbsSha256})`;
  return tx<Row[]>`SELECT ${tx.unsafe(ISSUANCE_COLUMNS_I)}
                   FROM issuance_suffixes s JOIN issuances i ON i.tbs_sha256 = s.tbs_sha256
                   WHERE s.suffix = ${q.name} ${after}
                   ORDER BY s.first_seen ${dir}, s.tbs_sha256 ${dir} LIMIT ${q.limit}`;
}

export function postgresIssuances(sql: Sql): IssuanceQueries {
  return {
    async listIssuances() {
      return readIssuances(sql, sql`TRUE`);
    },

    async findIssuances(hexPrefix) {
      const [low, high] = hexPrefixRange(hexPrefix);
      return readIssuances(
        sql,
        sql`tbs_sha256 IN (SELECT tbs_sha256 FROM issuances WHERE tbs_sha256 >= ${low} AND tbs_sha256 < ${high}
        UNION SELECT tbs_sha256 FROM issuance_certs WHERE cert_sha256 >= ${low} AND cert_sha256 < ${high})`,
      );
    },

    async issuancesForName(dnsName) {
      return readIssuances(
        sql,
        sql`tbs_sha256 IN (SELECT tbs_sha256 FROM issuance_names WHERE dns_name = ${cleanText(dnsName)})`,
      );
    },

    async issuancesForNames(dnsNames, perName) {
      const names = checkNameList(dnsNames);
      const depth = checkHistoryDepth(perName);
      if (names.length === 0) return [];
      // Each name's `depth` most recent issuances, chosen on the indexes before any row is read.
      return readIssuances(
        sql,
        sql`tbs_sha256 IN (SELECT tbs_sha256 FROM (
              SELECT n.tbs_sha256, ROW_NUMBER() OVER (
                PARTITION BY n.dns_name ORDER BY i.first_seen DESC, i.tbs_sha256 DESC) AS rank
              FROM issuance_names n JOIN issuances i ON i.tbs_sha256 = n.tbs_sha256
              WHERE n.dns_name = ANY(${names}::text[])) AS ranked WHERE rank <= ${depth})`,
        false,
      );
    },

    async pageIssuances(query) {
      const q = checkPageQuery(query);
      return sql.begin('isolation level repeatable read read only', async (tx) => {
        const rows = await pageRows(tx, q);
        if (rows.length === 0) return [];
        // `= ANY(array)` is an index condition; an IN over a set-returning function is planned
        // as a scan of the whole table (measured: ~60 ms with 100k issuances).
        const tbs = rows.map((r) => String(r.tbs_sha256));
        return assemble(tx, rows, tx`tbs_sha256 = ANY(${tx.array(tbs)}::text[])`);
      }) as Promise<Issuance[]>;
    },

    async countIssuances(name) {
      const [row] =
        name === undefined
          ? await sql<Row[]>`SELECT count(*) AS n FROM issuances`
          : await sql<
              Row[]
            >`SELECT count(*) AS n FROM issuance_suffixes WHERE suffix = ${checkSearchName(name)}`;
      return POSTGRES_COLUMNS.int(row?.n);
    },

    async listMalformed() {
      const rows = await sql<
        Row[]
      >`SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx`;
      return rows.map((r) => malformedFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
