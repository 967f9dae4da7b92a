/**
 * @module store/sqlite
 * The embedded store: one SQLite file (better-sqlite3, synchronous calls behind the async
 * `Store` interface) and a lock file beside it.
 *
 * Durability: WAL journal with `synchronous = FULL`. Any journal mode survives SIGKILL (the OS
 * keeps what was written), but after a power loss WAL + NORMAL may lose the last commits, and
 * those commits may already have been acted upon: alerts delivered and marked, a position
 * reported. FULL syncs the WAL at every commit, so a commit that returned is on disk. It costs one
 * fsync per `commitBatch`, i.e. per 256 to 4,096 entries read from a log, which is noise next to
 * the download. WAL also lets the CLI read while the monitor writes.
 *
 * A state directory shared read-only with a group (`certvigil monitor --group`, for the `nagios`
 * user's `check monitor`) uses the rollback journal instead, with the same `synchronous = FULL`:
 * see `journalModeFor`.
 *
 * The run lock is an OS lock that dies with its process; see `acquireLockFile`.
 */
import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { access, lstat, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CertvigilError, hasErrorCode } from '../errors.js';
import {
  checkStateDir,
  ensureStateDir,
  PRIVATE_FILE_MODE,
  refuseSymlink,
  SHARED_FILE_MODE,
  sqliteFiles,
  stateDirIsShared,
} from '../state-files.js';
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
  toJsonText,
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
import type { BatchRows, EntryRow, IssuanceReadRow } from './codec.js';
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

type Db = Database.Database;
type Row = Record<string, unknown>;

/** How long a writer waits for another connection's write transaction (e.g. the CLI's). */
const BUSY_TIMEOUT_MS = 5_000;

const CURSOR_COLUMNS = 'log_id, url, kind, description, position, tree, verified, updated_at';
const ISSUANCE_COLUMNS =
  'tbs_sha256, dns_names, ip_addresses, issuer, serial, not_before, not_after, spki_sha256, key_type, first_seen';
const ALERT_COLUMNS = 'id, key, kind, payload, created_at, delivered_at, attempts, last_error';

function parseJson<T>(value: unknown): T {
  return JSON.parse(String(value)) as T;
}

function cursorFrom(r: Row): LogCursor {
  return {
    logId: String(r.log_id),
    url: String(r.url),
    kind: r.kind as LogCursor['kind'],
    description: String(r.description),
    position: Number(r.position),
    tree: r.tree === null ? null : parseJson<LogCursor['tree']>(r.tree),
    ...splitVerified(r.verified),
    updatedAt: String(r.updated_at),
  };
}

function issuanceFrom(r: Row): IssuanceReadRow {
  return {
    tbsSha256: String(r.tbs_sha256),
    dnsNames: parseJson<string[]>(r.dns_names),
    ipAddresses: parseJson<string[]>(r.ip_addresses),
    issuer: String(r.issuer),
    serial: String(r.serial),
    notBefore: String(r.not_before),
    notAfter: String(r.not_after),
    spkiSha256: String(r.spki_sha256),
    keyType: String(r.key_type),
    firstSeen: String(r.first_seen),
  };
}

