/**
 * @module store/postgres/batch-inserts
 * The rows of a batch (`commitBatch`), of a completed work unit (`completeUnit`) or of an import
 * (`importIssuances`, the issuance tables only) written inside the caller's transaction:
 * issuances, their certificate hashes, log entries, names and suffixes, malformed entries and
 * alerts. One set-based INSERT per table (`json_to_recordset` over the rows, one parameter
 * whatever their number) instead of one statement per row, for the network.
 *
 * Everything is keyed: rows written before (a replayed batch, or another worker's unit holding the
 * same certificate or alert key) are kept once, and the first writer keeps an issuance's
 * descriptive columns and first_seen.
 *
 * Lock order: workers complete units concurrently, and two units may share certificates (a
 * precertificate and its final certificate, the same certificate logged twice). Each INSERT takes
 * its rows in key order and the tables always come in the same order, so two transactions wait
 * for each other's keys in one direction only and never deadlock. An import (`importIssuances`)
 * takes the issuance tables in the same order (postgres/backfill.ts).
 */
import type postgres from 'postgres';
import type { BatchRows, IssuanceRow } from '../codec.js';
import { ISSUANCE_COLUMNS } from '../rows.js';
import type { Row } from '../rows.js';
import type { Tx } from './connection.js';

type Insert = postgres.PendingQuery<Row[]>;

/**
 * Inserts the issuances not stored yet, stamped `now` (ISO), in key order; with `returning`, the
 * statement returns the TBS hash of each new one (`importIssuances` counts them).
 */
export function issuancesInsert(
  tx: Tx,
  issuances: readonly IssuanceRow[],
  now: string,
  returning = false,
): Insert {
  return tx`
    INSERT INTO issuances (${tx.unsafe(ISSUANCE_COLUMNS)})
    SELECT r."tbsSha256", r."dnsNames"::jsonb, r."ipAddresses"::jsonb, r.issuer, r.serial,
      r."notBefore", r."notAfter", r."spkiSha256", r."keyType", ${now}::timestamptz
    FROM json_to_recordset(${JSON.stringify(issuances)}::text::json) AS r("tbsSha256" text,
      "dnsNames" text, "ipAddresses" text, issuer text, serial text, "notBefore" text,
      "notAfter" text, "spkiSha256" text, "keyType" text)
    ORDER BY r."tbsSha256"
    ON CONFLICT (tbs_sha256) DO NOTHING ${returning ? tx`RETURNING tbs_sha256` : tx``}`;
}

/** The certificate hashes of issuances, in key order. */
export function certsInsert(tx: Tx, certs: BatchRows['certs']): Insert {
  return tx`
    INSERT INTO issuance_certs (tbs_sha256, cert_sha256)
    SELECT r."tbsSha256", r."certSha256"
    FROM json_to_recordset(${JSON.stringify(certs)}::text::json) AS r("tbsSha256" text, "certSha256" text)
    ORDER BY r."tbsSha256", r."certSha256"
    ON CONFLICT DO NOTHING`;
}

/** The DNS names of issuances, in key order. */
export function namesInsert(tx: Tx, names: BatchRows['names']): Insert {
  return tx`
    INSERT INTO issuance_names (dns_name, tbs_sha256)
    SELECT r."dnsName", r."tbsSha256"
    FROM json_to_recordset(${JSON.stringify(names)}::text::json) AS r("dnsName" text, "tbsSha256" text)
    ORDER BY r."dnsName", r."tbsSha256"
    ON CONFLICT DO NOTHING`;
}

/**
 * The name suffixes of issuances, in key order. After `issuancesInsert` (pipelined statements run
 * in order): the suffix rows carry the STORED first_seen (an issuance seen before keeps its own),
 * which pageIssuances orders by.
 */
export function suffixesInsert(tx: Tx, suffixes: BatchRows['suffixes']): Insert {
  return tx`
    INSERT INTO issuance_suffixes (suffix, first_seen, tbs_sha256)
    SELECT r.suffix, i.first_seen, i.tbs_sha256
    FROM json_to_recordset(${JSON.stringify(suffixes)}::text::json) AS r(suffix text, "tbsSha256" text)
    JOIN issuances i ON i.tbs_sha256 = r."tbsSha256" COLLATE "C"
    ORDER BY r.suffix, i.first_seen, i.tbs_sha256
    ON CONFLICT DO NOTHING`;
}

/** Writes `rows` in `tx`, stamped `now` (ISO); the first failure aborts the transaction. */
export async function insertBatchRows(tx: Tx, rows: Omit<BatchRows, 'tree'>, now: string): Promise<void> {
  // The statements are pipelined (sent without waiting for each other) and run in this order,
  // issuances first for the foreign keys.
  const inserts: Insert[] = [];
  if (rows.issuances.length > 0) inserts.push(issuancesInsert(tx, rows.issuances, now));
  if (rows.certs.length > 0) inserts.push(certsInsert(tx, rows.certs));
  if (rows.entries.length > 0)
    inserts.push(tx`
    INSERT INTO log_entries (log_id, idx, tbs_sha256, type, timestamp)
    SELECT r."logId", r.idx, r."tbsSha256", r.type, r.timestamp
    FROM json_to_recordset(${JSON.stringify(rows.entries)}::text::json) AS r("logId" text, idx bigint,
      "tbsSha256" text, type text, timestamp bigint)
    ORDER BY r."logId", r.idx
    ON CONFLICT DO NOTHING`);
  if (rows.names.length > 0) inserts.push(namesInsert(tx, rows.names));
  if (rows.suffixes.length > 0) inserts.push(suffixesInsert(tx, rows.suffixes));
  if (rows.malformed.length > 0)
    inserts.push(tx`
    INSERT INTO malformed (log_id, idx, error, created_at)
    SELECT r."logId", r.idx, r.error, ${now}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows.malformed)}::text::json) AS r("logId" text, idx bigint, error text)
    ORDER BY r."logId", r.idx
    ON CONFLICT DO NOTHING`);
  if (rows.alerts.length > 0)
    inserts.push(tx`
    INSERT INTO alerts (key, kind, payload, created_at)
    SELECT r.key, r.kind, r.payload::jsonb, ${now}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows.alerts)}::text::json) AS r(key text, kind text, payload text)
    ORDER BY r.key
    ON CONFLICT (key) DO NOTHING`);
  await Promise.all(inserts);
}
