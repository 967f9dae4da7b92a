/**
 * @module store/sqlite/mitm
 * MITM-probe baselines in SQLite (`certvigil mitm learn`): one row per target and port, replaced
 * whole by a new learn (idempotent upsert), read by target, forgotten by target or port; and the
 * last `check mitm --record` result per target (migration 7), replaced by each record.
 */
import { baselineRow } from '../records-codec.js';
import { SQLITE_COLUMNS, baselineRecordFromRow, mitmResultFromRow } from '../rows.js';
import type { MitmRecords } from '../roles/mitm.js';
import type { Row } from '../rows.js';
import { checkMitmResult } from '../web-codec.js';
import type { SqliteConnection } from './connection.js';

export function sqliteMitm(c: SqliteConnection): MitmRecords {
  return {
    async putMitmBaseline(baseline) {
      const b = baselineRow(baseline);
      c.stmt(
        `INSERT INTO mitm_baselines (target, port, baseline, learned_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (target, port) DO UPDATE SET baseline = excluded.baseline, learned_at = excluded.learned_at`,
      ).run(b.target, b.port, b.baseline, b.learnedAt);
    },

    async listMitmBaselines(target) {
      const rows = (
        target === undefined
          ? c
              .stmt('SELECT target, port, baseline, learned_at FROM mitm_baselines ORDER BY target, port')
              .all()
          : c
              .stmt(
                'SELECT target, port, baseline, learned_at FROM mitm_baselines WHERE target = ? ORDER BY port',
              )
              .all(target)
      ) as Row[];
      return rows.map((r) => baselineRecordFromRow(r, SQLITE_COLUMNS));
    },

    async deleteMitmBaselines(target, ports) {
      if (ports === undefined)
        return c.stmt('DELETE FROM mitm_baselines WHERE target = ?').run(target).changes;
      // One statement, so atomic, as PostgreSQL's `= ANY(array)`.
      return c
        .stmt('DELETE FROM mitm_baselines WHERE target = ? AND port IN (SELECT value FROM json_each(?))')
        .run(target, JSON.stringify(ports)).changes;
    },

    async putMitmResult(record) {
      const r = checkMitmResult(record);
      c.stmt(
        `INSERT INTO mitm_results (target, status, result_json, checked_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (target) DO UPDATE SET status = excluded.status, result_json = excluded.result_json,
           checked_at = excluded.checked_at`,
      ).run(r.target, r.status, r.resultJson, r.checkedAt);
    },

    async listMitmResults() {
      const rows = c
        .stmt('SELECT target, status, result_json, checked_at FROM mitm_results ORDER BY target')
        .all() as Row[];
      return rows.map((r) => mitmResultFromRow(r, SQLITE_COLUMNS));
    },
  };
}
