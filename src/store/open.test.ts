/**
 * openStore picks the engine from the configuration: SQLite in the state directory by default,
 * PostgreSQL for a postgres:// or postgresql:// URL, an error for anything else.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '../../test/harness/postgres.js';
import type { PostgresServer } from '../../test/harness/postgres.js';
import { findFreePort } from '../../test/harness/processes.js';
import { SQLITE_FILE_NAME, openStore } from './open.js';

describe('openStore', () => {
  let dir = '';
  let server: PostgresServer;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certvigil-open-'));
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('opens SQLite in the state directory, creating it, readable by the owner only', async () => {
    const stateDir = join(dir, 'a', 'state');
    const store = await openStore({ stateDir });
    try {
      expect(store.kind).toBe('sqlite');
      await store.migrate();
      expect(await store.listCursors()).toEqual([]);
    } finally {
      await store.close();
    }
    expect(statSync(join(stateDir, SQLITE_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, `${SQLITE_FILE_NAME}.lock`)).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('opens PostgreSQL for a postgres:// or postgresql:// URL', async () => {
    for (const databaseUrl of [server.url, server.url.replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore({ stateDir: join(dir, 'unused'), databaseUrl });
      try {
        expect(store.kind).toBe('postgres');
        await store.migrate();
      } finally {
        await store.close();
      }
    }
  });

  it('reports a database it cannot reach, and a URL it does not understand', async () => {
    const port = await findFreePort();
    const unreachable = openStore({ stateDir: dir, databaseUrl: `postgres://u:secret@127.0.0.1:${port}/x` });
    await expect(unreachable).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await expect(unreachable).rejects.not.toThrow(/secret/);
    await expect(openStore({ stateDir: dir, databaseUrl: 'mysql://x/y' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});
