/**
 * @module store/postgres/host-inventory
 * What each host's ACME clients hold, as pushed by `certvigil inventory push` (migration 6): one
 * host's push replaces all of that host's rows in one transaction, so a reader sees the old push
 * or the new one, never a mix, and a certificate the host no longer holds is gone. The rows go
 * over in one `json_to_recordset` parameter, whatever their number.
 */
import { checkIsoTime, checkHost, hostInventoryRows } from '../web-codec.js';
import { HOST_INVENTORY_COLUMNS, POSTGRES_COLUMNS, hostInventoryFromRow } from '../rows.js';
import type { HostInventories } from '../roles/inventory.js';
import type { Row } from '../rows.js';
import type { Sql } from './connection.js';

export function postgresHostInventory(sql: Sql): HostInventories {
  return {
    async replaceHostInventory(host, items, pushedAt) {
      const rows = hostInventoryRows(host, items);
      checkIsoTime('pushedAt', pushedAt);
      await sql.begin(async (tx) => {
        await tx`DELETE FROM host_inventory WHERE host = ${host}`;
        if (rows.length === 0) return;
        await tx`
        INSERT INTO host_inventory (${tx.unsafe(HOST_INVENTORY_COLUMNS)})
        SELECT ${host}, r."certSha256", r."tbsSha256", r."spkiSha256", r."dnsNames"::jsonb, r."notAfter",
          ${pushedAt}::timestamptz
        FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS r("certSha256" text,
          "tbsSha256" text, "spkiSha256" text, "dnsNames" text, "notAfter" text)`;
      });
    },

    async listHostInventory(host) {
      const rows =
        host === undefined
          ? await sql<Row[]>`
            SELECT ${sql.unsafe(HOST_INVENTORY_COLUMNS)} FROM host_inventory ORDER BY host, cert_sha256`
          : await sql<Row[]>`
            SELECT ${sql.unsafe(HOST_INVENTORY_COLUMNS)} FROM host_inventory WHERE host = ${checkHost(host)}
            ORDER BY cert_sha256`;
      return rows.map((r) => hostInventoryFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
