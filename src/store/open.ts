/**
 * @module store/open
 * The one place that picks an engine: SQLite in the state directory unless a PostgreSQL URL is
 * configured. Only the CLI and the daemon call it (they alone build concrete I/O).
 */
import { join } from 'node:path';
import { CertvigilError } from '../errors.js';
import type { Store } from './types.js';

export interface StoreLocation {
  /**
   * Where the SQLite file `certvigil.sqlite3` (and its `.lock`) lives; created 0700 if missing. An
   * existing one must be the user's own and not group/world-writable (`STATE_UNSAFE`).
   */
  stateDir: string;
  /** `postgres://` or `postgresql://` URL: use PostgreSQL instead. */
  databaseUrl?: string;
  /**
   * For commands that only read: create nothing (no directory, database or schema), refuse to
   * migrate or lock; a missing state is `STORE_NOT_FOUND` ("no certvigil state at …").
   */
  readOnly?: boolean;
}

export const SQLITE_FILE_NAME = 'certvigil.sqlite3';

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/** Opens the configured store; the caller runs `migrate()` (and `lock()` to write). */
export async function openStore(location: StoreLocation): Promise<Store> {
  const url = location.databaseUrl;
  if (url !== undefined && url !== '') {
    if (!POSTGRES_URL.test(url))
      throw new CertvigilError(
        'CONFIG_INVALID',
        'the database URL must start with postgres:// or postgresql:// (leave it out to use SQLite in the state directory)',
      );
    // Loaded on demand: a SQLite user never loads the PostgreSQL client, and vice versa.
    const { openPostgresStore } = await import('./postgres.js');
    return openPostgresStore(url, { readOnly: location.readOnly === true });
  }
  const { openSqliteStore } = await import('./sqlite.js');
  return openSqliteStore(join(location.stateDir, SQLITE_FILE_NAME), { readOnly: location.readOnly === true });
}
