/**
 * @module store/postgres/issuances
 * Reading back what `commitBatch` stored in PostgreSQL: issuances with their certificate hashes
 * and log entries (by hash prefix, by DNS name, or all), read in one REPEATABLE READ READ ONLY
 * transaction so the three reads see the same snapshot, and the malformed entries. Read-only.
 */
import type postgres from 'postgres';
import { cleanText, hexPrefixRange } from '../codec.js';
import { ISSUANCE_COLUMNS, POSTGRES_COLUMNS, issuancesFromRows, malformedFromRow } from '../rows.js';
import type { IssuancesPart } from '../parts.js';
import type { Row } from '../rows.js';
import type { Issuance } from '../types.js';
import type { Sql } from './connection.js';

/** `filter` selects TBS hashes; the three reads share one snapshot (REPEATABLE READ). */
async function readIssuances(sql: Sql, filter: postgres.Fragment): Promise<Issuance[]> {
  return sql.begin('isolation level repeatable read read only', async (tx) => {
    const rows = await tx<Row[]>`SELECT ${tx.unsafe(ISSUANCE_COLUMNS)} FROM issuances WHERE ${filter}
                        ORDER BY first_seen, tbs_sha256`;
    if (rows.length === 0) return [];
    const certs = await tx<Row[]>`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${filter}`;
    const entries = await tx<
      Row[]
    >`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${filter}`;
    return issuancesFromRows(rows, certs, entries, POSTGRES_COLUMNS);
  }) as Promise<Issuance[]>;
}

export function postgresIssuances(sql: Sql): IssuancesPart {
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

    async listMalformed() {
      const rows = await sql<
        Row[]
      >`SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx`;
      return rows.map((r) => malformedFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
