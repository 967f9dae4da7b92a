/**
 * @module store/postgres
 * The shared store: PostgreSQL through `postgres` (porsager), the same schema and behaviour as
 * the SQLite store (store.test.ts runs one suite against both). This file connects and assembles
 * the `Store` from one implementation per role (`roles/`), one file each in `store/postgres/`:
 * the connection (`StoreLifecycle`: schema and run lock), log state, work units (many workers),
 * issuances and their import, inventory, alerts, MITM records, the iodef outbox and inbox, health,
 * the web server's access control, host inventories and domain audits.
 *
 * Where the code differs from the SQLite files, it is for the network or for several processes
 * at once: see `store/postgres/batch-inserts.ts` (set-based inserts in one key order),
 * `store/postgres/log-state.ts` (a cursor-only batch in one UPDATE), `store/postgres/work-units.ts`
 * (SKIP LOCKED) and the table locks of the iodef outbox and inbox.
 *
 * JSON goes over the wire as the text `codec.toJsonText` made (the same text SQLite stores), cast
 * `${text}::text::jsonb`: a bare `$1::jsonb` makes the server type the parameter jsonb, and the
 * driver then JSON-encodes our JSON text a second time.
 *
 * The run lock is a session-level advisory lock on a dedicated connection; see
 * `PostgresConnection.lock`.
 */
import postgres from 'postgres';
import { CertvigilError } from '../errors.js';
import { postgresAccess } from './postgres/access.js';
import { postgresAlerts } from './postgres/alerts.js';
import { postgresBackfill } from './postgres/backfill.js';
import { PostgresConnection, clientOptions, redact } from './postgres/connection.js';
import type { Sql } from './postgres/connection.js';
import { postgresDomainAudits } from './postgres/domain-audits.js';
import { postgresHealth } from './postgres/health.js';
import { postgresHostInventory } from './postgres/host-inventory.js';
import { postgresIodefInbox } from './postgres/iodef-inbox.js';
import { postgresIodefOutbox } from './postgres/iodef-outbox.js';
import { postgresInventory } from './postgres/inventory.js';
import { postgresIssuances } from './postgres/issuances.js';
import { postgresLogState } from './postgres/log-state.js';
import { postgresMitm } from './postgres/mitm.js';
import { postgresWorkUnits } from './postgres/work-units.js';
import type { Store } from './types.js';

/**
 * The `Store` over one pool: each role's implementation runs its SQL through it; `commitBatch`,
 * `setVerifiedHead`, `rewindCursor` and the work-unit writes check the run lock.
 */
function postgresStore(sql: Sql, url: string, readOnly: boolean): Store {
  const c = new PostgresConnection(sql, url, readOnly);
  return {
    kind: 'postgres',
    migrate: () => c.migrate(),
    lock: (owner) => c.lock(owner),
    close: () => c.close(),
    ...postgresLogState(c),
    ...postgresIssuances(sql),
    ...postgresBackfill(sql),
    ...postgresInventory(sql),
    ...postgresAlerts(sql),
    ...postgresMitm(sql),
    ...postgresIodefOutbox(sql),
    ...postgresIodefInbox(sql),
    ...postgresHealth(sql),
    ...postgresAccess(sql),
    ...postgresHostInventory(sql),
    ...postgresDomainAudits(sql),
    ...postgresWorkUnits(c),
  };
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
  return postgresStore(sql, url, readOnly);
}
