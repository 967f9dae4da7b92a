/**
 * @module store/sqlite
 * The embedded store: one SQLite file (better-sqlite3, synchronous calls behind the async
 * `Store` interface) and a lock file beside it. This file opens it (the state directory, the file
 * modes, the journal) and assembles the `Store` from one implementation per role (`roles/`), one
 * file each in `store/sqlite/`: the connection (`StoreLifecycle`: schema and run lock), log state,
 * work units (one worker), issuances and their import, inventory, alerts, MITM records, the iodef
 * outbox and inbox, health, the web server's access control, host inventories and domain audits.
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
 * The run lock is an OS lock that dies with its process; see `store/sqlite/connection.ts`.
 */
import Database from 'better-sqlite3';
import { constants } from 'node:fs';
import { access, lstat, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CertvigilError } from '../errors.js';
import {
  checkStateDir,
  ensureStateDir,
  PRIVATE_FILE_MODE,
  refuseSymlink,
  SHARED_FILE_MODE,
  sqliteFiles,
  stateDirIsShared,
} from '../state-files.js';
import { noState } from './errors.js';
import { sqliteAccess } from './sqlite/access.js';
import { sqliteAlerts } from './sqlite/alerts.js';
import { BUSY_TIMEOUT_MS, SqliteConnection } from './sqlite/connection.js';
import type { Db } from './sqlite/connection.js';
import { sqliteDomainAudits } from './sqlite/domain-audits.js';
import { sqliteHealth } from './sqlite/health.js';
import { sqliteHostInventory } from './sqlite/host-inventory.js';
import { sqliteIodefInbox } from './sqlite/iodef-inbox.js';
import { sqliteIodefOutbox } from './sqlite/iodef-outbox.js';
import { sqliteInventory } from './sqlite/inventory.js';
import { sqliteBackfill } from './sqlite/backfill.js';
import { sqliteIssuances } from './sqlite/issuances.js';
import { sqliteLogState } from './sqlite/log-state.js';
import { sqliteMitm } from './sqlite/mitm.js';
import { sqliteWorkUnits } from './sqlite/work-units.js';
import type { Store } from './types.js';

/** The `Store` over one connection: each role's implementation runs its SQL through `c`. */
function sqliteStore(db: Db, path: string, readOnly = false): Store {
  const c = new SqliteConnection(db, path, readOnly);
  return {
    kind: 'sqlite',
    migrate: () => c.migrate(),
    lock: (owner) => c.lock(owner),
    close: () => c.close(),
    ...sqliteLogState(c),
    ...sqliteIssuances(c),
    ...sqliteBackfill(c),
    ...sqliteInventory(c),
    ...sqliteAlerts(c),
    ...sqliteMitm(c),
    ...sqliteIodefOutbox(c),
    ...sqliteIodefInbox(c),
    ...sqliteHealth(c),
    ...sqliteAccess(c),
    ...sqliteHostInventory(c),
    ...sqliteDomainAudits(c),
    ...sqliteWorkUnits(c),
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
    return sqliteStore(db, path);
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
    return sqliteStore(db, path, true);
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
