/**
 * @module store/postgres/log-state
 * Per-log state in PostgreSQL: the download cursor (position and compact tree), the verified
 * head, the evidence of a misbehaving log, and `commitBatch`, which writes a batch's issuances,
 * log entries, malformed records and alerts together with the new position in ONE transaction
 * after a compare-and-set on the old position: all of it or nothing, and a stale or replayed batch
 * writes nothing. Writes refuse once the run lock is lost (`checkLock`).
 *
 * For the network, a batch is written with one set-based INSERT per table (`batch-inserts.ts`,
 * shared with `completeUnit`), and a batch that only moves the cursor is a single UPDATE without
 * BEGIN/COMMIT round trips.
 */
import { batchRows, nowIso, onlyMovesCursor, toJsonText } from '../codec.js';
import { checkRewind, cursorRow, verifiedColumn } from '../records-codec.js';
import { conflictError, verifiedHeadConflict } from '../errors.js';
import {
  CURSOR_COLUMNS,
  POSTGRES_COLUMNS,
  cursorFromRow,
  cursorVanished,
  misbehaviourFromRow,
  positionOf,
} from '../rows.js';
import type { LogStateStore } from '../roles/log-state.js';
import type { Row } from '../rows.js';
import type { CommitBatch, LogCursor } from '../types.js';
import { insertBatchRows } from './batch-inserts.js';
import type { PostgresConnection, Sql, Tx } from './connection.js';

async function conflict(q: Sql | Tx, batch: CommitBatch): Promise<Error> {
  const [r] = await q<Row[]>`SELECT position FROM logs WHERE log_id = ${batch.logId}`;
  return conflictError(batch.logId, batch.expectedPosition, positionOf(r, POSTGRES_COLUMNS));
}

export function postgresLogState(c: PostgresConnection): LogStateStore {
  const sql = c.sql;

  async function getCursor(logId: string): Promise<LogCursor | null> {
    const [r] = await sql<Row[]>`SELECT ${sql.unsafe(CURSOR_COLUMNS)} FROM logs WHERE log_id = ${logId}`;
    return r === undefined ? null : cursorFromRow(r, POSTGRES_COLUMNS);
  }

  return {
    getCursor,

    async ensureCursor(init) {
      const r = cursorRow(init);
      await sql`
      INSERT INTO logs (log_id, url, kind, description, position, tree, verified, updated_at)
      VALUES (${r.logId}, ${r.url}, ${r.kind}, ${r.description}, ${r.position}, ${r.tree}::text::jsonb, NULL, ${nowIso()})
      ON CONFLICT (log_id) DO NOTHING`;
      const cursor = await getCursor(init.logId);
      if (cursor === null) throw cursorVanished(init.logId);
      return cursor;
    },

    async listCursors() {
      const rows = await sql<Row[]>`SELECT ${sql.unsafe(CURSOR_COLUMNS)} FROM logs ORDER BY log_id`;
      return rows.map((r) => cursorFromRow(r, POSTGRES_COLUMNS));
    },

    async commitBatch(batch) {
      const rows = batchRows(batch);
      c.checkLock();
      const now = nowIso();
      // Compare-and-set first. Under READ COMMITTED a concurrent commit for the same log blocks on
      // the row lock and then re-checks `position` against the committed row, so it fails cleanly.
      const move = (q: Sql | Tx) => q`
      UPDATE logs SET position = ${batch.newPosition}, tree = ${rows.tree}::text::jsonb, updated_at = ${now}
      WHERE log_id = ${batch.logId} AND position = ${batch.expectedPosition}`;
      if (onlyMovesCursor(rows)) {
        // One statement is its own transaction: no BEGIN/COMMIT round trips for an empty batch.
        if ((await move(sql)).count !== 1) throw await conflict(sql, batch);
        return;
      }
      await sql.begin(async (tx) => {
        if ((await move(tx)).count !== 1) throw await conflict(tx, batch);
        // Keyed (batch-inserts.ts): a batch replayed from an older position adds nothing twice.
        await insertBatchRows(tx, rows, now);
      });
    },

    async setVerifiedHead(logId, head, tree) {
      c.checkLock();
      const changed = await sql`
      UPDATE logs SET verified = ${verifiedColumn(head, tree)}::text::jsonb, updated_at = ${nowIso()}
      WHERE log_id = ${logId} AND position >= ${head.treeSize}`;
      if (changed.count === 1) return;
      const [r] = await sql<Row[]>`SELECT position FROM logs WHERE log_id = ${logId}`;
      throw verifiedHeadConflict(logId, head, positionOf(r, POSTGRES_COLUMNS));
    },

    async rewindCursor(logId, expectedPosition, to) {
      c.checkLock();
      checkRewind(expectedPosition, to);
      const moved = await sql`
      UPDATE logs SET position = ${to.position}, tree = ${toJsonText(to.tree)}::text::jsonb, updated_at = ${nowIso()}
      WHERE log_id = ${logId} AND position = ${expectedPosition}`;
      if (moved.count === 1) return;
      const [r] = await sql<Row[]>`SELECT position FROM logs WHERE log_id = ${logId}`;
      throw conflictError(logId, expectedPosition, positionOf(r, POSTGRES_COLUMNS));
    },

    async recordMisbehaviour(logId, evidence) {
      await sql`
      INSERT INTO misbehaviour (log_id, evidence, created_at)
      VALUES (${logId}, ${toJsonText(evidence)}::text::jsonb, ${nowIso()})`;
    },

    async listMisbehaviour() {
      const rows = await sql<Row[]>`SELECT id, log_id, evidence, created_at FROM misbehaviour ORDER BY id`;
      return rows.map((r) => misbehaviourFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
