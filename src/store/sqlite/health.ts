/**
 * @module store/sqlite/health
 * The monitor's own health in SQLite (issue 13): one row per log (last write wins, except that a
 * null keeps what was known) and the one monitor-status row, patched by read-merge-write in one
 * IMMEDIATE transaction so two writers patching different fields both win.
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
import type { SqliteConnection } from './connection.js';

export function sqliteHealth(c: SqliteConnection): MonitorHealth {
  return {
    async putLogHealth(r) {
      const h = checkLogHealth(r);
      c.stmt(
        `INSERT INTO log_health (log_id, url, status, last_attempt_at, last_contact_at, last_error,
         newest_tree_size, newest_tree_timestamp, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (log_id) DO UPDATE SET url = excluded.url, status = excluded.status,
         last_attempt_at = COALESCE(excluded.last_attempt_at, log_health.last_attempt_at),
         last_contact_at = COALESCE(excluded.last_contact_at, log_health.last_contact_at),
         last_error = excluded.last_error,
         newest_tree_size = COALESCE(excluded.newest_tree_size, log_health.newest_tree_size),
         newest_tree_timestamp = COALESCE(excluded.newest_tree_timestamp, log_health.newest_tree_timestamp),
         updated_at = excluded.updated_at`,
      ).run(
        h.logId,
        h.url,
        h.status,
        h.lastAttemptAt,
        h.lastContactAt,
        h.lastError,
        h.newestTreeSize,
        h.newestTreeTimestamp,
        h.updatedAt,
      );
    },

    async listLogHealth() {
      return (c.stmt('SELECT * FROM log_health ORDER BY log_id').all() as Row[]).map(logHealthFromRow);
    },

    async putMonitorStatus(patch) {
      // Read-merge-write in one IMMEDIATE transaction: two writers patching different fields both win.
      const write = c.db.transaction(() => {
        const row = c.stmt('SELECT * FROM monitor_status WHERE id = 1').get() as Row | undefined;
        const s = mergeMonitorStatus(storedMonitorStatus(row), patch);
        c.stmt(
          `INSERT INTO monitor_status (id, log_list_source, log_list_fetched_at, log_list_error, last_cycle_at,
           inventory_errors, last_heartbeat_at, monitored_log_ids) VALUES (1, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET log_list_source = excluded.log_list_source,
           log_list_fetched_at = excluded.log_list_fetched_at, log_list_error = excluded.log_list_error,
           last_cycle_at = excluded.last_cycle_at, inventory_errors = excluded.inventory_errors,
           last_heartbeat_at = excluded.last_heartbeat_at, monitored_log_ids = excluded.monitored_log_ids`,
        ).run(
          s.logListSource,
          s.logListFetchedAt,
          s.logListError,
          s.lastCycleAt,
          s.inventoryErrors,
          s.lastHeartbeatAt,
          monitoredLogIdsColumn(s),
        );
      });
      write.immediate();
    },

    async getMonitorStatus() {
      const row = c.stmt('SELECT * FROM monitor_status WHERE id = 1').get() as Row | undefined;
      return storedMonitorStatus(row);
    },
  };
}
