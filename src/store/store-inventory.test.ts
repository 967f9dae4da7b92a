/**
 * The store's inventory and ACME authorizations, and opening a state read-only (issue 12), in both
 * engines (SQLite and a real PostgreSQL from test/harness/postgres.ts), with the same expectations
 * for each. Split from store.test.ts, which keeps migrations, cursors, batches, issuances, malformed
 * entries and alerts.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, sha256Hex, startEngine, codeOf } from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { InventoryRecord, Store } from './types.js';

describe.each(ENGINES)('%s store', (kind) => {
  let engine: EngineHarness;
  let state: FreshState;
  let store: Store;

  beforeAll(async () => {
    engine = await startEngine(kind);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** A migrated store on a fresh state, closed after the test. */
  async function fresh(): Promise<Store> {
    state = await engine.fresh();
    store = await state.open();
    await store.migrate();
    return store;
  }
  afterEach(async () => {
    await store?.close();
    await state?.dispose();
  });

  describe('inventory and authorizations', () => {
    const record = (source: string, path: string, n: number): InventoryRecord => ({
      source,
      path,
      certSha256: sha256Hex(`inv cert ${n}`),
      tbsSha256: sha256Hex(`inv tbs ${n}`),
      spkiSha256: sha256Hex(`inv spki ${n}`),
      dnsNames: [`n${n}.example.com`],
      issuer: 'CN=R11',
      notBefore: '2025-01-01T00:00:00Z',
      notAfter: '2025-04-01T00:00:00Z',
    });

    it('replaces the inventory of one source at a time', async () => {
      await fresh();
      const certbot = [
        record('certbot', '/etc/letsencrypt/live/b/cert.pem', 1),
        record('certbot', '/etc/letsencrypt/live/a/cert.pem', 2),
      ];
      await store.replaceInventory('certbot', certbot);
      await store.replaceInventory('pem', [record('pem', '/srv/x.pem', 3)]);
      expect((await store.listInventory()).map((r) => [r.source, r.path])).toEqual([
        ['certbot', '/etc/letsencrypt/live/a/cert.pem'],
        ['certbot', '/etc/letsencrypt/live/b/cert.pem'],
        ['pem', '/srv/x.pem'],
      ]);
      const upper = { ...record('certbot', '/c.pem', 4), certSha256: sha256Hex('inv cert 4').toUpperCase() };
      await store.replaceInventory('certbot', [upper, upper]);
      expect(await store.listInventory()).toEqual([
        { ...upper, certSha256: sha256Hex('inv cert 4') },
        record('pem', '/srv/x.pem', 3),
      ]);
      await store.replaceInventory('certbot', []);
      expect((await store.listInventory()).map((r) => r.source)).toEqual(['pem']);
      expect(await codeOf(store.replaceInventory('pem', [record('certbot', '/x', 5)]))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
    });

    it('records authorizations by hash, once per hash', async () => {
      await fresh();
      const h = sha256Hex('authorized');
      await store.authorize(h.toUpperCase(), 'bought from a reseller');
      await store.authorize(sha256Hex('other'), null);
      const [first] = (await store.listAuthorizations()).filter((a) => a.hash === h);
      await store.authorize(h, 'renewed');
      const list = await store.listAuthorizations();
      expect(list).toHaveLength(2);
      expect(list.find((a) => a.hash === h)).toEqual({
        hash: h,
        note: 'renewed',
        createdAt: first?.createdAt,
      });
      expect(list.find((a) => a.hash !== h)?.note).toBeNull();
      expect(await codeOf(store.authorize('abc', null))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('removes an authorization by its full hash, and says when there was none (issue 12)', async () => {
      await fresh();
      const h = sha256Hex('authorized');
      await store.authorize(h, 'temporary');
      await store.authorize(sha256Hex('kept'), null);
      expect(await store.unauthorize(h.toUpperCase())).toBe(true);
      expect((await store.listAuthorizations()).map((a) => a.hash)).toEqual([sha256Hex('kept')]);
      expect(await store.unauthorize(h)).toBe(false);
      expect(await codeOf(store.unauthorize('abc'))).toBe('STORE_INVALID_ARGUMENT');
    });
  });

  describe('read-only open (issue 12)', () => {
    it('an unmigrated state is STORE_NOT_FOUND and stays unmigrated', async () => {
      state = await engine.fresh();
      let ro: Store | undefined;
      const code = await codeOf(
        (async () => {
          ro = await state.openReadOnly();
          await ro.migrate();
        })(),
      );
      await ro?.close();
      expect(code).toBe('STORE_NOT_FOUND');
      // Nothing was created: SQLite has no database file, PostgreSQL no schema.
      if (kind === 'sqlite') expect(existsSync(state.location)).toBe(false);
      else
        expect(
          await state.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"),
        ).toEqual([]);
    });

    it('reads a migrated state, and refuses to write or lock it', async () => {
      await fresh();
      await store.authorize(sha256Hex('a'), 'note');
      const ro = await state.openReadOnly();
      try {
        await ro.migrate();
        expect((await ro.listAuthorizations()).map((a) => a.note)).toEqual(['note']);
        expect(await codeOf(ro.lock('reader'))).toBe('STORE_INVALID_ARGUMENT');
        await expect(ro.authorize(sha256Hex('b'), null)).rejects.toThrow(/read.?only/i);
      } finally {
        await ro.close();
      }
      expect(await store.listAuthorizations()).toHaveLength(1);
    });
  });
});
