/**
 * @module store/postgres
 * The shared store: PostgreSQL through `postgres` (porsager), the same schema and behaviour as
 * the SQLite store (store.test.ts runs one suite against both).
 *
 * Where the code differs from sqlite.ts, it is for the network: a batch is written with one
 * set-based INSERT per table (`json_to_recordset` over the batch's rows, one parameter whatever
 * the batch size) instead of one prepared statement per row, and a batch that only moves the
 * cursor is a single UPDATE without BEGIN/COMMIT round trips.
 *
 * JSON goes over the wire as the text `codec.toJsonText` made (the same text SQLite stores), cast
 * `${text}::text::jsonb`: a bare `$1::jsonb` makes the server type the parameter jsonb, and the
 * driver then JSON-encodes our JSON text a second time.
 *
 * The run lock is a session-level advisory lock on a dedicated connection; see `lock`.
 */
import { hostname } from 'node:os';
import postgres from 'postgres';
import { CertvigilError, hasErrorCode } from '../errors.js';
import {
  alertRow,
  assembleIssuances,
  batchRows,
  checkLimit,
  checkPosition,
  cleanText,
  hexPrefixRange,
  inventoryRows,
  normalizeHash,
  nowIso,
  onlyMovesCursor,
  toIso,
  toIsoOrNull,
  toJsonText,
  toNumber,
  baselineDocument,
  baselineFromRow,
  checkBaseline,
  checkIodefInput,
  checkIodefLimits,
  iodefOutboxFromRow,
  iodefReceivedFromRow,
  checkIodefQuota,
  checkIodefReceived,
  sameIodefDocument,
  checkRewind,
  splitVerified,
  verifiedColumn,
} from './codec.js';
import type { EntryRow, IssuanceReadRow } from './codec.js';
import {
  EMPTY_MONITOR_STATUS,
  checkLogHealth,
  logHealthFromRow,
  mergeMonitorStatus,
  monitorStatusFromRow,
} from './health-codec.js';
import {
  StoreLockedError,
  checkReadableVersion,
  conflictError,
  noState,
  describeHolder,
  invalidArgument,
  verifiedHeadConflict,
} from './errors.js';
import type { LockHolder } from './errors.js';
import { LATEST_VERSION, pendingMigrations, schemaMigrationsTable } from './migrations.js';
import type {
  AlertInput,
  AlertRecord,
  Authorization,
  CommitBatch,
  InventoryRecord,
  Issuance,
  LogCursor,
  MalformedInput,
  MisbehaviourRecord,
  MitmBaselineRecord,
  IodefEnqueueLimits,
  IodefEnqueueResult,
  IodefOutboxInput,
  IodefOutboxRecord,
  IodefReceivedInput,
  IodefReceivedQuota,
  IodefReceivedRecord,
  IodefStoreResult,
  LogHealthRecord,
  MonitorStatusRecord,
  Store,
  StoredHead,
  TreeState,
} from './types.js';

type Sql = postgres.Sql;
type Tx = postgres.TransactionSql;
type Row = Record<string, unknown>;

/**
 * Advisory lock keys, two-int4 form: (class, id). Advisory locks are per database, so one pair
 * per purpose is enough. The class is 'cvgl' in ASCII.
 */
const LOCK_CLASS = 0x6376676c;
const RUN_LOCK_ID = 1;
const MIGRATION_LOCK_ID = 2;

const CURSOR_COLUMNS = 'log_id, url, kind, description, position, tree, verified, updated_at';
const ISSUANCE_COLUMNS =
  'tbs_sha256, dns_names, ip_addresses, issuer, serial, not_before, not_after, spki_sha256, key_type, first_seen';
const ALERT_COLUMNS = 'id, key, kind, payload, created_at, delivered_at, attempts, last_error';

function clientOptions(applicationName: string): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    // The library never prints: `CREATE TABLE IF NOT EXISTS` notices would go to console.log.
    onnotice: () => undefined,
    connect_timeout: 10,
    connection: { application_name: applicationName },
  };
}

function cursorFrom(r: Row): LogCursor {
  return {
    logId: String(r.log_id),
    url: String(r.url),
    kind: r.kind as LogCursor['kind'],
    description: String(r.description),
    position: toNumber(r.position),
    tree: (r.tree ?? null) as LogCursor['tree'],
    ...splitVerified(r.verified ?? null),
    updatedAt: toIso(r.updated_at),
  };
}

