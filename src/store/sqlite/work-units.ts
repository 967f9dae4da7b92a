/**
 * @module store/sqlite/work-units
 * Work units in SQLite (issue 18): the same semantics as PostgreSQL's with one worker, which is
 * what SQLite is for (one process holds the run lock). Writes that read before they write run in
 * IMMEDIATE transactions (the write lock from BEGIN on), so they are atomic against any other
 * connection too; no SKIP LOCKED is needed. Lease times are ISO text from this process's clock,
 * compared as text (`toISOString` has one fixed width, so text order is time order).
 */
import type Database from 'better-sqlite3';
import { checkPosition, nowIso, toJsonText } from '../codec.js';
import { conflictError, invalidArgument } from '../errors.js';
import { SQLITE_COLUMNS, WORK_UNIT_COLUMNS, positionOf, unitRunFromRow, workUnitFromRow } from '../rows.js';
import type { WorkUnitQueue } from '../roles/work-queue.js';
import type { Row } from '../rows.js';
import type { TreeState, UnitCompletion } from '../types.js';
import {
  checkCompletion,
  checkDoneFrom,
  checkFold,
  checkLeaseMs,
  checkPlan,
  checkWorkerId,
  completionRows,
  contiguousDone,
  leafHashParam,
  planRanges,
} from '../work-units-codec.js';
import { insertBatchRows } from './batch-inserts.js';
import type { SqliteConnection } from './connection.js';

const leaseEnd = (leaseMs: number): string => new Date(Date.now() + leaseMs).toISOString();

