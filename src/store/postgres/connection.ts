/**
 * @module store/postgres/connection
 * One open PostgreSQL state: the connection pool, the schema (`migrate`, idempotent, serialised
 * across processes by a transaction-level advisory lock) and the run lock (`lock`: at most one
 * writing process per database, held by a dedicated session and released when that session ends,
 * also on SIGKILL). `checkLock` lets a writer refuse once that session is lost. The other files of
 * `store/postgres/` run their SQL through it.
 */
import { hostname } from 'node:os';
import postgres from 'postgres';
import { CertvigilError, hasErrorCode } from '../../errors.js';
import { cleanText, nowIso, toNumber } from '../codec.js';
import { StoreLockedError, checkReadableVersion, describeHolder, noState } from '../errors.js';
import type { LockHolder } from '../errors.js';
import { LATEST_VERSION, pendingMigrations, schemaMigrationsTable } from '../migrations.js';
import { POSTGRES_COLUMNS, lockHolderFromRow, readOnlyLock } from '../rows.js';
import type { Row } from '../rows.js';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/**
 * Advisory lock keys, two-int4 form: (class, id). Advisory locks are per database, so one pair
 * per purpose is enough. The class is 'cvgl' in ASCII.
 */
const LOCK_CLASS = 0x6376676c;
const RUN_LOCK_ID = 1;
const MIGRATION_LOCK_ID = 2;
/** Held while a worker drains the alert outbox (`withDeliveryLock`). */
export const DELIVERY_LOCK = { classId: LOCK_CLASS, id: 3 } as const;

export function clientOptions(
  applicationName: string,
): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    // The library never prints: `CREATE TABLE IF NOT EXISTS` notices would go to console.log.
    onnotice: () => undefined,
    connect_timeout: 10,
    connection: { application_name: applicationName },
  };
}

/**
 * Whether a failure means the server session ended under a transaction (an administrator's
 * pg_terminate_backend, a server restart, a dropped connection): the transaction was rolled back,
 * nothing it wrote is there.
 */
export function isSessionLost(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  // SQLSTATE 25P03 idle_in_transaction_session_timeout, class 57 operator intervention, class 08
  // connection exception; the driver's own codes for a connection that went away.
  return (
    code === '25P03' ||
    code.startsWith('57P') ||
    code.startsWith('08') ||
    code === 'CONNECTION_CLOSED' ||
    code === 'CONNECTION_ENDED' ||
    code === 'CONNECTION_DESTROYED'
  );
}

/** SQLSTATE 42P01: undefined_table (the schema is not there yet). */
function isUndefinedTable(err: unknown): boolean {
  return (err as { code?: unknown }).code === '42P01';
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
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export class PostgresConnection {
  private lockSql: Sql | null = null;
  /** Set when the lock's connection closed under us: the lock is gone, stop writing. */
  private lockLost = false;
  private closing = false;

  constructor(
    readonly sql: Sql,
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
      if (r !== undefined) holder = lockHolderFromRow(r, POSTGRES_COLUMNS);
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
    if (this.readOnly) throw readOnlyLock();
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

  /** Refuses a write once the run lock's session is gone: another process may be running now. */
  checkLock(): void {
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
}
