/**
 * @module store/sqlite/inventory
 * What the organisation obtained itself, in SQLite: the inventory (one source's scan replaces all
 * of that source's rows in one IMMEDIATE transaction, so a reader sees the old scan or the new,
 * never half) and the certificates authorised by hash (idempotent upserts).
 */
import { cleanText, nowIso } from '../codec.js';
import { authorizationRow, inventoryRows } from '../records-codec.js';
import { SQLITE_COLUMNS, authorizationFromRow, inventoryFromRow } from '../rows.js';
import type { InventoryAuthorizations } from '../roles/inventory.js';
import type { Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';

export function sqliteInventory(c: SqliteConnection): InventoryAuthorizations {
  return {
    async replaceInventory(source, records) {
      const rows = inventoryRows(source, records);
      const replace = c.db.transaction(() => {
        c.stmt('DELETE FROM inventory WHERE source = ?').run(cleanText(source));
        const insert = c.stmt(
          `INSERT INTO inventory (source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer,
           not_before, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        );
        for (const r of rows)
          insert.run(
            r.source,
            r.path,
            r.certSha256,
            r.tbsSha256,
            r.spkiSha256,
            r.dnsNames,
            r.issuer,
            r.notBefore,
            r.notAfter,
          );
      });
      replace.immediate();
    },

    async listInventory() {
      const rows = c
        .stmt(
          `SELECT source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer, not_before, not_after
       FROM inventory ORDER BY source, path, cert_sha256`,
        )
        .all() as Row[];
      return rows.map((r) => inventoryFromRow(r, SQLITE_COLUMNS));
    },

    async authorize(hash, note) {
      const a = authorizationRow(hash, note);
      c.stmt(
        `INSERT INTO authorizations (hash, note, created_at) VALUES (?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET note = excluded.note`,
      ).run(a.hash, a.note, nowIso());
    },

    async unauthorize(hash) {
      const { hash: h } = authorizationRow(hash, null);
      return c.stmt('DELETE FROM authorizations WHERE hash = ?').run(h).changes === 1;
    },

    async listAuthorizations() {
      const rows = c
        .stmt('SELECT hash, note, created_at FROM authorizations ORDER BY created_at, hash')
        .all() as Row[];
      return rows.map((r) => authorizationFromRow(r, SQLITE_COLUMNS));
    },
  };
}