export function sqliteWorkUnits(c: SqliteConnection): WorkUnitQueue {
  const planTx: Database.Transaction<
    (logId: string, upTo: number, unitSize: number, treeSize: number) => number
  > = c.db.transaction((logId: string, upTo: number, unitSize: number, treeSize: number) => {
    const log = c.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
    if (log === undefined) throw invalidArgument(`log ${logId} has no cursor: ensureCursor first`);
    const planned = c.stmt('SELECT max(last) AS m FROM work_units WHERE log_id = ?').get(logId) as Row;
    const end = planned.m === null ? 0 : Number(planned.m);
    const insert = c.stmt(
      `INSERT INTO work_units (log_id, first, last, tree_size, state, entries_read, updated_at)
         VALUES (?, ?, ?, ?, 'open', 0, ?) ON CONFLICT (log_id, first) DO NOTHING`,
    );
    const now = nowIso();
    let added = 0;
    for (const r of planRanges(Math.max(Number(log.position), end), upTo, unitSize))
      added += insert.run(logId, r.first, r.last, treeSize, now).changes;
    return added;
  });

  const completeTx: Database.Transaction<(completion: UnitCompletion) => boolean> = c.db.transaction(
    (completion: UnitCompletion) => {
      const u = c
        .stmt(
          `SELECT first, last FROM work_units
           WHERE log_id = ? AND first = ? AND state = 'claimed' AND worker_id = ?`,
        )
        .get(completion.logId, completion.first, completion.workerId) as Row | undefined;
      if (u === undefined) return false;
      const first = Number(u.first);
      const last = Number(u.last);
      // Checked inside: a bad completion throws and the transaction writes nothing.
      const rows = completionRows(completion, first, last);
      const now = nowIso();
      insertBatchRows(c, rows, now);
      c.stmt(
        `UPDATE work_units SET state = 'done', leaf_hashes = ?, entries_read = ?, lease_until = NULL,
           updated_at = ? WHERE log_id = ? AND first = ?`,
      ).run(leafHashParam(completion.leafHashes), last - first, now, completion.logId, first);
      return true;
    },
  );

  const foldTx: Database.Transaction<
    (logId: string, expectedPosition: number, newPosition: number, tree: TreeState) => void
  > = c.db.transaction((logId: string, expectedPosition: number, newPosition: number, tree: TreeState) => {
    // Compare-and-set as in commitBatch: a stale fold stops here, before deleting anything.
    const moved = c
      .stmt('UPDATE logs SET position = ?, tree = ?, updated_at = ? WHERE log_id = ? AND position = ?')
      .run(newPosition, toJsonText(tree), nowIso(), logId, expectedPosition);
    if (moved.changes !== 1) {
      const r = c.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
      throw conflictError(logId, expectedPosition, positionOf(r, SQLITE_COLUMNS));
    }
    c.stmt('DELETE FROM work_units WHERE log_id = ? AND last <= ?').run(logId, newPosition);
  });

  return {
    async planUnits(logId, upTo, unitSize, treeSize) {
      checkPlan(upTo, unitSize, treeSize);
      return planTx.immediate(logId, upTo, unitSize, treeSize);
    },

    async claimUnit(logId, workerId, leaseMs) {
      checkWorkerId(workerId);
      checkLeaseMs(leaseMs);
      const now = nowIso();
      // One statement, hence atomic: the lowest open unit, or claimed one whose lease ran out.
      const r = c
        .stmt(
          `UPDATE work_units SET state = 'claimed', worker_id = ?, lease_until = ?, updated_at = ?
           WHERE log_id = ? AND first = (
             SELECT first FROM work_units
             WHERE log_id = ? AND (state = 'open' OR (state = 'claimed' AND lease_until < ?))
             ORDER BY first LIMIT 1)
           RETURNING ${WORK_UNIT_COLUMNS}`,
        )
        .get(workerId, leaseEnd(leaseMs), now, logId, logId, now) as Row | undefined;
      return r === undefined ? null : workUnitFromRow(r, SQLITE_COLUMNS);
    },

    async renewUnitLease(logId, first, workerId, leaseMs) {
      checkPosition('first', first);
      checkWorkerId(workerId);
      checkLeaseMs(leaseMs);
      const renewed = c
        .stmt(
          `UPDATE work_units SET lease_until = ?, updated_at = ?
           WHERE log_id = ? AND first = ? AND state = 'claimed' AND worker_id = ?`,
        )
        .run(leaseEnd(leaseMs), nowIso(), logId, first, workerId);
      return renewed.changes === 1;
    },

    async releaseUnits(workerId, unit) {
      checkWorkerId(workerId);
      if (unit !== undefined) checkPosition('first', unit.first);
      const released =
        unit === undefined
          ? c
              .stmt(
                `UPDATE work_units SET state = 'open', worker_id = NULL, lease_until = NULL, updated_at = ?
                 WHERE state = 'claimed' AND worker_id = ?`,
              )
              .run(nowIso(), workerId)
          : c
              .stmt(
                `UPDATE work_units SET state = 'open', worker_id = NULL, lease_until = NULL, updated_at = ?
                 WHERE log_id = ? AND first = ? AND state = 'claimed' AND worker_id = ?`,
              )
              .run(nowIso(), unit.logId, unit.first, workerId);
      return released.changes;
    },

    async completeUnit(completion) {
      checkCompletion(completion);
      return completeTx.immediate(completion);
    },

    async doneUnitsFrom(logId, position, limit) {
      checkDoneFrom(position, limit);
      const rows = c
        .stmt(
          `SELECT first, last, state, leaf_hashes FROM work_units
           WHERE log_id = ? AND first >= ? ORDER BY first LIMIT ?`,
        )
        .all(logId, position, limit) as Row[];
      return contiguousDone(
        rows.map((r) => unitRunFromRow(r, SQLITE_COLUMNS)),
        position,
        limit,
      );
    },

    async foldUnits(logId, expectedPosition, newPosition, tree) {
      checkFold(expectedPosition, newPosition, tree);
      foldTx.immediate(logId, expectedPosition, newPosition, tree);
    },

    async dropUnitsAfter(logId, position) {
      checkPosition('position', position);
      return c.stmt('DELETE FROM work_units WHERE log_id = ? AND last > ?').run(logId, position).changes;
    },

    async listUnits(logId) {
      const rows = (
        logId === undefined
          ? c.stmt(`SELECT ${WORK_UNIT_COLUMNS} FROM work_units ORDER BY log_id, first`).all()
          : c.stmt(`SELECT ${WORK_UNIT_COLUMNS} FROM work_units WHERE log_id = ? ORDER BY first`).all(logId)
      ) as Row[];
      return rows.map((r) => workUnitFromRow(r, SQLITE_COLUMNS));
    },
  };
}
