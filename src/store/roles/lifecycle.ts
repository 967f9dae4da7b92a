/**
 * @module store/roles/lifecycle
 * The store as a whole: which engine it is, its schema, its run lock and its end.
 */

/**
 * Opening, upgrading, locking and closing a store (`openStore` gives one).
 *
 * Guarantees:
 * - `migrate` is idempotent and safe when processes start at once: each upgrade step is applied
 *   exactly once, in one transaction with its `schema_migrations` row (SQLite: an IMMEDIATE
 *   transaction; PostgreSQL: serialised by a transaction-level advisory lock). A store opened
 *   read-only only checks the schema version (STORE_NOT_FOUND without a schema, STORE_MIGRATION
 *   when it is older than this certvigil) and creates nothing.
 * - `lock` is exclusive per state, held until `close()` and released by the operating system or
 *   the server when the process dies in any way (SIGKILL included): SQLite, an OS lock on the file
 *   `<db>.lock` (also refused to a second store in the same process); PostgreSQL, a session-level
 *   advisory lock on a connection of its own (a vanished client host keeps it until the server's
 *   TCP keepalive gives up). Once that PostgreSQL session is lost, `commitBatch`,
 *   `setVerifiedHead`, `rewindCursor` and the work-unit writes refuse with STORE_LOCKED; the other
 *   writes do not check it. Several `monitor` workers sharing one PostgreSQL database do not take
 *   it: the work units coordinate them.
 * - `close` is idempotent; the run lock goes last, after everything this store wrote.
 */
export interface StoreLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema (idempotent). */
  migrate(): Promise<void>;
  /**
   * Takes the exclusive run lock for this state (two monitors on one state refuse to run).
   * Throws StoreLockedError naming the holder. Released by `close()` or when the process dies.
   * Migrates first (the holder's label is a row of the schema); a read-only store refuses
   * (STORE_INVALID_ARGUMENT).
   */
  lock(owner: string): Promise<void>;
  /** Ends every connection (idempotent); the run lock, if taken, is released last. */
  close(): Promise<void>;
}
