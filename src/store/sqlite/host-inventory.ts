/**
 * @module store/sqlite/host-inventory
 * What each host's ACME clients hold, as pushed by `certvigil inventory push` (migration 6): one
 * host's push replaces all of that host's rows in one IMMEDIATE transaction, so a reader sees the
 * old push or the new one, never a mix, and a certificate the host no longer holds is gone.
 */
import { checkIsoTime, checkHost, hostInventoryRows } from '../web-codec.js';
import { HOST_INVENTORY_COLUMNS, SQLITE_COLUMNS, hostInventoryFromRow } from '../rows.js';
import type { HostInventories } from '../roles/inventory.js';
import type { Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';

export function sqliteHostInventory(c: SqliteConnection): HostInventories {
  return {
    async replaceHostInventory(host, items, pushedAt) {
      const rows = hostInventoryRows(host, items);
      checkIsoTime('pushedAt', pushedAt);
      const replace = c.db.transaction(() => {
        c.stmt('DELETE FROM host_inventory WHERE host = ?').run(host);
        const insert = c.stmt(
          `INSERT INTO host_inventory (${HOST_INVENTORY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const r of rows)
          insert.run(host, r.certSha256, r.tbsSha256, r.spkiSha256, r.dnsNames, r.notAfter, pushedAt);
      });
      replace.immediate();
    },

    async listHostInventory(host) {
      const rows =
        host === undefined
          ? (c
              .stmt(`SELECT ${HOST_INVENTORY_COLUMNS} FROM host_inventory ORDER BY host, cert_sha256`)
              .all() as Row[])
          : (c
              .stmt(
                `SELECT ${HOST_INVENTORY_COLUMNS} FROM host_inventory WHERE host = ? ORDER BY cert_sha256`,
              )
              .all(checkHost(host)) as Row[]);
      return rows.map((r) => hostInventoryFromRow(r, SQLITE_COLUMNS));
    },
  };
}