function alertFrom(r: Row): AlertRecord {
  return {
    id: Number(r.id),
    key: String(r.key),
    kind: r.kind as AlertRecord['kind'],
    payload: parseJson<unknown>(r.payload),
    createdAt: String(r.created_at),
    deliveredAt: r.delivered_at === null ? null : String(r.delivered_at),
    attempts: Number(r.attempts),
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

/**
 * Creates `path` with mode 0600 if it does not exist: the state is nobody else's business.
 *
 * Only ever with O_EXCL, never opening an existing file: closing ANY descriptor of a file drops
 * every POSIX lock this process holds on it, so touching a database or lock file that another
 * store in this process has open would silently release its locks (SQLite's "how to corrupt"
 * list, §2.2). A file that did not exist cannot be locked by anyone in this process.
 */
async function createPrivate(path: string, mode = PRIVATE_FILE_MODE): Promise<void> {
  try {
    // O_EXCL also refuses a symlink at `path`, dangling or not (POSIX open(2)).
    const handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      mode,
    );
    // The umask may have taken bits off a shared file's 0640; the group must be able to read it.
    if (mode !== PRIVATE_FILE_MODE) await handle.chmod(mode);
    await handle.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * The run lock: an exclusive SQLite lock on a separate, empty file `<db>.lock`, held by an open
 * `BEGIN EXCLUSIVE` for the store's lifetime.
 *
 * Why this one: SQLite's unix VFS takes POSIX `fcntl()` record locks, which the kernel drops when
 * the process dies in any way (SIGKILL, OOM killer, crash): no stale lock to clean up, no PID
 * files, no PID reuse or PID-namespace (container) confusion. SQLite also tracks locks per inode
 * inside one process, so a second connection in the same process is refused as well, which plain
 * `fcntl` would not do. A lock row in the database is not enough (it survives its holder), and
 * `BEGIN EXCLUSIVE` on the database itself would block every reader such as the CLI.
 *
 * Limits: advisory locks on a network filesystem are only as good as its lock daemon (SQLite
 * itself has the same caveat), and deleting the lock file while it is held lets a second process
 * lock a new file: do not clean up `*.lock` files of a running monitor.
 */
function acquireLockFile(lockPath: string): Db | 'busy' {
  const lockDb = new Database(lockPath, { timeout: 0 });
  try {
    // Nothing is ever written: the file stays empty and only its lock bytes matter. An in-memory
    // journal keeps BEGIN EXCLUSIVE from leaving a `.lock-journal` file beside it. (This pragma
    // reads the file, so it too fails with SQLITE_BUSY while another process holds the lock.)
    lockDb.pragma('journal_mode = MEMORY');
    lockDb.exec('BEGIN EXCLUSIVE');
    return lockDb;
  } catch (err) {
    lockDb.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return 'busy';
    throw err;
  }
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private lockDb: Db | null = null;
  private closed = false;

  private readonly commitTx: Database.Transaction<(batch: CommitBatch, rows: BatchRows, now: string) => void>;

  constructor(
    private readonly db: Db,
    private readonly path: string,
    /** Opened read-only: `migrate` only checks the schema, `lock` refuses. */
    private readonly readOnly = false,
  ) {
    this.commitTx = db.transaction((batch: CommitBatch, rows: BatchRows, now: string) =>
      this.commitRows(batch, rows, now),
    );
  }

  /** Prepared once per SQL text and reused: commitBatch runs thousands of these per second. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private schemaVersion(): number {
    const row = this.db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as Row;
    return row.v === null ? 0 : Number(row.v);
  }

  async migrate(): Promise<void> {
    if (this.readOnly) {
      let version = 0;
      try {
        version = this.schemaVersion();
      } catch {
        // no schema_migrations table: an empty file, not a certvigil state
      }
      checkReadableVersion(version, LATEST_VERSION, noState(dirname(this.path)));
      return;
    }
    try {
      // Fast path without the write lock: the CLI opening a state the monitor is writing.
      if (this.schemaVersion() === LATEST_VERSION) return;
    } catch {
      // no schema_migrations table yet
    }
    const upgrade = this.db.transaction(() => {
      this.db.exec(schemaMigrationsTable('sqlite'));
      // Read again under the write lock: another process may have migrated meanwhile.
      for (const m of pendingMigrations(this.schemaVersion())) {
        for (const statement of m.statements('sqlite')) this.db.exec(statement);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, nowIso());
      }
    });
    try {
      upgrade.immediate();
    } catch (cause) {
      // Ours, and SQLite's own coded errors (SQLITE_BUSY…), pass through unwrapped.
      if (hasErrorCode(cause)) throw cause;
      throw new CertvigilError(
        'STORE_MIGRATION',
        `cannot migrate ${this.path}: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  private readHolder(): LockHolder | null {
    try {
      const r = this.db
        .prepare('SELECT owner, pid, hostname, acquired_at FROM run_lock WHERE id = 1')
        .get() as Row | undefined;
      if (r === undefined) return null;
      return {
        owner: String(r.owner),
        pid: Number(r.pid),
        hostname: String(r.hostname),
        acquiredAt: String(r.acquired_at),
      };
    } catch {
      return null; // not migrated yet
    }
  }

  async lock(owner: string): Promise<void> {
    if (this.readOnly) throw invalidArgument('a store opened read-only cannot take the run lock');
    if (this.lockDb === null) {
      const got = acquireLockFile(`${this.path}.lock`);
      if (got === 'busy') {
        const holder = this.readHolder();
        throw new StoreLockedError(`${this.path} is in use by ${describeHolder(holder)}`, holder);
      }
      this.lockDb = got;
    }
    try {
      // The holder label lives in the database, where a refused process can read it (the lock
      // file cannot be read while it is locked); hence the schema must exist.
      await this.migrate();
      this.stmt(
        `INSERT INTO run_lock (id, owner, pid, hostname, acquired_at) VALUES (1, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,
           hostname = excluded.hostname, acquired_at = excluded.acquired_at`,
      ).run(cleanText(owner), process.pid, hostname(), nowIso());
    } catch (err) {
      this.lockDb.close();
      this.lockDb = null;
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.db.exec('PRAGMA analysis_limit = 400; PRAGMA optimize');
    } catch {
      // only a planner hint
    }
    this.db.close();
    // The lock goes last, after everything this process wrote is closed.
    this.lockDb?.close();
    this.lockDb = null;
  }

  async getCursor(logId: string): Promise<LogCursor | null> {
    const r = this.stmt(`SELECT ${CURSOR_COLUMNS} FROM logs WHERE log_id = ?`).get(logId) as Row | undefined;
    return r === undefined ? null : cursorFrom(r);
  }

  async ensureCursor(init: Omit<LogCursor, 'updatedAt' | 'verified'>): Promise<LogCursor> {
    checkPosition('position', init.position);
    if (init.tree !== null && init.tree.size !== init.position)
      throw invalidArgument(`tree size ${init.tree.size} does not match position ${init.position}`);
    this.stmt(
      `INSERT INTO logs (log_id, url, kind, description, position, tree, verified, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, NULL, ?) ON CONFLICT (log_id) DO NOTHING`,
    ).run(
      init.logId,
      cleanText(init.url),
      init.kind,
      cleanText(init.description),
      init.position,
      init.tree === null ? null : toJsonText(init.tree),
      nowIso(),
    );
    const cursor = await this.getCursor(init.logId);
    // An invariant, not a user error: the row was written just above in this call. A plain Error,
    // so that the CLI reports it as `internal error:` (a bug), never as bad input.
    if (cursor === null) throw new Error(`cursor of ${init.logId} vanished`);
    return cursor;
  }

  async listCursors(): Promise<LogCursor[]> {
    return (this.stmt(`SELECT ${CURSOR_COLUMNS} FROM logs ORDER BY log_id`).all() as Row[]).map(cursorFrom);
  }

  private commitRows(batch: CommitBatch, rows: BatchRows, now: string): void {
    // Compare-and-set first: a stale or replayed batch stops here, before writing anything.
    const moved = this.stmt(
      'UPDATE logs SET position = ?, tree = ?, updated_at = ? WHERE log_id = ? AND position = ?',
    ).run(batch.newPosition, rows.tree, now, batch.logId, batch.expectedPosition);
    if (moved.changes !== 1) {
      const r = this.stmt('SELECT position FROM logs WHERE log_id = ?').get(batch.logId) as Row | undefined;
      throw conflictError(batch.logId, batch.expectedPosition, r === undefined ? null : Number(r.position));
    }
    // Everything below is keyed: a batch replayed from an older position adds nothing twice,
    // and the first writer keeps an issuance's descriptive columns and first_seen.
    const insertIssuance = this.stmt(
      `INSERT INTO issuances (${ISSUANCE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tbs_sha256) DO NOTHING`,
    );
    for (const i of rows.issuances)
      insertIssuance.run(
        i.tbsSha256,
        i.dnsNames,
        i.ipAddresses,
        i.issuer,
        i.serial,
        i.notBefore,
        i.notAfter,
        i.spkiSha256,
        i.keyType,
        now,
      );
    const insertCert = this.stmt(
      'INSERT INTO issuance_certs (tbs_sha256, cert_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    for (const c of rows.certs) insertCert.run(c.tbsSha256, c.certSha256);
    const insertEntry = this.stmt(
      `INSERT INTO log_entries (log_id, idx, tbs_sha256, type, timestamp) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
    );
    for (const e of rows.entries) insertEntry.run(e.logId, e.idx, e.tbsSha256, e.type, e.timestamp);
    const insertName = this.stmt(
      'INSERT INTO issuance_names (dns_name, tbs_sha256) VALUES (?, ?) ON CONFLICT DO NOTHING',
    );
    for (const n of rows.names) insertName.run(n.dnsName, n.tbsSha256);
    const insertMalformed = this.stmt(
      'INSERT INTO malformed (log_id, idx, error, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    for (const m of rows.malformed) insertMalformed.run(m.logId, m.idx, m.error, now);
    const insertAlert = this.stmt(
      'INSERT INTO alerts (key, kind, payload, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
    );
    for (const a of rows.alerts) insertAlert.run(a.key, a.kind, a.payload, now);
  }

  async commitBatch(batch: CommitBatch): Promise<void> {
    const rows = batchRows(batch);
    // IMMEDIATE: take the write lock at BEGIN, so a busy database waits (busy_timeout) instead of
    // failing when a read transaction would have to be upgraded.
    this.commitTx.immediate(batch, rows, nowIso());
  }

  async setVerifiedHead(logId: string, head: StoredHead, tree?: TreeState): Promise<void> {
    const changed = this.stmt(
      'UPDATE logs SET verified = ?, updated_at = ? WHERE log_id = ? AND position >= ?',
    ).run(verifiedColumn(head, tree), nowIso(), logId, head.treeSize);
    if (changed.changes === 1) return;
    const r = this.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
    throw verifiedHeadConflict(logId, head, r === undefined ? null : Number(r.position));
  }

  async rewindCursor(
    logId: string,
    expectedPosition: number,
    to: { position: number; tree: TreeState },
  ): Promise<void> {
    checkRewind(expectedPosition, to);
    const moved = this.stmt(
      'UPDATE logs SET position = ?, tree = ?, updated_at = ? WHERE log_id = ? AND position = ?',
    ).run(to.position, toJsonText(to.tree), nowIso(), logId, expectedPosition);
    if (moved.changes === 1) return;
    const r = this.stmt('SELECT position FROM logs WHERE log_id = ?').get(logId) as Row | undefined;
    throw conflictError(logId, expectedPosition, r === undefined ? null : Number(r.position));
  }

  private readIssuances(where: string, params: unknown[]): Issuance[] {
    const read = this.db.transaction((): Issuance[] => {
      const rows = (
        this.stmt(
          `SELECT ${ISSUANCE_COLUMNS} FROM issuances WHERE ${where} ORDER BY first_seen, tbs_sha256`,
        ).all(...params) as Row[]
      ).map(issuanceFrom);
      if (rows.length === 0) return [];
      const certs = (
        this.stmt(`SELECT tbs_sha256, cert_sha256 FROM issuance_certs WHERE ${where}`).all(...params) as Row[]
      ).map((r) => ({ tbsSha256: String(r.tbs_sha256), certSha256: String(r.cert_sha256) }));
      const entries = (
        this.stmt(`SELECT log_id, idx, tbs_sha256, type, timestamp FROM log_entries WHERE ${where}`).all(
          ...params,
        ) as Row[]
      ).map((r): EntryRow => ({
        logId: String(r.log_id),
        idx: Number(r.idx),
        tbsSha256: String(r.tbs_sha256),
        type: r.type as EntryRow['type'],
        timestamp: Number(r.timestamp),
      }));
      return assembleIssuances(rows, certs, entries);
    });
    // One read transaction: the three reads see the same snapshot.
    return read.deferred();
  }

  async listIssuances(): Promise<Issuance[]> {
    return this.readIssuances('1 = 1', []);
  }

  async findIssuances(hexPrefix: string): Promise<Issuance[]> {
    const [low, high] = hexPrefixRange(hexPrefix);
    return this.readIssuances(
      `tbs_sha256 IN (SELECT tbs_sha256 FROM issuances WHERE tbs_sha256 >= ? AND tbs_sha256 < ?
        UNION SELECT tbs_sha256 FROM issuance_certs WHERE cert_sha256 >= ? AND cert_sha256 < ?)`,
      [low, high, low, high],
    );
  }

  async issuancesForName(dnsName: string): Promise<Issuance[]> {
    return this.readIssuances('tbs_sha256 IN (SELECT tbs_sha256 FROM issuance_names WHERE dns_name = ?)', [
      cleanText(dnsName),
    ]);
  }

  async listMalformed(): Promise<(MalformedInput & { createdAt: string })[]> {
    const rows = this.stmt(
      'SELECT log_id, idx, error, created_at FROM malformed ORDER BY log_id, idx',
    ).all() as Row[];
    return rows.map((r) => ({
      logId: String(r.log_id),
      index: Number(r.idx),
      error: String(r.error),
      createdAt: String(r.created_at),
    }));
  }

  async replaceInventory(source: string, records: InventoryRecord[]): Promise<void> {
    const rows = inventoryRows(source, records);
    const replace = this.db.transaction(() => {
      this.stmt('DELETE FROM inventory WHERE source = ?').run(cleanText(source));
      const insert = this.stmt(
        `INSERT INTO inventory (source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer,
           not_before, not_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      );
      for (const r of rows)
        insert.run(
          r.source,
          r.path,
          r.certSha256,
          r.tbsSha256,
          r.spkiSha256,
          r.dnsNames,
          r.issuer,
          r.notBefore,
          r.notAfter,
        );
    });
    replace.immediate();
  }

  async listInventory(): Promise<InventoryRecord[]> {
    const rows = this.stmt(
      `SELECT source, path, cert_sha256, tbs_sha256, spki_sha256, dns_names, issuer, not_before, not_after
       FROM inventory ORDER BY source, path, cert_sha256`,
    ).all() as Row[];
    return rows.map((r) => ({
      source: String(r.source),
      path: String(r.path),
      certSha256: String(r.cert_sha256),
      tbsSha256: String(r.tbs_sha256),
      spkiSha256: String(r.spki_sha256),
      dnsNames: parseJson<string[]>(r.dns_names),
      issuer: String(r.issuer),
      notBefore: String(r.not_before),
      notAfter: String(r.not_after),
    }));
  }

  async authorize(hash: string, note: string | null): Promise<void> {
    this.stmt(
      `INSERT INTO authorizations (hash, note, created_at) VALUES (?, ?, ?)
       ON CONFLICT (hash) DO UPDATE SET note = excluded.note`,
    ).run(normalizeHash('hash', hash), note === null ? null : cleanText(note), nowIso());
  }

  async unauthorize(hash: string): Promise<boolean> {
    return (
      this.stmt('DELETE FROM authorizations WHERE hash = ?').run(normalizeHash('hash', hash)).changes === 1
    );
  }

  async listAuthorizations(): Promise<Authorization[]> {
    const rows = this.stmt(
      'SELECT hash, note, created_at FROM authorizations ORDER BY created_at, hash',
    ).all() as Row[];
    return rows.map((r) => ({
      hash: String(r.hash),
      note: r.note === null ? null : String(r.note),
      createdAt: String(r.created_at),
    }));
  }

  async enqueueAlert(alert: AlertInput): Promise<boolean> {
    const a = alertRow(alert);
    const inserted = this.stmt(
      'INSERT INTO alerts (key, kind, payload, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING',
    ).run(a.key, a.kind, a.payload, nowIso());
    return inserted.changes === 1;
  }

  async pendingAlerts(limit: number): Promise<AlertRecord[]> {
    checkLimit(limit);
    const rows = this.stmt(
      `SELECT ${ALERT_COLUMNS} FROM alerts WHERE delivered_at IS NULL ORDER BY id LIMIT ?`,
    ).all(limit) as Row[];
    return rows.map(alertFrom);
  }

  async markAlertDelivered(id: number): Promise<void> {
    this.stmt(
      'UPDATE alerts SET delivered_at = ?, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL',
    ).run(nowIso(), id);
  }

  async markAlertFailed(id: number, error: string): Promise<void> {
    this.stmt(
      'UPDATE alerts SET attempts = attempts + 1, last_error = ? WHERE id = ? AND delivered_at IS NULL',
    ).run(cleanText(error), id);
  }

  async listAlerts(): Promise<AlertRecord[]> {
    return (this.stmt(`SELECT ${ALERT_COLUMNS} FROM alerts ORDER BY id`).all() as Row[]).map(alertFrom);
  }

  async recordMisbehaviour(logId: string, evidence: unknown): Promise<void> {
    this.stmt('INSERT INTO misbehaviour (log_id, evidence, created_at) VALUES (?, ?, ?)').run(
      logId,
      toJsonText(evidence),
      nowIso(),
    );
  }

  async listMisbehaviour(): Promise<MisbehaviourRecord[]> {
    const rows = this.stmt(
      'SELECT id, log_id, evidence, created_at FROM misbehaviour ORDER BY id',
    ).all() as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      logId: String(r.log_id),
      evidence: parseJson<unknown>(r.evidence),
      createdAt: String(r.created_at),
    }));
  }

  async putMitmBaseline(b: MitmBaselineRecord): Promise<void> {
    checkBaseline(b);
    this.stmt(
      `INSERT INTO mitm_baselines (target, port, baseline, learned_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (target, port) DO UPDATE SET baseline = excluded.baseline, learned_at = excluded.learned_at`,
    ).run(b.target, b.port, toJsonText(baselineDocument(b)), b.learnedAt);
  }

  async listMitmBaselines(target?: string): Promise<MitmBaselineRecord[]> {
    const rows = (
      target === undefined
        ? this.stmt(
            'SELECT target, port, baseline, learned_at FROM mitm_baselines ORDER BY target, port',
          ).all()
        : this.stmt(
            'SELECT target, port, baseline, learned_at FROM mitm_baselines WHERE target = ? ORDER BY port',
          ).all(target)
    ) as Row[];
    return rows.map((r) =>
      baselineFromRow(String(r.target), Number(r.port), parseJson<unknown>(r.baseline), String(r.learned_at)),
    );
  }

  async deleteMitmBaselines(target: string, ports?: number[]): Promise<number> {
    if (ports === undefined)
      return this.stmt('DELETE FROM mitm_baselines WHERE target = ?').run(target).changes;
    let n = 0;
    for (const port of ports)
      n += this.stmt('DELETE FROM mitm_baselines WHERE target = ? AND port = ?').run(target, port).changes;
    return n;
  }

  async enqueueIodefReport(r: IodefOutboxInput, limits: IodefEnqueueLimits): Promise<IodefEnqueueResult> {
    checkIodefInput(r);
    checkIodefLimits(limits);
    // One IMMEDIATE transaction: the checks and the insert see the same outbox, also across processes.
    const tx = this.db.transaction((): IodefEnqueueResult => {
      const dup = this.stmt(
        'SELECT id FROM iodef_outbox WHERE dedup_key = ? AND created_at >= ? ORDER BY id LIMIT 1',
      ).get(r.dedupKey, limits.dedupSince) as Row | undefined;
      if (dup) return { outcome: 'duplicate', id: Number(dup.id) };
      const perRecipient = this.stmt(
        'SELECT COUNT(*) AS n FROM iodef_outbox WHERE recipient = ? AND created_at >= ?',
      ).get(r.recipient, limits.recipientSince) as Row;
      if (Number(perRecipient.n) >= limits.recipientMax)
        return { outcome: 'rate-limited-recipient', id: null };
      const perDomain = this.stmt(
        'SELECT COUNT(*) AS n FROM iodef_outbox WHERE registered_domain = ? AND created_at >= ?',
      ).get(r.registeredDomain, limits.domainSince) as Row;
      if (Number(perDomain.n) >= limits.domainMax) return { outcome: 'rate-limited-domain', id: null };
      const inserted = this.stmt(
        `INSERT INTO iodef_outbox (dedup_key, recipient, channel, registered_domain, names, reason, incident_id,
           document, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.dedupKey,
        r.recipient,
        r.channel,
        r.registeredDomain,
        toJsonText(r.names),
        cleanText(r.reason),
        r.incidentId,
        r.document,
        r.createdAt,
        r.createdAt,
      );
      return { outcome: 'enqueued', id: Number(inserted.lastInsertRowid) };
    });
    return tx.immediate();
  }

  async dueIodefReports(now: string, limit: number): Promise<IodefOutboxRecord[]> {
    checkLimit(limit);
    const rows = this.stmt(
      `SELECT * FROM iodef_outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= ?
       ORDER BY next_attempt_at, id LIMIT ?`,
    ).all(now, limit) as Row[];
    return rows.map((row) => iodefOutboxFromRow(row, parseJson<unknown>(row.names), String));
  }

  async markIodefReportSent(id: number, at: string): Promise<void> {
    this.stmt(
      'UPDATE iodef_outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ? AND sent_at IS NULL',
    ).run(at, id);
  }

  async markIodefReportFailed(id: number, error: string, nextAttemptAt: string | null): Promise<void> {
    if (nextAttemptAt === null)
      this.stmt(
        'UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ?, gave_up_at = ? WHERE id = ? AND sent_at IS NULL',
      ).run(cleanText(error), nowIso(), id);
    else
      this.stmt(
        'UPDATE iodef_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ? AND sent_at IS NULL',
      ).run(cleanText(error), nextAttemptAt, id);
  }

  async listIodefOutbox(): Promise<IodefOutboxRecord[]> {
    const rows = this.stmt('SELECT * FROM iodef_outbox ORDER BY id').all() as Row[];
    return rows.map((row) => iodefOutboxFromRow(row, parseJson<unknown>(row.names), String));
  }

  async storeReceivedIodef(r: IodefReceivedInput, quota?: IodefReceivedQuota): Promise<IodefStoreResult> {
    checkIodefReceived(r);
    if (quota !== undefined) checkIodefQuota(quota);
    const document = cleanText(r.document);
    const bytes = Buffer.byteLength(r.document, 'utf8');
    // One IMMEDIATE transaction: dedup, quota, the related reports and the insert see one table.
    const tx = this.db.transaction((): IodefStoreResult => {
      const dup = this.stmt('SELECT id FROM iodef_received WHERE fingerprint = ?').get(r.fingerprint) as
        Row | undefined;
      if (dup) return { outcome: 'duplicate', id: Number(dup.id) };
      if (quota !== undefined) {
        const used = this.stmt(
          'SELECT COUNT(*) AS n, COALESCE(SUM(document_bytes), 0) AS b FROM iodef_received WHERE received_at >= ?',
        ).get(quota.since) as Row;
        const reports = Number(used.n);
        const usedBytes = Number(used.b);
        if (reports + 1 > quota.maxReports || usedBytes + bytes > quota.maxBytes)
          return { outcome: 'over-quota', reports, bytes: usedBytes };
      }
      const related =
        r.incidentKey === null
          ? []
          : (
              this.stmt(
                `SELECT id, sender, document_sha256, (document_sha256 IS NULL AND document = ?) AS same_text
                 FROM iodef_received WHERE incident_key = ? ORDER BY id LIMIT 20`,
              ).all(document, r.incidentKey) as Row[]
            ).map((row) => ({
              id: Number(row.id),
              sender: String(row.sender),
              sameDocument: sameIodefDocument(row, r.documentSha256),
            }));
      const conflict = related.some((x) => !x.sameDocument);
      const inserted = this.stmt(
        `INSERT INTO iodef_received (fingerprint, sender, channel, received_at, schema_valid, summary, document,
           sender_key, document_sha256, incident_key, document_bytes, conflict)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        r.fingerprint,
        cleanText(r.sender),
        r.channel,
        r.receivedAt,
        r.schemaValid ? 1 : 0,
        toJsonText(r.summary),
        document,
        cleanText(r.senderKey),
        r.documentSha256,
        r.incidentKey,
        bytes,
        conflict ? 1 : 0,
      );
      return { outcome: 'stored', id: Number(inserted.lastInsertRowid), conflict, related };
    });
    return tx.immediate();
  }

  async deleteReceivedIodefBefore(cutoff: string): Promise<number> {
    if (Number.isNaN(Date.parse(cutoff))) throw invalidArgument('retention cutoff must be an ISO time');
    return this.stmt('DELETE FROM iodef_received WHERE received_at < ?').run(cutoff).changes;
  }

  async listReceivedIodef(): Promise<IodefReceivedRecord[]> {
    const rows = this.stmt('SELECT * FROM iodef_received ORDER BY id').all() as Row[];
    return rows.map((row) => iodefReceivedFromRow(row, parseJson<unknown>(row.summary), String));
  }

  async putLogHealth(r: LogHealthRecord): Promise<void> {
    const h = checkLogHealth(r);
    this.stmt(
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
  }

  async listLogHealth(): Promise<LogHealthRecord[]> {
    return (this.stmt('SELECT * FROM log_health ORDER BY log_id').all() as Row[]).map(logHealthFromRow);
  }

  async putMonitorStatus(patch: Partial<MonitorStatusRecord>): Promise<void> {
    // Read-merge-write in one IMMEDIATE transaction: two writers patching different fields both win.
    const write = this.db.transaction(() => {
      const row = this.stmt('SELECT * FROM monitor_status WHERE id = 1').get() as Row | undefined;
      const s = mergeMonitorStatus(
        row === undefined ? EMPTY_MONITOR_STATUS : monitorStatusFromRow(row),
        patch,
      );
      this.stmt(
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
        s.monitoredLogIds === null ? null : JSON.stringify(s.monitoredLogIds),
      );
    });
    write.immediate();
  }

  async getMonitorStatus(): Promise<MonitorStatusRecord> {
    const row = this.stmt('SELECT * FROM monitor_status WHERE id = 1').get() as Row | undefined;
    return row === undefined ? { ...EMPTY_MONITOR_STATUS } : monitorStatusFromRow(row);
  }
}

export interface SqliteOpenOptions {
  /**
   * Read an existing state only: nothing is created (no directory, no database, no lock file),
   * `migrate()` only checks the schema, writes fail. A missing state is `STORE_NOT_FOUND`.
   * SQLite itself may still create its `-wal`/`-shm` index files beside an existing database
   * (with the database's mode) to read it consistently while a monitor writes. The state may
   * belong to another user (a plugin run as `nagios`): see `openReader`.
   */
  readOnly?: boolean;
}

/**
 * Opens (creating if needed, with its directory) the SQLite state at `path`. Call `migrate()`
 * before use, and `lock(owner)` to be the one process that writes it.
 *
 * The directory must be private (created 0700; an existing one ours and not group/world-writable;
 * 2750 when shared read-only with a group: database 0640, rollback journal) and neither the database nor its side files (`-wal`, `-shm`, `-journal`, `.lock`) may be
 * symlinks: SQLite opens them by name and would follow a link planted there (`state-files`).
 */
export async function openSqliteStore(path: string, options: SqliteOpenOptions = {}): Promise<Store> {
  const dir = dirname(path);
  if (options.readOnly === true) return openReader(path);
  await ensureStateDir(dir);
  for (const file of sqliteFiles(path)) await refuseSymlink(file);
  // Shared read-only with a group (`monitor --group`): see journalModeFor.
  const shared = await stateDirIsShared(dir);
  let db: Db | undefined;
  try {
    await createPrivate(path, shared ? SHARED_FILE_MODE : PRIVATE_FILE_MODE);
    // The run lock stays private: readers never take it.
    await createPrivate(`${path}.lock`);
    db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    const want = journalModeFor(shared);
    const mode = db.pragma(`journal_mode = ${want}`, { simple: true });
    if (mode !== want) throw new Error(`${want.toUpperCase()} journal not available (got ${String(mode)})`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Keep the WAL file from staying at its high-water mark after a long read blocked checkpoints.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    return new SqliteStore(db, path);
  } catch (cause) {
    db?.close();
    throw new CertvigilError(
      'STORE_UNAVAILABLE',
      `cannot open SQLite database ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
}

/**
 * WAL for a private state; the rollback journal (DELETE) for one shared read-only with a group.
 *
 * Why: a WAL database can be read by a user who may not write its directory only while its -wal
 * and -shm files exist (sqlite.org/wal.html, "Read-Only Databases": since 3.22.0 a read-only WAL
 * database opens if "the -shm and -wal files already exist and are readable", or the directory is
 * writable so they can be created, or the connection is `immutable`). SQLite deletes both when the
 * last writer closes (wal.html §"The WAL File"), so between two `monitor --once` runs, or while the
 * daemon is stopped, `check monitor` as the `nagios` user would fail with "attempt to write a
 * readonly database" (SQLITE_READONLY_DIRECTORY). `immutable=1` is no way out: the file does
 * change under a running monitor, and SQLite may then return wrong results or SQLITE_CORRUPT. A
 * rollback-journal database needs nothing but read access and a shared POSIX lock, which a
 * read-only descriptor may take. The price: a reader and a commit wait for each other (busy
 * timeout, BUSY_TIMEOUT_MS) instead of running side by side; plugin reads take milliseconds.
 */
export function journalModeFor(shared: boolean): 'wal' | 'delete' {
  return shared ? 'delete' : 'wal';
}

/** How a read-only open failed, and what to do about it, for a user who is not the state's owner. */
function readerHint(code: string | undefined, path: string): string {
  const uid = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  if (code === 'EACCES')
    return `${path} is not readable by you${uid}: the state is private to the user that runs the monitor; share it read-only with your group with \`certvigil monitor --group GROUP\` (docs/monitoring-plugin.md)`;
  if (code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN')
    return `${path} is in WAL mode and no writer has it open, and you${uid} may not create its -wal/-shm files: share the state directory with \`certvigil monitor --group GROUP\`, which switches it to a journal readers can read without writing (docs/monitoring-plugin.md)`;
  return '';
}

/** Read-only: create, migrate and lock nothing; the state may belong to another user (a plugin). */
async function openReader(path: string): Promise<Store> {
  const dir = dirname(path);
  const fail = (cause: unknown, code?: string): never => {
    const hint = readerHint(code ?? (cause as { code?: string }).code, path);
    throw new CertvigilError(
      'STORE_UNAVAILABLE',
      hint !== ''
        ? `cannot open SQLite database: ${hint}`
        : `cannot open SQLite database ${path}: ${(cause as Error).message}`,
      { cause },
    );
  };
  let present: boolean;
  try {
    present = (await checkStateDir(dir, { reader: true })) && (await exists(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EACCES') return fail(err);
    throw err;
  }
  if (!present) throw noState(dir);
  for (const file of sqliteFiles(path)) await refuseSymlink(file);
  await access(path, constants.R_OK).catch((err: unknown) => fail(err));
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // SQLite opens lazily: read the schema now, so that a database this user cannot read fails
    // here with its reason, not later as "no certvigil state".
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return new SqliteStore(db, path, true);
  } catch (cause) {
    db?.close();
    return fail(cause);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
