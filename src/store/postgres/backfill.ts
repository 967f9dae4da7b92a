/**
 * @module store/postgres/backfill
 * Issuances imported by `certvigil backfill` in PostgreSQL: the rows of backfill-codec.ts in ONE
 * transaction, set-based as `commitBatch` (postgres/log-state.ts), keyed the same way so an
 * issuance already stored (from a log or an earlier import) keeps its columns and first_seen and
 * only gains its source mark.
 */
import { importRows } from '../backfill-codec.js';
import { nowIso } from '../codec.js';
import { ISSUANCE_COLUMNS } from '../rows.js';
import type { IssuanceImport } from '../roles/issuances.js';
import type { Row } from '../rows.js';
import type { ImportResult } from '../types.js';
import type { Sql } from './connection.js';

export function postgresBackfill(sql: Sql): IssuanceImport {
  return {
    async importIssuances(source, records) {
      const rows = importRows(source, records);
      const now = nowIso();
      if (rows.issuances.length === 0) return { added: 0, known: 0 };
      return sql.begin(async (tx): Promise<ImportResult> => {
        const inserted = await tx<Row[]>`
          INSERT INTO issuances (${tx.unsafe(ISSUANCE_COLUMNS)})
          SELECT r."tbsSha256", r."dnsNames"::jsonb, r."ipAddresses"::jsonb, r.issuer, r.serial,
            r."notBefore", r."notAfter", r."spkiSha256", r."keyType", ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(rows.issuances)}::text::json) AS r("tbsSha256" text,
            "dnsNames" text, "ipAddresses" text, issuer text, serial text, "notBefore" text,
            "notAfter" text, "spkiSha256" text, "keyType" text)
          ON CONFLICT (tbs_sha256) DO NOTHING RETURNING tbs_sha256`;
        if (rows.certs.length > 0)
          await tx`
          INSERT INTO issuance_certs (tbs_sha256, cert_sha256)
          SELECT r."tbsSha256", r."certSha256"
          FROM json_to_recordset(${JSON.stringify(rows.certs)}::text::json) AS r("tbsSha256" text, "certSha256" text)
          ON CONFLICT DO NOTHING`;
        if (rows.names.length > 0)
          await tx`
          INSERT INTO issuance_names (dns_name, tbs_sha256)
          SELECT r."dnsName", r."tbsSha256"
          FROM json_to_recordset(${JSON.stringify(rows.names)}::text::json) AS r("dnsName" text, "tbsSha256" text)
          ON CONFLICT DO NOTHING`;
        // After the issuances: suffix rows carry the STORED first_seen, as in commitBatch.
        if (rows.suffixes.length > 0)
          await tx`
          INSERT INTO issuance_suffixes (suffix, first_seen, tbs_sha256)
          SELECT r.suffix, i.first_seen, i.tbs_sha256
          FROM json_to_recordset(${JSON.stringify(rows.suffixes)}::text::json) AS r(suffix text, "tbsSha256" text)
          JOIN issuances i ON i.tbs_sha256 = r."tbsSha256" COLLATE "C"
          ON CONFLICT DO NOTHING`;
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
