/**
 * openStore picks the engine from the configuration: SQLite in the state directory by default,
 * PostgreSQL for a postgres:// or postgresql:// URL, an error for anything else.
 */
import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
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

  describe('state directory and file safety (issue 12)', () => {
    let n = 0;
    const fresh = async (): Promise<string> => join(dir, `safety-${++n}`);

    it.each([
      [
        'group-writable',
        (d: string) => chmod(d, 0o770),
        /writable by its group \(mode 0770\): run `chmod 700 /,
        'STATE_UNSAFE',
      ],
      [
        'world-writable',
        (d: string) => chmod(d, 0o777),
        /writable by everyone \(mode 0777\): run `chmod 700 /,
        'STATE_UNSAFE',
      ],
      // Issue 14: a reader (a plugin run as `nagios`) may read a state owned by the monitor's user;
      // only its owner can change it, which is what matters to a reader. A writer is still refused.
      [
        'owned by another user',
        (d: string) => chown(d, 65534, 65534),
        /owned by uid 65534, not by you/,
        'STORE_NOT_FOUND',
      ],
    ])(
      'refuses a %s state directory (STATE_UNSAFE), creating nothing in it',
      async (_name, spoil, message, readerCode) => {
        const stateDir = await fresh();
        await mkdir(stateDir, { mode: 0o700 });
        await spoil(stateDir);
        for (const readOnly of [false, true]) {
          const err = await openStore({ stateDir, readOnly }).then(
            () => undefined,
            (e: unknown) => e as { code?: string; message?: string },
          );
          expect(err?.code).toBe(readOnly ? readerCode : 'STATE_UNSAFE');
          if (!readOnly) expect(err?.message).toMatch(message);
        }
        expect(await readdir(stateDir)).toEqual([]);
      },
    );

    it.each(['', '-wal', '-shm', '-journal', '.lock'])(
      'never follows a symlink at certvigil.sqlite3%s (STATE_UNSAFE; the target is untouched)',
      async (suffix) => {
        const stateDir = await fresh();
        if (suffix !== '') {
          // A real state first, so that only the side file is wrong.
          const s = await openStore({ stateDir });
          await s.migrate();
          await s.close();
        } else await mkdir(stateDir, { mode: 0o700 });
        const victim = join(dir, `victim-${n}`);
        await writeFile(victim, 'precious');
        const link = join(stateDir, `${SQLITE_FILE_NAME}${suffix}`);
        await rm(link, { force: true });
        await symlink(victim, link);
        for (const readOnly of [false, true]) {
          await expect(openStore({ stateDir, readOnly })).rejects.toMatchObject({
            code: 'STATE_UNSAFE',
            message: expect.stringMatching(/is a symbolic link: certvigil never follows links/),
          });
        }
        expect(await readFile(victim, 'utf8')).toBe('precious');
        expect(statSync(victim).mode & 0o777).not.toBe(0);
      },
    );

    it('a dangling symlink at the database path is refused too (no file created at its target)', async () => {
      const stateDir = await fresh();
      await mkdir(stateDir, { mode: 0o700 });
      const target = join(dir, `created-through-link-${n}`);
      await symlink(target, join(stateDir, SQLITE_FILE_NAME));
      await expect(openStore({ stateDir })).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
      expect(existsSync(target)).toBe(false);
    });

    it('read-only: a missing state directory or database is STORE_NOT_FOUND, and nothing is created', async () => {
      const missing = join(await fresh(), 'deeper');
      await expect(openStore({ stateDir: missing, readOnly: true })).rejects.toMatchObject({
        code: 'STORE_NOT_FOUND',
        message: `no certvigil state at ${missing} (run \`certvigil monitor\` first)`,
      });
      expect(existsSync(missing)).toBe(false);
      expect(existsSync(join(missing, '..'))).toBe(false);
      const empty = await fresh();
      await mkdir(empty, { mode: 0o700 });
      await expect(openStore({ stateDir: empty, readOnly: true })).rejects.toMatchObject({
        code: 'STORE_NOT_FOUND',
      });
      expect(await readdir(empty)).toEqual([]);
    });

    it('PostgreSQL read-only: a database without the schema is STORE_NOT_FOUND, and stays without', async () => {
      const url = await server.createDatabase();
      const ro = await openStore({ stateDir: join(dir, 'unused'), databaseUrl: url, readOnly: true });
      try {
        await expect(ro.migrate()).rejects.toMatchObject({
          code: 'STORE_NOT_FOUND',
          message: expect.stringMatching(
            /^no certvigil state at postgres:\/\/.*\(run `certvigil monitor` first\)$/,
          ),
        });
      } finally {
        await ro.close();
      }
      const rw = await openStore({ stateDir: join(dir, 'unused'), databaseUrl: url });
      try {
        // Still unmigrated: the read-only open created no table (migrate now does it from scratch).
        expect(await rw.listCursors().catch((e: { code?: string }) => e.code ?? 'error')).not.toEqual([]);
      } finally {
        await rw.close();
      }
      expect(existsSync(join(dir, 'unused'))).toBe(false);
    });
  });
});
