/**
 * @module store/sqlite/alerts
 * The alert outbox in SQLite: exactly-once enqueue (an alert whose key was ever enqueued, here or
 * by `commitBatch`, is dropped), delivery in id order, and marks that touch only an undelivered
 * alert, so a delivered one is never delivered or counted again.
 */
import { alertRow, checkLimit, cleanText, nowIso } from '../codec.js';
import { ALERT_COLUMNS, SQLITE_COLUMNS, alertFromRow } from '../rows.js';
import type { AlertOutbox } from '../roles/outboxes.js';
import type { Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';

export function sqliteAlerts(c: SqliteConnection): AlertOutbox {
  return {
    async enqueueAlert(alert) {
      const a = alertRow(alert);
      const inserted = c
        .stmt(
          'INSERT INTO alerts (key, kind, payload, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
        )
        .run(a.key, a.kind, a.payload, nowIso());
      return inserted.changes === 1;
    },

    // One process owns a SQLite state (the run lock): nobody to take turns with.
    withDeliveryLock: (fn) => fn(),

    async pendingAlerts(limit) {
      checkLimit(limit);
      const rows = c
        .stmt(`SELECT ${ALERT_COLUMNS} FROM alerts WHERE delivered_at IS NULL ORDER BY id LIMIT ?`)
        .all(limit) as Row[];
      return rows.map((r) => alertFromRow(r, SQLITE_COLUMNS));
    },

    async markAlertDelivered(id) {
      c.stmt(
        'UPDATE alerts SET delivered_at = ?, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL',
      ).run(nowIso(), id);
    },

    async markAlertFailed(id, error) {
      c.stmt(
        'UPDATE alerts SET attempts = attempts + 1, last_error = ? WHERE id = ? AND delivered_at IS NULL',
      ).run(cleanText(error), id);
    },

    async listAlerts() {
      return (c.stmt(`SELECT ${ALERT_COLUMNS} FROM alerts ORDER BY id`).all() as Row[]).map((r) =>
        alertFromRow(r, SQLITE_COLUMNS),
      );
    },
  };
}
