/**
 * @module store/postgres/log-state
 * Per-log state in PostgreSQL: the download cursor (position and compact tree), the verified
 * head, the evidence of a misbehaving log, and `commitBatch`, which writes a batch's issuances,
 * log entries, malformed records and alerts together with the new position in ONE transaction
 * after a compare-and-set on the old position: all of it or nothing, and a stale or replayed batch
 * writes nothing. Writes refuse once the run lock is lost (`checkLock`).
 *
 * For the network, a batch is written with one set-based INSERT per table (`json_to_recordset`
 * over the batch's rows, one parameter whatever the batch size) instead of one statement per row,
 * and a batch that only moves the cursor is a single UPDATE without BEGIN/COMMIT round trips.
 */
import type postgres from 'postgres';
import {
  batchRows,
  checkCursorInit,
  checkRewind,
  cleanText,
  nowIso,
  onlyMovesCursor,
  toJsonText,
  verifiedColumn,
} from '../codec.js';
import { conflictError, verifiedHeadConflict } from '../errors.js';
import {
  CURSOR_COLUMNS,
  ISSUANCE_COLUMNS,
  POSTGRES_COLUMNS,
  cursorFromRow,
  cursorVanished,
  misbehaviourFromRow,
  positionOf,
} from '../rows.js';
import type { LogStatePart } from '../parts.js';
import type { Row } from '../rows.js';
import type { CommitBatch, LogCursor } from '../types.js';
import type { PostgresConnection, Sql, Tx } from './connection.js';

async function conflict(q: Sql | Tx, batch: CommitBatch): Promise<Error> {
  const [r] = await q<Row[]>`SELECT position FROM logs WHERE log_id = ${batch.logId}`;
  return conflictError(batch.logId, batch.expectedPosition, positionOf(r, POSTGRES_COLUMNS));
}

export function postgresLogState(c: PostgresConnection): LogStatePart {
  const sql = c.sql;

  async function getCursor(logId: string): Promise<LogCursor | null> {
    const [r] = await sql<Row[]>`SELECT ${sql.unsafe(CURSOR_COLUMNS)} FROM logs WHERE log_id = ${logId}`;
    return r === undefined ? null : cursorFromRow(r, POSTGRES_COLUMNS);
  }

  return {
    getCursor,

    async ensureCursor(init) {
      checkCursorInit(init);
      await sql`
      INSERT INTO logs (log_id, url, kind, description, position, tree, verified, updated_at)
      VALUES (${init.logId}, ${cleanText(init.url)}, ${init.kind}, ${cleanText(init.description)},
        ${init.position}, ${init.tree === null ? null : toJsonText(init.tree)}::text::jsonb, NULL, ${nowIso()})
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
        // Everything below is keyed: a batch replayed from an older position adds nothing twice,
        // and the first writer keeps an issuance's descriptive columns and first_seen. The
        // statements are pipelined (sent without waiting for each other) and run in this order,
        // issuances first for the foreign keys; the first failure aborts the transaction.
        const inserts: postgres.PendingQuery<Row[]>[] = [];
        if (rows.issuances.length > 0)
          inserts.push(tx`
          INSERT INTO issuances (${tx.unsafe(ISSUANCE_COLUMNS)})
          SELECT r."tbsSha256", r."dnsNames"::jsonb, r."ipAddresses"::jsonb, r.issuer, r.serial,
            r."notBefore", r."notAfter", r."spkiSha256", r."keyType", ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(rows.issuances)}::text::json) AS r("tbsSha256" text,
            "dnsNames" text, "ipAddresses" text, issuer text, serial text, "notBefore" text,
            "notAfter" text, "spkiSha256" text, "keyType" text)
          ON CONFLICT (tbs_sha256) DO NOTHING`);
        if (rows.certs.length > 0)
          inserts.push(tx`
          INSERT INTO issuance_certs (tbs_sha256, cert_sha256)
          SELECT r."tbsSha256", r."certSha256"
          FROM json_to_recordset(${JSON.stringify(rows.certs)}::text::json) AS r("tbsSha256" text, "certSha256" text)
          ON CONFLICT DO NOTHING`);
        if (rows.entries.length > 0)
          inserts.push(tx`
          INSERT INTO log_entries (log_id, idx, tbs_sha256, type, timestamp)
          SELECT r."logId", r.idx, r."tbsSha256", r.type, r.timestamp
          FROM json_to_recordset(${JSON.stringify(rows.entries)}::text::json) AS r("logId" text, idx bigint,
            "tbsSha256" text, type text, timestamp bigint)
          ON CONFLICT DO NOTHING`);
        if (rows.names.length > 0)
          inserts.push(tx`
          INSERT INTO issuance_names (dns_name, tbs_sha256)
          SELECT r."dnsName", r."tbsSha256"
          FROM json_to_recordset(${JSON.stringify(rows.names)}::text::json) AS r("dnsName" text, "tbsSha256" text)
          ON CONFLICT DO NOTHING`);
        // After the issuances (pipelined statements run in order): the suffix rows carry the
        // STORED first_seen (an issuance seen before keeps its own), which pageIssuances orders by.
        if (rows.suffixes.length > 0)
          inserts.push(tx`
          INSERT INTO issuance_suffixes (suffix, first_seen, tbs_sha256)
          SELECT r.suffix, i.first_seen, i.tbs_sha256
          FROM json_to_recordset(${JSON.stringify(rows.suffixes)}::text::json) AS r(suffix text, "tbsSha256" text)
          JOIN issuances i ON i.tbs_sha256 = r."tbsSha256" COLLATE "C"
          ON CONFLICT DO NOTHING`);
        if (rows.malformed.length > 0)
          inserts.push(tx`
          INSERT INTO malformed (log_id, idx, error, created_at)
          SELECT r."logId", r.idx, r.error, ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(rows.malformed)}::text::json) AS r("logId" text, idx bigint, error text)
          ON CONFLICT DO NOTHING`);
        if (rows.alerts.length > 0)
          inserts.push(tx`
          INSERT INTO alerts (key, kind, payload, created_at)
          SELECT r.key, r.kind, r.payload::jsonb, ${now}::timestamptz
          FROM json_to_recordset(${JSON.stringify(rows.alerts)}::text::json) AS r(key text, kind text, payload text)
          ON CONFLICT (key) DO NOTHING`);
        await Promise.all(inserts);
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
