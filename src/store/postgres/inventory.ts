/**
 * @module store/postgres/inventory
 * What the organisation obtained itself, in PostgreSQL: the inventory (one source's scan replaces
 * all of that source's rows in one transaction, so a reader sees the old scan or the new, never
 * half) and the certificates authorised by hash (idempotent upserts).
 */
import { cleanText, nowIso } from '../codec.js';
import { authorizationRow, inventoryRows } from '../records-codec.js';
import { POSTGRES_COLUMNS, authorizationFromRow, inventoryFromRow } from '../rows.js';
import type { InventoryAuthorizations } from '../roles/inventory.js';
import type { Row } from '../rows.js';
import type { Sql } from './connection.js';

export function postgresInventory(sql: Sql): InventoryAuthorizations {
  return {
    async replaceInventory(source, records) {
      const rows = inventoryRows(source, records);
      await sql.begin(async (tx) => {
        await tx`DELETE FROM inventory WHERE source = ${cleanText(source)}`;
        if (rows.length === 0) return;
        await tx`
        INSERT INTO inventory (source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer,
          not_before, not_after)
        SELECT r.source, r.path, r."certSha256", r."tbsSha256", r."spkiSha256", r."dnsNames"::jsonb,
          r.issuer, r."notBefore", r."notAfter"
        FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS r(source text, path text,
          "certSha256" text, "tbsSha256" text, "spkiSha256" text, "dnsNames" text, issuer text,
          "notBefore" text, "notAfter" text)
        ON CONFLICT DO NOTHING`;
      });
    },

    async listInventory() {
      const rows = await sql<Row[]>`
      SELECT source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer, not_before, not_after
      FROM inventory ORDER BY source, path, cert_sha256`;
      return rows.map((r) => inventoryFromRow(r, POSTGRES_COLUMNS));
    },

    async authorize(hash, note) {
      const a = authorizationRow(hash, note);
      await sql`
      INSERT INTO authorizations (hash, note, created_at) VALUES (${a.hash}, ${a.note}, ${nowIso()})
      ON CONFLICT (hash) DO UPDATE SET note = excluded.note`;
    },

    async unauthorize(hash) {
      const { hash: h } = authorizationRow(hash, null);
      const deleted = await sql`DELETE FROM authorizations WHERE hash = ${h}`;
      return deleted.count === 1;
    },

    async listAuthorizations() {
      const rows = await sql<
        Row[]
      >`SELECT hash, note, created_at FROM authorizations ORDER BY created_at, hash`;
      return rows.map((r) => authorizationFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
