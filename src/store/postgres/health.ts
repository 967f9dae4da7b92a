/**
 * @module store/postgres/health
 * The monitor's own health in PostgreSQL (issue 13): one row per log (last write wins, except
 * that a null keeps what was known) and the one monitor-status row, patched under a row lock
 * (`SELECT … FOR UPDATE`) so two writers patching different fields both win.
 */
import {
  checkLogHealth,
  logHealthFromRow,
  mergeMonitorStatus,
  monitoredLogIdsColumn,
  storedMonitorStatus,
} from '../health-codec.js';
import type { MonitorHealth } from '../roles/health.js';
import type { Row } from '../rows.js';
import type { Sql } from './connection.js';

export function postgresHealth(sql: Sql): MonitorHealth {
  return {
    async putLogHealth(r) {
      const h = checkLogHealth(r);
      await sql`
      INSERT INTO log_health (log_id, url, status, last_attempt_at, last_contact_at, last_error,
        newest_tree_size, newest_tree_timestamp, updated_at)
      VALUES (${h.logId}, ${h.url}, ${h.status}, ${h.lastAttemptAt}, ${h.lastContactAt}, ${h.lastError},
        ${h.newestTreeSize}, ${h.newestTreeTimestamp}, ${h.updatedAt})
      ON CONFLICT (log_id) DO UPDATE SET url = excluded.url, status = excluded.status,
        last_attempt_at = COALESCE(excluded.last_attempt_at, log_health.last_attempt_at),
        last_contact_at = COALESCE(excluded.last_contact_at, log_health.last_contact_at),
        last_error = excluded.last_error,
        newest_tree_size = COALESCE(excluded.newest_tree_size, log_health.newest_tree_size),
        newest_tree_timestamp = COALESCE(excluded.newest_tree_timestamp, log_health.newest_tree_timestamp),
        updated_at = excluded.updated_at`;
    },

    async listLogHealth() {
      const rows = await sql<Row[]>`SELECT * FROM log_health ORDER BY log_id`;
      return rows.map(logHealthFromRow);
    },

    async putMonitorStatus(patch) {
      await sql.begin(async (tx) => {
        // Make sure the one row exists, then lock it: concurrent patches of other fields both win.
        await tx`INSERT INTO monitor_status (id) VALUES (1) ON CONFLICT (id) DO NOTHING`;
        const [row] = await tx<Row[]>`SELECT * FROM monitor_status WHERE id = 1 FOR UPDATE`;
        const s = mergeMonitorStatus(storedMonitorStatus(row), patch);
        await tx`
        UPDATE monitor_status SET log_list_source = ${s.logListSource},
          log_list_fetched_at = ${s.logListFetchedAt}, log_list_error = ${s.logListError},
          last_cycle_at = ${s.lastCycleAt}, inventory_errors = ${s.inventoryErrors},
          last_heartbeat_at = ${s.lastHeartbeatAt},
          monitored_log_ids = ${monitoredLogIdsColumn(s)}
        WHERE id = 1`;
      });
    },

    async getMonitorStatus() {
      const [row] = await sql<Row[]>`SELECT * FROM monitor_status WHERE id = 1`;
      return storedMonitorStatus(row);
    },
  };
}
