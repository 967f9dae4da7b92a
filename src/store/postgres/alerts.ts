/**
 * @module store/postgres/alerts
 * The alert outbox in PostgreSQL: exactly-once enqueue (an alert whose key was ever enqueued, here
 * or by `commitBatch`, is dropped by the unique key, also across processes), delivery in id order,
 * and marks that touch only an undelivered alert, so a delivered one is never delivered or counted
 * again.
 */
import { alertRow, checkLimit, cleanText, nowIso } from '../codec.js';
import { ALERT_COLUMNS, POSTGRES_COLUMNS, alertFromRow } from '../rows.js';
import type { AlertOutbox } from '../roles/outboxes.js';
import type { Row } from '../rows.js';
import { DELIVERY_LOCK } from './connection.js';
import type { Sql } from './connection.js';

export function postgresAlerts(sql: Sql): AlertOutbox {
  return {
    async enqueueAlert(alert) {
      const a = alertRow(alert);
      const inserted = await sql`
      INSERT INTO alerts (key, kind, payload, created_at)
      VALUES (${a.key}, ${a.kind}, ${a.payload}::text::jsonb, ${nowIso()})
      ON CONFLICT (key) DO NOTHING`;
      return inserted.count === 1;
    },

    async withDeliveryLock(fn, waitMs) {
      // A session-level advisory lock belongs to one server session: reserve a connection for it,
      // so the unlock runs where the lock was taken (a pooled query could land elsewhere).
      const reserved = await sql.reserve();
      try {
        // Tried, not waited on: a holder that is stopped (not dead) keeps the lock indefinitely.
        const deadline = Date.now() + waitMs;
        for (let pause = 20; ; pause = Math.min(500, pause * 2)) {
          const [r] = await reserved<Row[]>`
            SELECT pg_try_advisory_lock(${DELIVERY_LOCK.classId}, ${DELIVERY_LOCK.id}) AS taken`;
          if (r?.taken === true) break;
          if (Date.now() >= deadline) return null;
          await new Promise((resolve) =>
            setTimeout(resolve, Math.min(pause, Math.max(1, deadline - Date.now()))),
          );
        }
        try {
          return await fn();
        } finally {
          await reserved`SELECT pg_advisory_unlock(${DELIVERY_LOCK.classId}, ${DELIVERY_LOCK.id})`.catch(
            () => undefined,
          );
        }
      } finally {
        reserved.release();
      }
    },

    async pendingAlerts(limit) {
      checkLimit(limit);
      const rows = await sql<Row[]>`
      SELECT ${sql.unsafe(ALERT_COLUMNS)} FROM alerts WHERE delivered_at IS NULL ORDER BY id LIMIT ${limit}`;
      return rows.map((r) => alertFromRow(r, POSTGRES_COLUMNS));
    },

    async markAlertDelivered(id) {
      await sql`
      UPDATE alerts SET delivered_at = ${nowIso()}, attempts = attempts + 1
      WHERE id = ${id} AND delivered_at IS NULL`;
    },

    async markAlertFailed(id, error) {
      await sql`
      UPDATE alerts SET attempts = attempts + 1, last_error = ${cleanText(error)}
      WHERE id = ${id} AND delivered_at IS NULL`;
    },

    async listAlerts() {
      const rows = await sql<Row[]>`SELECT ${sql.unsafe(ALERT_COLUMNS)} FROM alerts ORDER BY id`;
      return rows.map((r) => alertFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
