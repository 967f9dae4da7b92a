/**
 * @module store/postgres/mitm
 * MITM-probe baselines in PostgreSQL (`certvigil mitm learn`): one row per target and port,
 * replaced whole by a new learn (idempotent upsert), read by target, forgotten by target or port;
 * and the last `check mitm --record` result per target (migration 7), replaced by each record.
 */
import { baselineRow } from '../records-codec.js';
import { POSTGRES_COLUMNS, baselineRecordFromRow, mitmResultFromRow } from '../rows.js';
import type { MitmRecords } from '../roles/mitm.js';
import type { Row } from '../rows.js';
import { checkMitmResult } from '../web-codec.js';
import type { Sql } from './connection.js';

export function postgresMitm(sql: Sql): MitmRecords {
  return {
    async putMitmBaseline(baseline) {
      const b = baselineRow(baseline);
      await sql`
      INSERT INTO mitm_baselines (target, port, baseline, learned_at)
      VALUES (${b.target}, ${b.port}, ${b.baseline}::text::jsonb, ${b.learnedAt})
      ON CONFLICT (target, port) DO UPDATE SET baseline = excluded.baseline, learned_at = excluded.learned_at`;
    },

    async listMitmBaselines(target) {
      const rows =
        target === undefined
          ? await sql<
              Row[]
            >`SELECT target, port, baseline, learned_at FROM mitm_baselines ORDER BY target, port`
          : await sql<
              Row[]
            >`SELECT target, port, baseline, learned_at FROM mitm_baselines WHERE target = ${target} ORDER BY port`;
      return rows.map((r) => baselineRecordFromRow(r, POSTGRES_COLUMNS));
    },

    async deleteMitmBaselines(target, ports) {
      const rows =
        ports === undefined
          ? await sql`DELETE FROM mitm_baselines WHERE target = ${target} RETURNING port`
          : await sql`DELETE FROM mitm_baselines WHERE target = ${target} AND port = ANY(${ports}::bigint[]) RETURNING port`;
      return rows.length;
    },

    async putMitmResult(record) {
      const r = checkMitmResult(record);
      await sql`
      INSERT INTO mitm_results (target, status, result_json, checked_at)
      VALUES (${r.target}, ${r.status}, ${r.resultJson}, ${r.checkedAt})
      ON CONFLICT (target) DO UPDATE SET status = excluded.status, result_json = excluded.result_json,
        checked_at = excluded.checked_at`;
    },

    async listMitmResults() {
      const rows = await sql<
        Row[]
      >`SELECT target, status, result_json, checked_at FROM mitm_results ORDER BY target`;
      return rows.map((r) => mitmResultFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
