/**
 * @module store/sqlite/log-state
 * Per-log state in SQLite: the download cursor (position and compact tree), the verified head,
 * the evidence of a misbehaving log, and `commitBatch`, which writes a batch's issuances, log
 * entries, malformed records and alerts together with the new position in ONE IMMEDIATE
 * transaction after a compare-and-set on the old position: all of it or nothing, and a stale or
 * replayed batch writes nothing.
 */
import type Database from 'better-sqlite3';
import { batchRows, nowIso, toJsonText } from '../codec.js';
import type { BatchRows } from '../codec.js';
import { checkRewind, cursorRow, verifiedColumn } from '../records-codec.js';
import { conflictError, verifiedHeadConflict } from '../errors.js';
import {
  CURSOR_COLUMNS,
  SQLITE_COLUMNS,
  cursorFromRow,
  cursorVanished,
  misbehaviourFromRow,
  positionOf,
} from '../rows.js';
import type { LogStateStore } from '../roles/log-state.js';
import type { Row } from '../rows.js';
import type { CommitBatch, LogCursor } from '../types.js';
import { insertBatchRows } from './batch-inserts.js';
import type { SqliteConnection } from './connection.js';

function commitRows(c: SqliteConnection, batch: CommitBatch, rows: BatchRows, now: string): void {
  // Compare-and-set first: a stale or replayed batch stops here, before writing anything.
  const moved = c
    .stmt('UPDATE logs SET position = ?, tree = ?, updated_at = ? WHERE log_id = ? AND position = ?')
    .run(batch.newPosition, rows.tree, now, batch.logId, batch.expectedPosition);
  if (moved.changes !== 1) {
    const r = c.stmt('SELECT position FROM logs WHERE log_id = ?').get(batch.logId) as Row | undefined;
    throw conflictError(batch.logId, batch.expectedPosition, positionOf(r, SQLITE_COLUMNS));
  }
  // Keyed (batch-inserts.ts): a batch replayed from an older position adds nothing twice.
  insertBatchRows(c, rows, now);
}

export function sqliteLogState(c: SqliteConnection): LogStateStore {
  const commitTx: Database.Transaction<(batch: CommitBatch, rows: BatchRows, now: string) => void> =
    c.db.transaction((batch: CommitBatch, rows: BatchRows, now: string) => commitRows(c, batch, rows, now));

  async function getCursor(logId: string): Promise<LogCursor | null> {
    const r = c.stmt(`SELECT ${CURSOR_COLUMNS} FROM logs WHERE log_id = ?`).get(logId) as Row | undefined;
    return r === undefined ? null : cursorFromRow(r, SQLITE_COLUMNS);
  }

  return {
    getCursor,

    async ensureCursor(init) {
      const r = cursorRow(init);
      c.stmt(
        `INSERT INTO logs (log_id, url, kind, description, position, tree, verified, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (log_id) DO NOTHING`,
      ).run(r.logId, r.url, r.kind, r.description, r.position, r.tree, nowIso());
      const cursor = await getCursor(init.logId);
      if (cursor === null) throw cursorVanished(init.logId);
      return cursor;
    },

    async listCursors() {
      return (c.stmt(`SELECT ${CURSOR_COLUMNS} FROM logs ORDER BY log_id`).all() as Row[]).map((r) =>
        cursorFromRow(r, SQLITE_COLUMNS),
      );
    },

    async commitBatch(batch) {
      const rows = batchRows(batch);
      // IMMEDIATE: take the write lock at BEGIN, so a busy database waits (busy_timeout) instead of
      // failing when a read transaction would have to be upgraded.
      commitTx.immediate(batch, rows, nowIso());
    },

    async setVerifiedHead(logId, head, tree) {
      const changed = c
        .stmt('UPDATE logs SET verified = ?, updated_at = ? WHERE log_id = ? AND position >= ?')
        .run(verifiedColumn(head, tree), nowIso(), logId, head.treeSize);
      if (changed.changes === 1) return;
      const r = c.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
      throw verifiedHeadConflict(logId, head, positionOf(r, SQLITE_COLUMNS));
    },

    async rewindCursor(logId, expectedPosition, to) {
      checkRewind(expectedPosition, to);
      const moved = c
        .stmt('UPDATE logs SET position = ?, tree = ?, updated_at = ? WHERE log_id = ? AND position = ?')
        .run(to.position, toJsonText(to.tree), nowIso(), logId, expectedPosition);
      if (moved.changes === 1) return;
      const r = c.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
      throw conflictError(logId, expectedPosition, positionOf(r, SQLITE_COLUMNS));
    },

    async recordMisbehaviour(logId, evidence) {
      c.stmt('INSERT INTO misbehaviour (log_id, evidence, created_at) VALUES (?, ?, ?)').run(
        logId,
        toJsonText(evidence),
        nowIso(),
      );
    },

    async listMisbehaviour() {
      const rows = c
        .stmt('SELECT id, log_id, evidence, created_at FROM misbehaviour ORDER BY id')
        .all() as Row[];
      return rows.map((r) => misbehaviourFromRow(r, SQLITE_COLUMNS));
    },
  };
}
