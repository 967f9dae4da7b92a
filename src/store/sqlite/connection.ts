/**
 * @module store/sqlite/connection
 * One open SQLite state: the database handle with its prepared-statement cache, the schema
 * (`migrate`, idempotent, one IMMEDIATE transaction per upgrade so two processes never both apply
 * a migration) and the run lock (`lock`: at most one writing process per state, released by
 * `close()` or when the process dies in any way). The other files of `store/sqlite/` run their
 * SQL through it.
 */
import Database from 'better-sqlite3';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CertvigilError, hasErrorCode } from '../../errors.js';
import { cleanText, nowIso } from '../codec.js';
import { StoreLockedError, checkReadableVersion, describeHolder, noState } from '../errors.js';
import type { LockHolder } from '../errors.js';
import { LATEST_VERSION, pendingMigrations, schemaMigrationsTable } from '../migrations.js';
import { SQLITE_COLUMNS, lockHolderFromRow, readOnlyLock } from '../rows.js';
import type { Row } from '../rows.js';

export type Db = Database.Database;

/** How long a writer waits for another connection's write transaction (e.g. the CLI's). */
export const BUSY_TIMEOUT_MS = 5_000;

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

export class SqliteConnection {
  private readonly statements = new Map<string, Database.Statement>();
  private lockDb: Db | null = null;
  private closed = false;

  constructor(
    readonly db: Db,
    readonly path: string,
    /** Opened read-only: `migrate` only checks the schema, `lock` refuses. */
    private readonly readOnly = false,
  ) {}

  /** Prepared once per SQL text and reused: commitBatch runs thousands of these per second. */
  stmt(sql: string): Database.Statement {
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
      return r === undefined ? null : lockHolderFromRow(r, SQLITE_COLUMNS);
    } catch {
      return null; // not migrated yet
    }
  }

  async lock(owner: string): Promise<void> {
    if (this.readOnly) throw readOnlyLock();
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
}
