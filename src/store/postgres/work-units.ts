/**
 * @module store/postgres/work-units
 * Work units in PostgreSQL (issue 18): the one engine where several monitor processes share a
 * log's catch-up. Claims use `FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other's
 * rows instead of waiting or taking the same unit; leases run on the server's clock (`now()`), so
 * hosts with skewed clocks agree on when a lease has expired. A completion writes the unit's rows
 * and marks it done in one transaction, only while the row lock on the unit proves this worker
 * still holds it.
 */
import { CertvigilError } from '../../errors.js';
import { checkPosition, nowIso, toJsonText, toNumber } from '../codec.js';
import { conflictError, invalidArgument } from '../errors.js';
import { POSTGRES_COLUMNS, WORK_UNIT_COLUMNS, positionOf, unitRunFromRow, workUnitFromRow } from '../rows.js';
import type { WorkUnitQueue } from '../roles/work-queue.js';
import type { Row } from '../rows.js';
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
  PLAN_CHUNK,
} from '../work-units-codec.js';
import { insertBatchRows } from './batch-inserts.js';
import { isSessionLost } from './connection.js';
import type { PostgresConnection } from './connection.js';

export function postgresWorkUnits(c: PostgresConnection): WorkUnitQueue {
  const sql = c.sql;
  /** now() + leaseMs on the server's clock. */
  const leaseEnd = (leaseMs: number) => sql`now() + ${leaseMs}::double precision * interval '1 millisecond'`;

  return {
    async planUnits(logId, upTo, unitSize, treeSize) {
      checkPlan(upTo, unitSize, treeSize);
      c.checkLock();
      return sql.begin(async (tx) => {
        // Planners of one log queue on its cursor row, so each sees the units the previous one
        // added: two processes planning to different `upTo` at once would otherwise both start
        // at the same place and cut different last units, [768, 1000) and [768, 1024), of which
        // the key keeps one, leaving a hole or an overlap. NO KEY UPDATE: the foreign keys of
        // log_entries and malformed (KEY SHARE) of running completions do not wait for it.
        const [log] = await tx<Row[]>`SELECT position FROM logs WHERE log_id = ${logId} FOR NO KEY UPDATE`;
        if (log === undefined) throw invalidArgument(`log ${logId} has no cursor: ensureCursor first`);
        const [planned] = await tx<Row[]>`SELECT max(last) AS m FROM work_units WHERE log_id = ${logId}`;
        const end = planned?.m === null || planned?.m === undefined ? 0 : toNumber(planned.m);
        const ranges = planRanges(Math.max(toNumber(log.position), end), upTo, unitSize);
        if (ranges.length === 0) return 0;
        let added = 0;
        for (let i = 0; i < ranges.length; i += PLAN_CHUNK) {
          const chunk = ranges.slice(i, i + PLAN_CHUNK);
          const inserted = await tx`
          INSERT INTO work_units (log_id, first, last, tree_size, state, entries_read, updated_at)
          SELECT ${logId}, r.first, r.last, ${treeSize}, 'open', 0, now()
          FROM json_to_recordset(${JSON.stringify(chunk)}::text::json) AS r(first bigint, last bigint)
          ON CONFLICT (log_id, first) DO NOTHING`;
          added += inserted.count;
        }
        return added;
      });
    },

    async claimUnit(logId, workerId, leaseMs) {
      checkWorkerId(workerId);
      checkLeaseMs(leaseMs);
      c.checkLock();
      // One statement: the inner SELECT locks the lowest claimable row, skipping rows another
      // worker is claiming or completing right now (SKIP LOCKED), and the UPDATE takes it. A row
      // another claim committed meanwhile is re-checked against the WHERE clause and skipped.
      const [r] = await sql<Row[]>`
      UPDATE work_units SET state = 'claimed', worker_id = ${workerId}, lease_until = ${leaseEnd(leaseMs)},
        updated_at = now()
      WHERE (log_id, first) = (
        SELECT log_id, first FROM work_units
        WHERE log_id = ${logId} AND (state = 'open' OR (state = 'claimed' AND lease_until < now()))
        ORDER BY first LIMIT 1
        FOR UPDATE SKIP LOCKED)
      RETURNING ${sql.unsafe(WORK_UNIT_COLUMNS)}`;
      return r === undefined ? null : workUnitFromRow(r, POSTGRES_COLUMNS);
    },

    async renewUnitLease(logId, first, workerId, leaseMs) {
      checkPosition('first', first);
      checkWorkerId(workerId);
      checkLeaseMs(leaseMs);
      c.checkLock();
      const renewed = await sql`
      UPDATE work_units SET lease_until = ${leaseEnd(leaseMs)}, updated_at = now()
      WHERE log_id = ${logId} AND first = ${first} AND state = 'claimed' AND worker_id = ${workerId}`;
      return renewed.count === 1;
    },

    async releaseUnits(workerId, unit) {
      checkWorkerId(workerId);
      if (unit !== undefined) checkPosition('first', unit.first);
      c.checkLock();
      const released =
        unit === undefined
          ? await sql`
            UPDATE work_units SET state = 'open', worker_id = NULL, lease_until = NULL, updated_at = now()
            WHERE state = 'claimed' AND worker_id = ${workerId}`
          : await sql`
            UPDATE work_units SET state = 'open', worker_id = NULL, lease_until = NULL, updated_at = now()
            WHERE log_id = ${unit.logId} AND first = ${unit.first} AND state = 'claimed' AND worker_id = ${workerId}`;
      return released.count;
    },

    async completeUnit(completion) {
      checkCompletion(completion);
      c.checkLock();
      const now = nowIso();
      const done = sql.begin(async (tx) => {
        // The row lock proves the claim until COMMIT: a worker reclaiming the unit after its
        // lease ran out skips the locked row (SKIP LOCKED), and if it reclaimed first, this
        // SELECT finds another worker_id and nothing is written.
        const [u] = await tx<Row[]>`
        SELECT first, last FROM work_units
        WHERE log_id = ${completion.logId} AND first = ${completion.first}
          AND state = 'claimed' AND worker_id = ${completion.workerId}
        FOR UPDATE`;
        if (u === undefined) return false;
        const first = toNumber(u.first);
        const last = toNumber(u.last);
        // Checked inside: a bad completion throws and the transaction writes nothing.
        const rows = completionRows(completion, first, last);
        await insertBatchRows(tx, rows, now);
        await tx`
        UPDATE work_units SET state = 'done', leaf_hashes = ${leafHashParam(completion.leafHashes)},
          entries_read = ${last - first}, lease_until = NULL, updated_at = now()
        WHERE log_id = ${completion.logId} AND first = ${first}`;
        return true;
      });
      // The session ended before COMMIT (the server restarted, an administrator ended it, the
      // connection dropped): rolled back, nothing written — the same answer as a unit that is no
      // longer ours, and the caller gives the unit back.
      return done.catch((err: unknown) => {
        if (isSessionLost(err)) return false;
        throw err;
      });
    },

    async doneUnitsFrom(logId, position, limit) {
      checkDoneFrom(position, limit);
      const rows = await sql<Row[]>`
      SELECT first, last, state, leaf_hashes FROM work_units
      WHERE log_id = ${logId} AND first >= ${position}
      ORDER BY first LIMIT ${limit}`;
      return contiguousDone(
        rows.map((r) => unitRunFromRow(r, POSTGRES_COLUMNS)),
        position,
        limit,
      );
    },

    async foldUnits(logId, expectedPosition, newPosition, tree) {
      checkFold(expectedPosition, newPosition, tree);
      c.checkLock();
      await sql
        .begin(async (tx) => {
          // Compare-and-set as in commitBatch: a concurrent fold blocks on the row lock, then sees
          // the committed position and fails cleanly.
          const moved = await tx`
        UPDATE logs SET position = ${newPosition}, tree = ${toJsonText(tree)}::text::jsonb, updated_at = ${nowIso()}
        WHERE log_id = ${logId} AND position = ${expectedPosition}`;
          if (moved.count !== 1) {
            const [r] = await tx<Row[]>`SELECT position FROM logs WHERE log_id = ${logId}`;
            throw conflictError(logId, expectedPosition, positionOf(r, POSTGRES_COLUMNS));
          }
          await tx`DELETE FROM work_units WHERE log_id = ${logId} AND last <= ${newPosition}`;
        })
        .catch((err: unknown) => {
          // The session ended before COMMIT (a server restart, an administrator): nothing was
          // written, and the caller's answer is the conflict's — read the cursor, fold again.
          if (isSessionLost(err))
            throw new CertvigilError(
              'STORE_CONFLICT',
              `log ${logId}: the database session ended before the fold committed; nothing was written`,
            );
          throw err;
        });
    },

    async dropUnitsAfter(logId, position) {
      checkPosition('position', position);
      c.checkLock();
      const dropped = await sql`DELETE FROM work_units WHERE log_id = ${logId} AND last > ${position}`;
      return dropped.count;
    },

    async listUnits(logId) {
      const rows =
        logId === undefined
          ? await sql<Row[]>`SELECT ${sql.unsafe(WORK_UNIT_COLUMNS)} FROM work_units ORDER BY log_id, first`
          : await sql<
              Row[]
            >`SELECT ${sql.unsafe(WORK_UNIT_COLUMNS)} FROM work_units WHERE log_id = ${logId} ORDER BY first`;
      return rows.map((r) => workUnitFromRow(r, POSTGRES_COLUMNS));
    },
  };
}
