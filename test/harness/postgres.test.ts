/**
 * Checks the PostgreSQL test server itself: it accepts connections on 127.0.0.1 only, hands out
 * separate databases, and stop() leaves no process and no directory behind.
 */
import { existsSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from './postgres.js';
import type { PostgresServer } from './postgres.js';
import { processesMentioning } from './processes.js';

describe('PostgreSQL test server', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('accepts connections on the loopback URL it returns', async () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/certvigil_1$/);
    const sql = postgres(server.url, { max: 1, onnotice: () => undefined });
    try {
      const [row] = await sql<{ version: string; addr: string; db: string }[]>`
        SELECT version() AS version, inet_server_addr()::text AS addr, current_database() AS db`;
      expect(row?.version).toMatch(/^PostgreSQL \d+/);
      expect(row?.addr).toBe('127.0.0.1/32');
      expect(row?.db).toBe('certvigil_1');
    } finally {
      await sql.end();
    }
  });

  it('creates separate databases on demand', async () => {
    const a = await server.createDatabase();
    const b = await server.createDatabase();
    expect(a).not.toBe(b);
    const sqlA = postgres(a, { max: 1, onnotice: () => undefined });
    const sqlB = postgres(b, { max: 1, onnotice: () => undefined });
    try {
      await sqlA`CREATE TABLE only_in_a (x int)`;
      const [row] = await sqlB<
        { n: string }[]
      >`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'only_in_a'`;
      expect(Number(row?.n)).toBe(0);
    } finally {
      await Promise.all([sqlA.end(), sqlB.end()]);
    }
  });

  it('stop() ends the server and removes its directory', async () => {
    const other = await startPostgres();
    expect(processesMentioning(other.workDir).length).toBeGreaterThan(0);
    await other.stop();
    await other.stop(); // twice is fine
    expect(processesMentioning(other.workDir)).toEqual([]);
    expect(existsSync(other.workDir)).toBe(false);
    const sql = postgres(other.url, { max: 1, connect_timeout: 2, onnotice: () => undefined });
    await expect(sql`SELECT 1`).rejects.toThrow();
    await sql.end();
  });
});
