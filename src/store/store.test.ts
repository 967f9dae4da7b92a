/**
 * One suite, two engines: every expectation below holds for SQLite and for PostgreSQL alike (a
 * real server from test/harness/postgres.ts), which is what "implemented twice, identically" means.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION } from './migrations.js';
import {
  ENGINES,
  LOG_A,
  LOG_B,
  batch,
  issuance,
  sha256Hex,
  startEngine,
  treeOf,
  codeOf,
} from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { Store, StoredHead } from './types.js';

const head = (treeSize: number): StoredHead => ({
  treeSize,
  timestamp: 1_735_700_000_000,
  rootHash: Buffer.alloc(32, treeSize).toString('base64'),
  treeHeadSignature: 'BAMARzBFAiEA',
});

const cursorInit = (logId: string, position = 0) => ({
  logId,
  url: `https://ct.example/${logId === LOG_A ? 'a' : 'b'}/`,
  kind: 'rfc6962' as const,
  description: logId === LOG_A ? 'Log A' : 'Log B',
  position,
  tree: treeOf(position),
});

/** Everything observable through the interface, for "nothing changed" comparisons. */
async function snapshot(store: Store): Promise<unknown> {
  return {
    cursors: await store.listCursors(),
    issuances: await store.listIssuances(),
    malformed: await store.listMalformed(),
    alerts: await store.listAlerts(),
    inventory: await store.listInventory(),
    authorizations: await store.listAuthorizations(),
  };
}

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

  describe('migrations', () => {
    it('are idempotent, also run concurrently by two stores', async () => {
      state = await engine.fresh();
      store = await state.open();
      const other = await state.open();
      try {
        await Promise.all([store.migrate(), other.migrate()]);
        await store.migrate();
        await other.migrate();
      } finally {
        await other.close();
      }
      const versions = await state.query('SELECT version, name FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => Number(v.version))).toEqual(
        Array.from({ length: LATEST_VERSION }, (_, i) => i + 1),
      );
      expect(await store.listCursors()).toEqual([]);
    });

    it('refuse a database migrated by a newer certvigil', async () => {
      await fresh();
      await state.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        LATEST_VERSION + 1,
        'from the future',
        new Date().toISOString(),
      ]);
      const reopened = await state.open();
      try {
        expect(await codeOf(reopened.migrate())).toBe('STORE_MIGRATION');
      } finally {
        await reopened.close();
      }
    });
  });

  describe('cursors', () => {
    it('are created once and read back', async () => {
      await fresh();
      expect(await store.getCursor(LOG_A)).toBeNull();
      const created = await store.ensureCursor(cursorInit(LOG_A, 0));
      expect(created).toEqual({
        ...cursorInit(LOG_A, 0),
        verified: null,
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      // ensureCursor never overwrites: the stored cursor wins.
      expect(await store.ensureCursor(cursorInit(LOG_A, 500))).toEqual(created);
      await store.ensureCursor(cursorInit(LOG_B, 7));
      expect((await store.listCursors()).map((c) => [c.logId, c.position])).toEqual([
        [LOG_A, 0],
        [LOG_B, 7],
      ]);
      expect(await codeOf(store.ensureCursor({ ...cursorInit(LOG_B), tree: treeOf(3) }))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
    });

    it('keep a verified head no larger than the stored tree', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.commitBatch(batch(LOG_A, 0, 10));
      await store.setVerifiedHead(LOG_A, head(10));
      expect((await store.getCursor(LOG_A))?.verified).toEqual(head(10));
      await store.setVerifiedHead(LOG_A, head(4));
      expect((await store.getCursor(LOG_A))?.verified).toEqual(head(4));
      expect(await codeOf(store.setVerifiedHead(LOG_A, head(11)))).toBe('STORE_CONFLICT');
      expect(await codeOf(store.setVerifiedHead(LOG_B, head(0)))).toBe('STORE_CONFLICT');
      expect((await store.getCursor(LOG_A))?.verified).toEqual(head(4));
    });

    it('keep the verified tree with its head, and rewind the download position to it (issue 13)', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.commitBatch(batch(LOG_A, 0, 10));
      await store.setVerifiedHead(LOG_A, head(6), treeOf(6));
      const c = await store.getCursor(LOG_A);
      expect(c?.verified).toEqual(head(6));
      expect(c?.verifiedTree).toEqual(treeOf(6));
      expect(await codeOf(store.setVerifiedHead(LOG_A, head(6), treeOf(5)))).toBe('STORE_INVALID_ARGUMENT');
      // Compare-and-set on the position; never forward.
      expect(await codeOf(store.rewindCursor(LOG_A, 9, { position: 6, tree: treeOf(6) }))).toBe(
        'STORE_CONFLICT',
      );
      expect(await codeOf(store.rewindCursor(LOG_A, 10, { position: 11, tree: treeOf(11) }))).toBe(
        'STORE_INVALID_ARGUMENT',
      );
      await store.rewindCursor(LOG_A, 10, { position: 6, tree: treeOf(6) });
      const r = await store.getCursor(LOG_A);
      expect(r).toMatchObject({ position: 6, tree: treeOf(6), verified: head(6), verifiedTree: treeOf(6) });
      // The entries after it can be committed again (a replay adds nothing twice).
      await store.commitBatch(batch(LOG_A, 6, 10));
      expect((await store.getCursor(LOG_A))?.position).toBe(10);
    });
  });

  describe('commitBatch', () => {
    it('stores issuances, entries, names, malformed entries, alerts and the new position at once', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 100));
      const before = Date.now();
      const watched = issuance({
        index: 103,
        dnsNames: ['b.example.com', 'a.example.com'],
        ipAddresses: ['192.0.2.1'],
      });
      await store.commitBatch(
        batch(LOG_A, 100, 110, {
          issuances: [watched],
          malformed: [{ logId: LOG_A, index: 105, error: 'bad DER' }],
          alerts: [
            { key: `issuance:${watched.tbsSha256}`, kind: 'issuance', payload: { names: watched.dnsNames } },
          ],
        }),
      );
      const after = Date.now();

      const cursor = await store.getCursor(LOG_A);
      expect(cursor?.position).toBe(110);
      expect(cursor?.tree).toEqual(treeOf(110));
      const [stored, ...rest] = await store.listIssuances();
      expect(rest).toEqual([]);
      expect(stored).toEqual({
        tbsSha256: watched.tbsSha256,
        certSha256s: [watched.certSha256],
        dnsNames: ['b.example.com', 'a.example.com'], // as first seen, not sorted
        ipAddresses: ['192.0.2.1'],
        issuer: watched.issuer,
        serial: watched.serial,
        notBefore: watched.notBefore,
        notAfter: watched.notAfter,
        spkiSha256: watched.spkiSha256,
        keyType: watched.keyType,
        firstSeen: expect.any(String),
        entries: [{ logId: LOG_A, index: 103, type: 'x509', timestamp: watched.timestamp }],
      });
      const firstSeen = Date.parse(stored?.firstSeen ?? '');
      expect(firstSeen).toBeGreaterThanOrEqual(before);
      expect(firstSeen).toBeLessThanOrEqual(after);
      expect(await store.listMalformed()).toEqual([
        { logId: LOG_A, index: 105, error: 'bad DER', createdAt: stored?.firstSeen },
      ]);
      expect(await store.listAlerts()).toEqual([
        {
          id: expect.any(Number),
          key: `issuance:${watched.tbsSha256}`,
          kind: 'issuance',
          payload: { names: ['b.example.com', 'a.example.com'] },
          createdAt: stored?.firstSeen,
          deliveredAt: null,
          attempts: 0,
          lastError: null,
        },
      ]);
      expect(await store.issuancesForName('a.example.com')).toEqual([stored]);
    });

    it('merges a precertificate and its final certificate into one issuance', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.ensureCursor(cursorInit(LOG_B, 0));
      const tbs = sha256Hex('shared tbs');
      const pre = issuance({
        index: 7,
        tbsSha256: tbs,
        type: 'precert',
        logId: LOG_B,
        certSha256: 'f'.repeat(64),
      });
      await store.commitBatch(batch(LOG_B, 0, 10, { issuances: [pre] }));
      const [first] = await store.listIssuances();
      // The final certificate: another cert hash, another log; a differing descriptive column
      // shows that the first writer's columns stay.
      const final = issuance({
        index: 2,
        tbsSha256: tbs,
        logId: LOG_A,
        certSha256: '0'.repeat(64),
        keyType: 'other',
      });
      const unknownCert = issuance({ index: 3, tbsSha256: tbs, logId: LOG_A, certSha256: null });
      await store.commitBatch(batch(LOG_A, 0, 5, { issuances: [final, unknownCert] }));

      const all = await store.listIssuances();
      expect(all).toHaveLength(1);
      expect(all[0]).toEqual({
        ...first,
        certSha256s: ['0'.repeat(64), 'f'.repeat(64)],
        entries: [
          { logId: LOG_A, index: 2, type: 'x509', timestamp: final.timestamp },
          { logId: LOG_A, index: 3, type: 'x509', timestamp: unknownCert.timestamp },
          { logId: LOG_B, index: 7, type: 'precert', timestamp: pre.timestamp },
        ],
      });
      expect(all[0]?.keyType).toBe(pre.keyType);
      expect(all[0]?.firstSeen).toBe(first?.firstSeen);
    });

    it('refuses a stale expectedPosition and changes nothing', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.commitBatch(batch(LOG_A, 0, 10, { issuances: [issuance({ index: 1 })] }));
      await store.enqueueAlert({ key: 'health:x', kind: 'health', payload: null });
      const before = await snapshot(store);

      const stale = batch(LOG_A, 5, 20, {
        issuances: [issuance({ index: 12 })],
        malformed: [{ logId: LOG_A, index: 13, error: 'x' }],
        alerts: [{ key: 'new', kind: 'issuance', payload: 1 }],
      });
      const err = await store.commitBatch(stale).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'STORE_CONFLICT',
        logId: LOG_A,
        expectedPosition: 5,
        actualPosition: 10,
      });
      // Also when only the cursor would move (the one-UPDATE path).
      expect(await codeOf(store.commitBatch(batch(LOG_A, 5, 20)))).toBe('STORE_CONFLICT');
      expect(await codeOf(store.commitBatch(batch(LOG_B, 0, 20)))).toBe('STORE_CONFLICT');
      expect(await snapshot(store)).toEqual(before);
    });

    it('makes a replayed batch harmless: a conflict first, no duplicates from a restored position', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      const first = issuance({ index: 2 });
      const second = issuance({ index: 4, dnsNames: ['mail.example.com'] });
      const replayed = batch(LOG_A, 0, 8, {
        issuances: [first, second],
        malformed: [{ logId: LOG_A, index: 6, error: 'truncated' }],
        alerts: [
          { key: `issuance:${first.tbsSha256}`, kind: 'issuance', payload: { n: 1 } },
          { key: `issuance:${second.tbsSha256}`, kind: 'issuance', payload: { n: 2 } },
          { key: 'malformed:6', kind: 'malformed', payload: { n: 3 } },
        ],
      });
      await store.commitBatch(replayed);
      await store.markAlertDelivered((await store.listAlerts())[0]?.id ?? -1);
      const committed = await snapshot(store);

      // The process died after commit but before it learnt so: it replays with the old position.
      expect(await codeOf(store.commitBatch(replayed))).toBe('STORE_CONFLICT');
      expect(await snapshot(store)).toEqual(committed);

      // The cursor was put back (an older backup of the position, an operator): same batch again.
      await state.query('UPDATE logs SET position = ? WHERE log_id = ?', [0, LOG_A]);
      await store.commitBatch(replayed);
      const again = (await snapshot(store)) as { cursors: { updatedAt: string }[] };
      const was = committed as { cursors: { updatedAt: string }[] };
      expect({ ...again, cursors: again.cursors.map((c) => ({ ...c, updatedAt: '' })) }).toEqual({
        ...was,
        cursors: was.cursors.map((c) => ({ ...c, updatedAt: '' })),
      });
    });

    it('takes a batch of 1,000 watched entries in one commit', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      const many = Array.from({ length: 1000 }, (_, i) =>
        issuance({ index: i, dnsNames: [`host${i}.example.com`, 'www.example.com', 'example.com'] }),
      );
      await store.commitBatch(
        batch(LOG_A, 0, 1000, {
          issuances: many,
          alerts: many.map((i) => ({
            key: `issuance:${i.tbsSha256}`,
            kind: 'issuance',
            payload: { i: i.index },
          })),
        }),
      );
      expect(await store.listIssuances()).toHaveLength(1000);
      expect(await store.issuancesForName('www.example.com')).toHaveLength(1000);
      expect((await store.issuancesForName('host999.example.com'))[0]?.entries).toEqual([
        { logId: LOG_A, index: 999, type: 'x509', timestamp: many[999]?.timestamp },
      ]);
      expect(await store.pendingAlerts(5000)).toHaveLength(1000);
    });

    it('moves the cursor alone when nothing in the batch was watched', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.commitBatch(batch(LOG_A, 0, 1000));
      await store.commitBatch(batch(LOG_A, 1000, 1000)); // an empty batch is fine too
      expect((await store.getCursor(LOG_A))?.position).toBe(1000);
      expect((await store.getCursor(LOG_A))?.tree).toEqual(treeOf(1000));
      expect(await store.listIssuances()).toEqual([]);
    });

    it('rejects a batch that breaks the contract, before writing anything', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      const before = await snapshot(store);
      const bad = [
        { ...batch(LOG_A, 0, 10), tree: treeOf(9) },
        batch(LOG_A, 10, 5),
        batch(LOG_A, 0, 10, { issuances: [issuance({ index: 10 })] }),
        batch(LOG_A, 0, 10, { issuances: [issuance({ index: 1, logId: LOG_B })] }),
        batch(LOG_A, 0, 10, { issuances: [issuance({ index: 1, tbsSha256: 'ABC' })] }),
        batch(LOG_A, 0, 10, { malformed: [{ logId: LOG_A, index: 11, error: 'x' }] }),
      ];
      for (const b of bad) expect(await codeOf(store.commitBatch(b))).toBe('STORE_INVALID_ARGUMENT');
      expect(await snapshot(store)).toEqual(before);
    });

    it('stores U+0000 from hostile certificates as U+FFFD instead of failing', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      const nul = issuance({ index: 0, dnsNames: ['www.paypal.com\0.evil.example'], issuer: 'CN=\0' });
      await store.commitBatch(
        batch(LOG_A, 0, 1, {
          issuances: [nul],
          alerts: [{ key: 'k\0', kind: 'issuance', payload: { 'n\0': ['\0'], s: 'a\\u0000b' } }],
        }),
      );
      const [stored] = await store.listIssuances();
      expect(stored?.dnsNames).toEqual(['www.paypal.com\uFFFD.evil.example']);
      expect(stored?.issuer).toBe('CN=\uFFFD');
      expect((await store.issuancesForName('www.paypal.com\0.evil.example')).length).toBe(1);
      expect((await store.listAlerts())[0]).toMatchObject({
        key: 'k\uFFFD',
        payload: { 'n\uFFFD': ['\uFFFD'], s: 'a\\u0000b' },
      });
    });
  });

  describe('reading issuances', () => {
    async function seed(): Promise<{ a: string; b: string; c: string }> {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      const a = issuance({ index: 2, tbsSha256: `aaaaaaaa${'1'.repeat(56)}`, dnsNames: ['x.example.com'] });
      const b = issuance({
        index: 1,
        tbsSha256: `aaaaaaaa${'2'.repeat(56)}`,
        certSha256: `bbbbbbbb${'3'.repeat(56)}`,
        dnsNames: ['x.example.com', 'y.example.com'],
      });
      const c = issuance({
        index: 4,
        tbsSha256: `cccccccc${'4'.repeat(56)}`,
        certSha256: `aaaaaaab${'5'.repeat(56)}`,
      });
      // Three commits, so that firstSeen orders them (b first, then a, then c).
      await store.commitBatch(batch(LOG_A, 0, 2, { issuances: [b] }));
      await new Promise((r) => setTimeout(r, 5));
      await store.commitBatch(batch(LOG_A, 2, 4, { issuances: [a] }));
      await new Promise((r) => setTimeout(r, 5));
      await store.commitBatch(batch(LOG_A, 4, 6, { issuances: [c] }));
      return { a: a.tbsSha256, b: b.tbsSha256, c: c.tbsSha256 };
    }

    it('finds issuances by a prefix of the TBS or certificate hash', async () => {
      const { a, b, c } = await seed();
      const tbsOf = async (prefix: string) => (await store.findIssuances(prefix)).map((i) => i.tbsSha256);
      expect(await tbsOf('aaaaaaaa')).toEqual([b, a]);
      expect(await tbsOf('AAAAAAAA1')).toEqual([a]);
      expect(await tbsOf(a)).toEqual([a]);
      expect(await tbsOf('bbbbbbbb')).toEqual([b]); // certificate hash
      expect(await tbsOf('aaaaaaab')).toEqual([c]); // certificate hash next to TBS hashes
      expect(await tbsOf('dddddddd')).toEqual([]);
      expect(await codeOf(store.findIssuances('aaaa'))).toBe('STORE_INVALID_ARGUMENT');
      expect(await codeOf(store.findIssuances('aaaaaaaz'))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('lists the issuances of one exact name, oldest first', async () => {
      const { a, b } = await seed();
      expect((await store.issuancesForName('x.example.com')).map((i) => i.tbsSha256)).toEqual([b, a]);
      expect((await store.issuancesForName('y.example.com')).map((i) => i.tbsSha256)).toEqual([b]);
      expect(await store.issuancesForName('X.example.com')).toEqual([]);
      expect(await store.issuancesForName('example.com')).toHaveLength(1);
      expect((await store.listIssuances()).map((i) => i.tbsSha256)).toHaveLength(3);
    });
  });

  describe('malformed entries and misbehaviour', () => {
    it('lists malformed entries by log and index, each once', async () => {
      await fresh();
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.ensureCursor(cursorInit(LOG_B, 0));
      await store.commitBatch(
        batch(LOG_B, 0, 3, {
          malformed: [
            { logId: LOG_B, index: 2, error: 'two' },
            { logId: LOG_B, index: 2, error: 'dup in batch' },
          ],
        }),
      );
      await store.commitBatch(
        batch(LOG_A, 0, 9, { malformed: [{ logId: LOG_A, index: 8, error: 'eight' }] }),
      );
      expect((await store.listMalformed()).map(({ logId, index, error }) => [logId, index, error])).toEqual([
        [LOG_A, 8, 'eight'],
        [LOG_B, 2, 'two'],
      ]);
    });

    it('keeps misbehaviour evidence, also for a log without a cursor', async () => {
      await fresh();
      const evidence = { log: 'https://ct.example/a/', message: 'fork', heads: [head(5), head(5)] };
      await store.recordMisbehaviour(LOG_A, evidence);
      await store.recordMisbehaviour(LOG_A, 'second');
      const records = (await store.listMisbehaviour?.()) ?? [];
      expect(records).toEqual([
        { id: expect.any(Number), logId: LOG_A, evidence, createdAt: expect.any(String) },
        { id: expect.any(Number), logId: LOG_A, evidence: 'second', createdAt: expect.any(String) },
      ]);
      expect(records[0]?.id).toBeLessThan(records[1]?.id ?? 0);
    });
  });

  describe('alerts', () => {
    it('deduplicate by key, including the ones a batch enqueues', async () => {
      await fresh();
      expect(await store.enqueueAlert({ key: 'issuance:1', kind: 'issuance', payload: { v: 1 } })).toBe(true);
      expect(await store.enqueueAlert({ key: 'issuance:1', kind: 'issuance', payload: { v: 2 } })).toBe(
        false,
      );
      await store.ensureCursor(cursorInit(LOG_A, 0));
      await store.commitBatch(
        batch(LOG_A, 0, 1, {
          alerts: [
            { key: 'issuance:1', kind: 'issuance', payload: { v: 3 } },
            { key: 'issuance:2', kind: 'issuance', payload: 'two' },
            { key: 'issuance:2', kind: 'issuance', payload: 'dup in batch' },
          ],
        }),
      );
      expect((await store.listAlerts()).map((a) => [a.key, a.payload])).toEqual([
        ['issuance:1', { v: 1 }],
        ['issuance:2', 'two'],
      ]);
    });

    it('keep delivery bookkeeping: attempts, last error, delivered', async () => {
      await fresh();
      for (const key of ['a', 'b', 'c'])
        await store.enqueueAlert({ key, kind: 'health', payload: key === 'c' ? null : { key } });
      const pending = await store.pendingAlerts(10);
      expect(pending.map((a) => [a.key, a.payload])).toEqual([
        ['a', { key: 'a' }],
        ['b', { key: 'b' }],
        ['c', null],
      ]);
      expect((await store.pendingAlerts(2)).map((a) => a.key)).toEqual(['a', 'b']);
      const [a, b] = pending;
      await store.markAlertFailed(a?.id ?? -1, 'SMTP 451');
      await store.markAlertFailed(a?.id ?? -1, 'SMTP 421');
      await store.markAlertDelivered(b?.id ?? -1);
      await store.markAlertDelivered(b?.id ?? -1); // idempotent
      await store.markAlertFailed(b?.id ?? -1, 'too late'); // no effect once delivered
      expect((await store.pendingAlerts(10)).map((x) => [x.key, x.attempts, x.lastError])).toEqual([
        ['a', 2, 'SMTP 421'],
        ['c', 0, null],
      ]);
      const delivered = (await store.listAlerts()).find((x) => x.key === 'b');
      expect(delivered).toMatchObject({ attempts: 1, lastError: null, deliveredAt: expect.any(String) });
      expect(Date.parse(delivered?.deliveredAt ?? '')).toBeGreaterThanOrEqual(
        Date.parse(delivered?.createdAt ?? ''),
      );
      expect(await codeOf(store.pendingAlerts(0))).toBe('STORE_INVALID_ARGUMENT');
    });
  });
});