function issuanceFrom(r: Row): IssuanceReadRow {
  return {
    tbsSha256: String(r.tbs_sha256),
    dnsNames: r.dns_names as string[],
    ipAddresses: r.ip_addresses as string[],
    issuer: String(r.issuer),
    serial: String(r.serial),
    notBefore: String(r.not_before),
    notAfter: String(r.not_after),
    spkiSha256: String(r.spki_sha256),
    keyType: String(r.key_type),
    firstSeen: toIso(r.first_seen),
  };
}

function alertFrom(r: Row): AlertRecord {
  return {
    id: toNumber(r.id),
    key: String(r.key),
    kind: r.kind as AlertRecord['kind'],
    payload: r.payload,
    createdAt: toIso(r.created_at),
    deliveredAt: toIsoOrNull(r.delivered_at),
    attempts: toNumber(r.attempts),
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

/** SQLSTATE 42P01: undefined_table (the schema is not there yet). */
function isUndefinedTable(err: unknown): boolean {
  return (err as { code?: unknown }).code === '42P01';
}

class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private lockSql: Sql | null = null;
  /** Set when the lock's connection closed under us: the lock is gone, stop writing. */
  private lockLost = false;
  private closing = false;

  constructor(
    private readonly sql: Sql,
    private readonly url: string,
    /** Opened read-only: `migrate` only checks the schema, `lock` refuses, the server refuses writes. */
    private readonly readOnly = false,
  ) {}

  async migrate(): Promise<void> {
    if (this.readOnly) {
      let version = 0;
      try {
        const [row] = await this.sql<Row[]>`SELECT max(version) AS v FROM schema_migrations`;
        version = row?.v === null || row?.v === undefined ? 0 : toNumber(row.v);
      } catch (err) {
        if (!isUndefinedTable(err)) throw wrapMigration(err);
      }
      checkReadableVersion(version, LATEST_VERSION, noState(redact(this.url)));
      return;
    }
    try {
      const [row] = await this.sql<Row[]>`SELECT max(version) AS v FROM schema_migrations`;
      if (row !== undefined && row.v !== null && toNumber(row.v) === LATEST_VERSION) return;
    } catch (err) {
      if (!isUndefinedTable(err)) throw wrapMigration(err);
    }
    try {
      await this.sql.begin(async (tx) => {
        // Two processes migrating at once would race on CREATE TABLE IF NOT EXISTS (it is not
        // atomic in PostgreSQL): serialise them; the lock ends with the transaction.
        await tx`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${MIGRATION_LOCK_ID})`;
        await tx.unsafe(schemaMigrationsTable('postgres'));
        const [row] = await tx<Row[]>`SELECT coalesce(max(version), 0) AS v FROM schema_migrations`;
        for (const m of pendingMigrations(toNumber(row?.v ?? 0))) {
          for (const statement of m.statements('postgres')) await tx.unsafe(statement);
          await tx`INSERT INTO schema_migrations (version, name, applied_at)
                   VALUES (${m.version}, ${m.name}, ${nowIso()})`;
        }
      });
    } catch (err) {
      throw wrapMigration(err);
    }
  }

  private async readHolder(): Promise<{ holder: LockHolder | null; backend: string }> {
    let holder: LockHolder | null = null;
    try {
      const [r] = await this.sql<Row[]>`SELECT owner, pid, hostname, acquired_at FROM run_lock WHERE id = 1`;
      if (r !== undefined)
        holder = {
          owner: String(r.owner),
          pid: toNumber(r.pid),
          hostname: String(r.hostname),
          acquiredAt: toIso(r.acquired_at),
        };
    } catch {
      // not migrated yet
    }
    // The server knows for sure which session holds it (pg_terminate_backend if it is stuck).
    let backend = '';
    try {
      const [b] = await this.sql<Row[]>`
        SELECT l.pid, a.client_addr FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ${LOCK_CLASS}
          AND l.objid = ${RUN_LOCK_ID} AND l.objsubid = 2
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
      if (b !== undefined)
        backend = `; server session pid ${String(b.pid)}${b.client_addr ? ` from ${String(b.client_addr)}` : ''}`;
    } catch {
      // only a detail for the message
    }
    return { holder, backend };
  }

  /**
   * The run lock: `pg_try_advisory_lock` on a connection of its own, held until `close()`.
   *
   * Why: a session-level advisory lock belongs to the server session, so it is released as soon
   * as the session ends, including when our process is SIGKILLed (the kernel closes the socket,
   * the backend exits). A client host that vanishes without closing its socket keeps the lock
   * until the server's TCP keepalive (`tcp_keepalives_*`) gives up on the connection.
   * The connection is dedicated and exempt from pool recycling (`max_lifetime`, idle timeout):
   * returning it to a pool would hand the lock to whatever query borrows it next, and recycling it
   * would drop the lock silently. If it closes anyway (server restart, network), the lock is gone:
   * the store then refuses to commit (STORE_LOCKED) and the monitor must start over.
   */
  async lock(owner: string): Promise<void> {
    if (this.readOnly) throw invalidArgument('a store opened read-only cannot take the run lock');
    // A lost lock is taken again from scratch (and refused if another process got it meanwhile).
    if (this.lockLost) await this.releaseLock();
    if (this.lockSql === null) {
      const lockSql = postgres(this.url, {
        ...clientOptions('certvigil run lock'),
        max: 1,
        idle_timeout: undefined,
        max_lifetime: null,
        onclose: () => {
          if (!this.closing && this.lockSql === lockSql) this.lockLost = true;
        },
      });
      try {
        const [r] = await lockSql<
          Row[]
        >`SELECT pg_try_advisory_lock(${LOCK_CLASS}, ${RUN_LOCK_ID}) AS locked`;
        if (r?.locked !== true) {
          const { holder, backend } = await this.readHolder();
          throw new StoreLockedError(`the database is in use by ${describeHolder(holder)}${backend}`, holder);
        }
      } catch (err) {
        await lockSql.end({ timeout: 1 }).catch(() => undefined);
        // Ours, and the driver's coded errors (SQLSTATE, ECONNREFUSED), pass through unwrapped.
        if (hasErrorCode(err)) throw err;
        throw new CertvigilError('STORE_UNAVAILABLE', `cannot take the run lock: ${(err as Error).message}`, {
          cause: err,
        });
      }
      this.lockSql = lockSql;
      this.lockLost = false;
    }
    try {
      await this.migrate();
      await this.sql`
        INSERT INTO run_lock (id, owner, pid, hostname, acquired_at)
        VALUES (1, ${cleanText(owner)}, ${process.pid}, ${hostname()}, ${nowIso()})
        ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,
          hostname = excluded.hostname, acquired_at = excluded.acquired_at`;
    } catch (err) {
      await this.releaseLock();
      throw err;
    }
  }

  private async releaseLock(): Promise<void> {
    const lockSql = this.lockSql;
    this.lockSql = null;
    this.lockLost = false;
    // Ending the session releases the lock; no unlock call needed (or possible after a failure).
    await lockSql?.end({ timeout: 5 });
  }

  private checkLock(): void {
    if (this.lockLost)
      throw new StoreLockedError(
        'the run lock was lost (its database session ended): another process may be running now',
        null,
      );
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.sql.end({ timeout: 5 });
    // The lock goes last, after everything this process wrote is committed or abandoned.
    await this.releaseLock();
  }

  async getCursor(logId: string): Promise<LogCursor | null> {
    const [r] = await this.sql<
      Row[]
    >`SELECT ${this.sql.unsafe(CURSOR_COLUMNS)} FROM logs WHERE log_id = ${logId}`;
    return r === undefined ? null : cursorFrom(r);
  }

  async ensureCursor(init: Omit<LogCursor, 'updatedAt' | 'verified'>): Promise<LogCursor> {
    checkPosition('position', init.position);
    if (init.tree !== null && init.tree.size !== init.position)
      throw invalidArgument(`tree size ${init.tree.size} does not match position ${init.position}`);
    await this.sql`
      INSERT INTO logs (log_id, url, kind, description, position, tree, verified, updated_at)
      VALUES (${init.logId}, ${cleanText(init.url)}, ${init.kind}, ${cleanText(init.description)},
        ${init.position}, ${init.tree === null ? null : toJsonText(init.tree)}::text::jsonb, NULL, ${nowIso()})
      ON CONFLICT (log_id) DO NOTHING`;
    const cursor = await this.getCursor(init.logId);
    // An invariant, not a user error: the row was written just above in this call. A plain Error,
    // so that the CLI reports it as `internal error:` (a bug), never as bad input.
    if (cursor === null) throw new Error(`cursor of ${init.logId} vanished`);
    return cursor;
  }

  async listCursors(): Promise<LogCursor[]> {
    const rows = await this.sql<Row[]>`SELECT ${this.sql.unsafe(CURSOR_COLUMNS)} FROM logs ORDER BY log_id`;
    return rows.map(cursorFrom);
  }

  private async conflict(q: Sql | Tx, batch: CommitBatch): Promise<Error> {
    const [r] = await q<Row[]>`SELECT position FROM logs WHERE log_id = ${batch.logId}`;
    return conflictError(batch.logId, batch.expectedPosition, r === undefined ? null : toNumber(r.position));
  }

  async commitBatch(batch: CommitBatch): Promise<void> {
    const rows = batchRows(batch);
    this.checkLock();
    const now = nowIso();
    // Compare-and-set first. Under READ COMMITTED a concurrent commit for the same log blocks on
    // the row lock and then re-checks `position` against the committed row, so it fails cleanly.
    const move = (q: Sql | Tx) => q`
      UPDATE logs SET position = ${batch.newPosition}, tree = ${rows.tree}::text::jsonb, updated_at = ${now}
      WHERE log_id = ${batch.logId} AND position = ${batch.expectedPosition}`;
    if (onlyMovesCursor(rows)) {
      // One statement is its own transaction: no BEGIN/COMMIT round trips for an empty batch.
      if ((await move(this.sql)).count !== 1) throw await this.conflict(this.sql, batch);
      return;
    }
    await this.sql.begin(async (tx) => {
      if ((await move(tx)).count !== 1) throw await this.conflict(tx, batch);
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
  }

  async setVerifiedHead(logId: string, head: StoredHead, tree?: TreeState): Promise<void> {
    this.checkLock();
    const changed = await this.sql`
      UPDATE logs SET verified = ${verifiedColumn(head, tree)}::text::jsonb, updated_at = ${nowIso()}
      WHERE log_id = ${logId} AND position >= ${head.treeSize}`;
    if (changed.count === 1) return;
    const [r] = await this.sql<Row[]>`SELECT position FROM logs WHERE log_id = ${logId}`;
    throw verifiedHeadConflict(logId, head, r === undefined ? null : toNumber(r.position));
  }

  async rewindCursor(
    logId: string,
    expectedPosition: number,
    to: { position: number; tree: TreeState },
  ): Promise<void> {
    this.checkLock();
    checkRewind(expectedPosition, to);
    const moved = await this.sql`
      UPDATE logs SET position = ${to.position}, tree = ${toJsonText(to.tree)}::text::jsonb, updated_at = ${nowIso()}
      WHERE log_id = ${logId} AND position = ${expectedPosition}`;
    if (moved.count === 1) return;
    const [r] = await this.sql<Row[]>`SELECT position FROM logs WHERE log_id = ${logId}`;
    throw conflictError(logId, expectedPosition, r === undefined ? null : toNumber(r.position));
  }

  /** `filter` selects TBS hashes; the three reads share one snapshot (REPEATABLE READ). */
  private async readIssuances(filter: postgres.Fragment): Promise<Issuance[]> {
    return this.sql.begin('isolation level repeatable read read only', async (tx) => {
      const rows = (
        await tx<Row[]>`SELECT ${tx.unsafe(ISSUANCE_COLUMNS)} FROM issuances WHERE ${filter}
                        ORDER BY first_seen, tbs_sha256`
      ).map(issuanceFrom);
      if (rows.length === 0) return [];
      const certs = (await tx<Row[]>`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${filter}`).map(
        (r) => ({ tbsSha256: String(r.tbs_sha256), certSha256: String(r.cert_sha256) }),
      );
      const entries = (
        await tx<Row[]>`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${filter}`
      ).map((r): EntryRow => ({
        logId: String(r.log_id),
        idx: toNumber(r.idx),
        tbsSha256: String(r.tbs_sha256),
        type: r.type as EntryRow['type'],
        timestamp: toNumber(r.timestamp),
      }));
      return assembleIssuances(rows, certs, entries);
    }) as Promise<Issuance[]>;
  }

  async listIssuances(): Promise<Issuance[]> {
    return this.readIssuances(this.sql`TRUE`);
  }

  async findIssuances(hexPrefix: string): Promise<Issuance[]> {
    const [low, high] = hexPrefixRange(hexPrefix);
    return this.readIssuances(
      this
        .sql`tbs_sha256 IN (SELECT tbs_sha256 FROM issuances WHERE tbs_sha256 >= ${low} AND tbs_sha256 < ${high}
        UNION SELECT tbs_sha256 FROM issuance_certs WHERE cert_sha256 >= ${low} AND cert_sha256 < ${high})`,
    );
  }

  async issuancesForName(dnsName: string): Promise<Issuance[]> {
    return this.readIssuances(
      this.sql`tbs_sha256 IN (SELECT tbs_sha256 FROM issuance_names WHERE dns_name = ${cleanText(dnsName)})`,
    );
  }

  async listMalformed(): Promise<(MalformedInput & { createdAt: string })[]> {
    const rows = await this.sql<
      Row[]
    >`SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx`;
    return rows.map((r) => ({
      logId: String(r.log_id),
      index: toNumber(r.idx),
      error: String(r.error),
      createdAt: toIso(r.created_at),
    }));
  }

  async replaceInventory(source: string, records: InventoryRecord[]): Promise<void> {
    const rows = inventoryRows(source, records);
    await this.sql.begin(async (tx) => {
      await tx`DELETE FROM inventory WHERE source = ${cleanText(source)}`;
      if (rows.length === 0) return;
      await tx`
        INSERT INTO inventory (source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer,
          not_before, not_after)
        SELECT r.source, r.path, r."certSha256", r."tbsSha256", r."spkiSha256", r."dnsNames"::jsonb,
          r.issuer, r."notBefore", r."notAfter"
        FROM json_to_recordset(${JSON.stringify(rows)}::text::json) AS r(source text, path text,
          "certSha256" text, "tbsSha256" text, "spkiSha256" text, "dnsNames" text, issuer text,
          "notBefore" text, "notAfter" text)
        ON CONFLICT DO NOTHING`;
    });
  }

  async listInventory(): Promise<InventoryRecord[]> {
    const rows = await this.sql<Row[]>`
      SELECT source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer, not_before, not_after
      FROM inventory ORDER BY source, path, cert_sha256`;
    return rows.map((r) => ({
      source: String(r.source),
      path: String(r.path),
      certSha256: String(r.cert_sha256),
      tbsSha256: String(r.tbs_sha256),
      spkiSha256: String(r.spki_sha256),
      dnsNames: r.dns_names as string[],
      issuer: String(r.issuer),
      notBefore: String(r.not_before),
      notAfter: String(r.not_after),
    }));
  }

  async authorize(hash: string, note: string | null): Promise<void> {
    await this.sql`
      INSERT INTO authorizations (hash, note, created_at)
      VALUES (${normalizeHash('hash', hash)}, ${note === null ? null : cleanText(note)}, ${nowIso()})
      ON CONFLICT (hash) DO UPDATE SET note = excluded.note`;
  }

  async unauthorize(hash: string): Promise<boolean> {
    const deleted = await this.sql`DELETE FROM authorizations WHERE hash = ${normalizeHash('hash', hash)}`;
    return deleted.count === 1;
  }

  async listAuthorizations(): Promise<Authorization[]> {
    const rows = await this.sql<
      Row[]
    >`SELECT hash, note, created_at FROM authorizations ORDER BY created_at, hash`;
    return rows.map((r) => ({
      hash: String(r.hash),
      note: r.note === null ? null : String(r.note),
      createdAt: toIso(r.created_at),
    }));
  }

  async enqueueAlert(alert: AlertInput): Promise<boolean> {
    const a = alertRow(alert);
    const inserted = await this.sql`
      INSERT INTO alerts (key, kind, payload, created_at)
      VALUES (${a.key}, ${a.kind}, ${a.payload}::text::jsonb, ${nowIso()})
      ON CONFLICT (key) DO NOTHING`;
    return inserted.count === 1;
  }

  async pendingAlerts(limit: number): Promise<AlertRecord[]> {
    checkLimit(limit);
    const rows = await this.sql<Row[]>`
      SELECT ${this.sql.unsafe(ALERT_COLUMNS)} FROM alerts WHERE delivered_at IS NULL ORDER BY id LIMIT ${limit}`;
    return rows.map(alertFrom);
  }

  async markAlertDelivered(id: number): Promise<void> {
    await this.sql`
      UPDATE alerts SET delivered_at = ${nowIso()}, attempts = attempts + 1
      WHERE id = ${id} AND delivered_at IS NULL`;
  }

  async markAlertFailed(id: number, error: string): Promise<void> {
    await this.sql`
      UPDATE alerts SET attempts = attempts + 1, last_error = ${cleanText(error)}
      WHERE id = ${id} AND delivered_at IS NULL`;
  }

  async listAlerts(): Promise<AlertRecord[]> {
    const rows = await this.sql<Row[]>`SELECT ${this.sql.unsafe(ALERT_COLUMNS)} FROM alerts ORDER BY id`;
    return rows.map(alertFrom);
  }

  async recordMisbehaviour(logId: string, evidence: unknown): Promise<void> {
    await this.sql`
      INSERT INTO misbehaviour (log_id, evidence, created_at)
      VALUES (${logId}, ${toJsonText(evidence)}::text::jsonb, ${nowIso()})`;
  }

  async listMisbehaviour(): Promise<MisbehaviourRecord[]> {
    const rows = await this.sql<Row[]>`SELECT id, log_id, evidence, created_at FROM misbehaviour ORDER BY id`;
    return rows.map((r) => ({
      id: toNumber(r.id),
      logId: String(r.log_id),
      evidence: r.evidence,
      createdAt: toIso(r.created_at),
    }));
  }

  async putMitmBaseline(b: MitmBaselineRecord): Promise<void> {
    checkBaseline(b);
    await this.sql`
      INSERT INTO mitm_baselines (target, port, baseline, learned_at)
      VALUES (${b.target}, ${b.port}, ${toJsonText(baselineDocument(b))}::text::jsonb, ${b.learnedAt})
      ON CONFLICT (target, port) DO UPDATE SET baseline = excluded.baseline, learned_at = excluded.learned_at`;
  }

  async listMitmBaselines(target?: string): Promise<MitmBaselineRecord[]> {
    const rows =
      target === undefined
        ? await this.sql<
            Row[]
          >`SELECT target, port, baseline, learned_at FROM mitm_baselines ORDER BY target, port`
        : await this.sql<
            Row[]
          >`SELECT target, port, baseline, learned_at FROM mitm_baselines WHERE target = ${target} ORDER BY port`;
    return rows.map((r) =>
      baselineFromRow(String(r.target), toNumber(r.port), r.baseline, toIso(r.learned_at)),
    );
  }

  async deleteMitmBaselines(target: string, ports?: number[]): Promise<number> {
    const rows =
      ports === undefined
        ? await this.sql`DELETE FROM mitm_baselines WHERE target = ${target} RETURNING port`
        : await this
            .sql`DELETE FROM mitm_baselines WHERE target = ${target} AND port = ANY(${ports}::bigint[]) RETURNING port`;
    return rows.length;
  }

  async enqueueIodefReport(r: IodefOutboxInput, limits: IodefEnqueueLimits): Promise<IodefEnqueueResult> {
    checkIodefInput(r);
    checkIodefLimits(limits);
    return this.sql.begin(async (tx) => {
      // Serialises enqueuers (several CA workers may share the database) so that the dedup and
      // rate-limit checks and the insert are one decision; readers and the sender are not blocked.
      await tx`LOCK TABLE iodef_outbox IN SHARE ROW EXCLUSIVE MODE`;
      const dup = await tx<Row[]>`
        SELECT id FROM iodef_outbox WHERE dedup_key = ${r.dedupKey} AND created_at >= ${limits.dedupSince}
        ORDER BY id LIMIT 1`;
      if (dup[0]) return { outcome: 'duplicate' as const, id: toNumber(dup[0].id) };
      const [perRecipient] = await tx<Row[]>`
        SELECT COUNT(*) AS n FROM iodef_outbox WHERE recipient = ${r.recipient} AND created_at >= ${limits.recipientSince}`;
      if (toNumber(perRecipient?.n) >= limits.recipientMax)
        return { outcome: 'rate-limited-recipient' as const, id: null };
      const [perDomain] = await tx<Row[]>`
        SELECT COUNT(*) AS n FROM iodef_outbox
        WHERE registered_domain = ${r.registeredDomain} AND created_at >= ${limits.domainSince}`;
      if (toNumber(perDomain?.n) >= limits.domainMax)
        return { outcome: 'rate-limited-domain' as const, id: null };
      const [inserted] = await tx<Row[]>`
        INSERT INTO iodef_outbox (dedup_key, recipient, channel, registered_domain, names, reason, incident_id,
          document, created_at, next_attempt_at)
        VALUES (${r.dedupKey}, ${r.recipient}, ${r.channel}, ${r.registeredDomain}, ${toJsonText(r.names)}::text::jsonb,
          ${cleanText(r.reason)}, ${r.incidentId}, ${cleanText(r.document)}, ${r.createdAt}, ${r.createdAt})
        RETURNING id`;
      return { outcome: 'enqueued' as const, id: toNumber(inserted?.id) };
    });
  }

  async dueIodefReports(now: string, limit: number): Promise<IodefOutboxRecord[]> {
    checkLimit(limit);
    const rows = await this.sql<Row[]>`
      SELECT * FROM iodef_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ${now}
      ORDER BY next_attempt_at, id LIMIT ${limit}`;
    return rows.map((row) => iodefOutboxFromRow(row, row.names, toIso));
  }

  async markIodefReportSent(id: number, at: string): Promise<void> {
    await this
      .sql`UPDATE iodef_outbox SET sent_at = ${at}, attempts = attempts + 1 WHERE id = ${id} AND sent_at IS NULL`;
  }

  async markIodefReportFailed(id: number, error: string, nextAttemptAt: string | null): Promise<void> {
    if (nextAttemptAt === null)
      await this.sql`
        UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ${cleanText(error)}, gave_up_at = ${nowIso()}
        WHERE id = ${id} AND sent_at IS NULL`;
    else
      await this.sql`
        UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ${cleanText(error)}, next_attempt_at = ${nextAttemptAt}
        WHERE id = ${id} AND sent_at IS NULL`;
  }

  async listIodefOutbox(): Promise<IodefOutboxRecord[]> {
    const rows = await this.sql<Row[]>`SELECT * FROM iodef_outbox ORDER BY id`;
    return rows.map((row) => iodefOutboxFromRow(row, row.names, toIso));
  }

  async storeReceivedIodef(r: IodefReceivedInput, quota?: IodefReceivedQuota): Promise<IodefStoreResult> {
    checkIodefReceived(r);
    if (quota !== undefined) checkIodefQuota(quota);
    const document = cleanText(r.document);
    const bytes = Buffer.byteLength(r.document, 'utf8');
    return this.sql.begin(async (tx): Promise<IodefStoreResult> => {
      // Serialises receivers sharing the database, so dedup, quota, conflict and insert are one
      // decision; readers (`iodef list`) are not blocked.
      await tx`LOCK TABLE iodef_received IN SHARE ROW EXCLUSIVE MODE`;
      const [dup] = await tx<Row[]>`SELECT id FROM iodef_received WHERE fingerprint = ${r.fingerprint}`;
      if (dup) return { outcome: 'duplicate', id: toNumber(dup.id) };
      if (quota !== undefined) {
        const [used] = await tx<Row[]>`
          SELECT COUNT(*) AS n, COALESCE(SUM(document_bytes), 0) AS b FROM iodef_received
          WHERE received_at >= ${quota.since}`;
        const reports = toNumber(used?.n);
        const usedBytes = toNumber(used?.b);
        if (reports + 1 > quota.maxReports || usedBytes + bytes > quota.maxBytes)
          return { outcome: 'over-quota', reports, bytes: usedBytes };
      }
      const rows =
        r.incidentKey === null
          ? []
          : await tx<Row[]>`
              SELECT id, sender, document_sha256, (document_sha256 IS NULL AND document = ${document}) AS same_text
              FROM iodef_received WHERE incident_key = ${r.incidentKey} ORDER BY id LIMIT 20`;
      const related = rows.map((row) => ({
        id: toNumber(row.id),
        sender: String(row.sender),
        sameDocument: sameIodefDocument(row, r.documentSha256),
      }));
      const conflict = related.some((x) => !x.sameDocument);
      const [inserted] = await tx<Row[]>`
        INSERT INTO iodef_received (fingerprint, sender, channel, received_at, schema_valid, summary, document,
          sender_key, document_sha256, incident_key, document_bytes, conflict)
        VALUES (${r.fingerprint}, ${cleanText(r.sender)}, ${r.channel}, ${r.receivedAt}, ${r.schemaValid ? 1 : 0},
          ${toJsonText(r.summary)}::text::jsonb, ${document}, ${cleanText(r.senderKey)}, ${r.documentSha256},
          ${r.incidentKey}, ${bytes}, ${conflict ? 1 : 0})
        RETURNING id`;
      return { outcome: 'stored', id: toNumber(inserted?.id), conflict, related };
    });
  }

  async deleteReceivedIodefBefore(cutoff: string): Promise<number> {
    if (Number.isNaN(Date.parse(cutoff))) throw invalidArgument('retention cutoff must be an ISO time');
    const rows = await this.sql<Row[]>`DELETE FROM iodef_received WHERE received_at < ${cutoff} RETURNING id`;
    return rows.length;
  }

  async listReceivedIodef(): Promise<IodefReceivedRecord[]> {
    const rows = await this.sql<Row[]>`SELECT * FROM iodef_received ORDER BY id`;
    return rows.map((row) => iodefReceivedFromRow(row, row.summary, toIso));
  }

  async putLogHealth(r: LogHealthRecord): Promise<void> {
    const h = checkLogHealth(r);
    await this.sql`
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
  }

  async listLogHealth(): Promise<LogHealthRecord[]> {
    const rows = await this.sql<Row[]>`SELECT * FROM log_health ORDER BY log_id`;
    return rows.map(logHealthFromRow);
  }

  async putMonitorStatus(patch: Partial<MonitorStatusRecord>): Promise<void> {
    await this.sql.begin(async (tx) => {
      // Make sure the one row exists, then lock it: concurrent patches of other fields both win.
      await tx`INSERT INTO monitor_status (id) VALUES (1) ON CONFLICT (id) DO NOTHING`;
      const [row] = await tx<Row[]>`SELECT * FROM monitor_status WHERE id = 1 FOR UPDATE`;
      const s = mergeMonitorStatus(
        row === undefined ? EMPTY_MONITOR_STATUS : monitorStatusFromRow(row),
        patch,
      );
      await tx`
        UPDATE monitor_status SET log_list_source = ${s.logListSource},
          log_list_fetched_at = ${s.logListFetchedAt}, log_list_error = ${s.logListError},
          last_cycle_at = ${s.lastCycleAt}, inventory_errors = ${s.inventoryErrors},
          last_heartbeat_at = ${s.lastHeartbeatAt},
          monitored_log_ids = ${s.monitoredLogIds === null ? null : JSON.stringify(s.monitoredLogIds)}
        WHERE id = 1`;
    });
  }

  async getMonitorStatus(): Promise<MonitorStatusRecord> {
    const [row] = await this.sql<Row[]>`SELECT * FROM monitor_status WHERE id = 1`;
    return row === undefined ? { ...EMPTY_MONITOR_STATUS } : monitorStatusFromRow(row);
  }
}

function wrapMigration(err: unknown): Error {
  // Ours, and the driver's coded errors (SQLSTATE), pass through unwrapped.
  if (hasErrorCode(err)) return err;
  return new CertvigilError(
    'STORE_MIGRATION',
    `cannot migrate the PostgreSQL schema: ${(err as Error).message}`,
    {
      cause: err,
    },
  );
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export interface PostgresOpenOptions {
  /**
   * Read only: `migrate()` checks the schema instead of creating it (a missing schema is
   * `STORE_NOT_FOUND`), and every session starts with `default_transaction_read_only = on`, so the
   * server itself refuses a write.
   */
  readOnly?: boolean;
}

/**
 * Connects to the PostgreSQL database at `url` (`postgres://` or `postgresql://`, libpq-style
 * query parameters such as `sslmode` honoured) and checks that it answers. Call `migrate()`
 * before use, and `lock(owner)` to be the one process that writes it.
 */
export async function openPostgresStore(url: string, options: PostgresOpenOptions = {}): Promise<Store> {
  const readOnly = options.readOnly === true;
  const base = clientOptions(readOnly ? 'certvigil (read-only)' : 'certvigil');
  const sql = postgres(url, {
    ...base,
    ...(readOnly ? { connection: { ...base.connection, default_transaction_read_only: true } } : {}),
    max: 10,
    idle_timeout: 60,
  });
  try {
    await sql`SELECT 1`;
  } catch (cause) {
    await sql.end({ timeout: 1 }).catch(() => undefined);
    throw new CertvigilError(
      'STORE_UNAVAILABLE',
      `cannot connect to ${redact(url)}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return new PostgresStore(sql, url, readOnly);
}
