/**
 * Work units (issue 18, migration 9), one suite for both engines (PostgreSQL from
 * test/harness/postgres.ts): planning, claims under a lease, renewal. Completion, the done run
 * and the fold are in work-units-complete.test.ts. Concurrency runs through two `Store` instances
 * on one state, i.e. two connections (pools) on PostgreSQL, as two monitor processes would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { LATEST_VERSION } from './migrations.js';
import { ENGINES, LOG_A, LOG_B, codeOf, ensureLogA, issuance, sha256Hex, treeOf } from './store.fixture.js';
import type { Store } from './types.js';
import { planRanges } from './work-units-codec.js';
import { alert, completion, must, span } from './work-units.fixture.js';

describe('planRanges', () => {
  it.each([
    {
      start: 0,
      upTo: 1000,
      size: 256,
      want: [
        [0, 256],
        [256, 512],
        [512, 768],
        [768, 1000],
      ],
    },
    {
      start: 1000,
      upTo: 1600,
      size: 256,
      want: [
        [1000, 1024],
        [1024, 1280],
        [1280, 1536],
        [1536, 1600],
      ],
    },
    { start: 300, upTo: 300, size: 256, want: [] },
    {
      start: 5,
      upTo: 7,
      size: 1,
      want: [
        [5, 6],
        [6, 7],
      ],
    },
  ])('cuts [$start, $upTo) at multiples of $size', ({ start, upTo, size, want }) => {
    expect(planRanges(start, upTo, size).map((r) => [r.first, r.last])).toEqual(want);
  });
});

describe('migration 9', () => {
  it('is the latest schema version', () => {
    expect(LATEST_VERSION).toBe(9);
  });
});

describe.each(ENGINES)('%s store: work units', (kind) => {
  const suite = useEngineSuite(kind);
  let store: Store;
  async function fresh(): Promise<Store> {
    store = await suite.fresh();
    await ensureLogA(store);
    return store;
  }
  /** A second store on the same state: another connection, as another worker process. */
  async function other(): Promise<Store> {
    const s = await suite.state().open();
    await s.migrate();
    return s;
  }

  describe('planUnits', () => {
    it('cuts at multiples of unitSize, is idempotent, and plans on past a partial last unit', async () => {
      await fresh();
      expect(await store.planUnits(LOG_A, 1000, 256, 1000)).toBe(4);
      const units = await store.listUnits(LOG_A);
      expect(units.map(span)).toEqual([
        [0, 256],
        [256, 512],
        [512, 768],
        [768, 1000],
      ]);
      for (const u of units)
        expect(u).toMatchObject({
          logId: LOG_A,
          treeSize: 1000,
          state: 'open',
          workerId: null,
          leaseUntil: null,
          entriesRead: 0,
        });
      expect(await store.planUnits(LOG_A, 1000, 256, 1000)).toBe(0);
      expect(await store.planUnits(LOG_A, 900, 256, 1000)).toBe(0);
      expect(await store.planUnits(LOG_A, 1600, 256, 1600)).toBe(4);
      expect((await store.listUnits(LOG_A)).map(span).slice(3)).toEqual([
        [768, 1000],
        [1000, 1024],
        [1024, 1280],
        [1280, 1536],
        [1536, 1600],
      ]);
      expect((await store.listUnits(LOG_A)).slice(4).every((u) => u.treeSize === 1600)).toBe(true);
    });

    it('starts at the log position when it is past the planned units', async () => {
      store = await suite.fresh();
      await store.ensureCursor({
        logId: LOG_A,
        url: 'https://ct.example/a/',
        kind: 'rfc6962',
        description: 'A',
        position: 300,
        tree: treeOf(300),
      });
      expect(await store.planUnits(LOG_A, 800, 256, 800)).toBe(3);
      expect((await store.listUnits()).map(span)).toEqual([
        [300, 512],
        [512, 768],
        [768, 800],
      ]);
    });

    it('refuses a log without cursor, upTo beyond the tree, a bad unit size', async () => {
      await fresh();
      expect(await codeOf(store.planUnits(LOG_B, 10, 4, 10))).toBe('STORE_INVALID_ARGUMENT');
      expect(await codeOf(store.planUnits(LOG_A, 11, 4, 10))).toBe('STORE_INVALID_ARGUMENT');
      expect(await codeOf(store.planUnits(LOG_A, 10, 0, 10))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.listUnits()).toEqual([]);
    });

    it('planned by two connections at once to different ends: one set of units, no gap, no overlap', async () => {
      store = await suite.fresh();
      const second = await other();
      try {
        const logs = Array.from({ length: 8 }, (_, i) => Buffer.alloc(32, 0x30 + i).toString('base64'));
        for (const logId of logs)
          await store.ensureCursor({
            logId,
            url: `https://ct.example/${logId}/`,
            kind: 'rfc6962',
            description: 'L',
            position: 0,
            tree: treeOf(0),
          });
        await Promise.all(
          logs.flatMap((logId) => [
            store.planUnits(logId, 1000, 256, 1000),
            second.planUnits(logId, 1500, 256, 1500),
          ]),
        );
        for (const logId of logs) {
          const units = await store.listUnits(logId);
          let next = 0;
          for (const u of units) {
            expect(u.first).toBe(next);
            next = u.last;
          }
          expect(next).toBe(1500);
        }
      } finally {
        await second.close();
      }
    });
  });

  describe('claimUnit', () => {
    it('hands out the lowest open unit, under a lease on the store clock, then null', async () => {
      await fresh();
      await store.planUnits(LOG_A, 600, 256, 600);
      const before = Date.now();
      const a = await store.claimUnit(LOG_A, 'w1', 60_000);
      const b = await store.claimUnit(LOG_A, 'w2', 60_000);
      const c = await store.claimUnit(LOG_A, 'w1', 60_000);
      expect([a, b, c].map((u) => u && span(u))).toEqual([
        [0, 256],
        [256, 512],
        [512, 600],
      ]);
      expect(a).toMatchObject({ state: 'claimed', workerId: 'w1', treeSize: 600 });
      const lease = Date.parse(a?.leaseUntil ?? '');
      expect(lease).toBeGreaterThan(before + 55_000);
      expect(lease).toBeLessThan(Date.now() + 65_000);
      expect(await store.claimUnit(LOG_A, 'w3', 60_000)).toBeNull();
      expect(await store.claimUnit(LOG_B, 'w3', 60_000)).toBeNull();
      for (const [id, lease] of [
        ['', 1000],
        ['w\u001b[31m', 1000],
        ['w', 0],
        ['w', 1.5],
      ] as const)
        expect(await codeOf(store.claimUnit(LOG_A, id, lease))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('never gives one unit to two workers claiming at once from two connections', async () => {
      await fresh();
      await store.planUnits(LOG_A, 60 * 16, 16, 60 * 16);
      const second = await other();
      try {
        const claimed: number[] = [];
        const worker = async (s: Store, id: string) => {
          for (
            let u = await s.claimUnit(LOG_A, id, 60_000);
            u !== null;
            u = await s.claimUnit(LOG_A, id, 60_000)
          ) {
            expect(u.workerId).toBe(id);
            claimed.push(u.first);
          }
        };
        await Promise.all([
          worker(store, 'a1'),
          worker(store, 'a2'),
          worker(store, 'a3'),
          worker(second, 'b1'),
          worker(second, 'b2'),
          worker(second, 'b3'),
        ]);
        expect(claimed.length).toBe(60);
        expect(new Set(claimed).size).toBe(60);
        expect((await store.listUnits(LOG_A)).every((u) => u.state === 'claimed')).toBe(true);
      } finally {
        await second.close();
      }
    });

    it('reclaims a unit whose lease ran out; its old holder can neither renew nor complete it', async () => {
      await fresh();
      await store.planUnits(LOG_A, 8, 8, 8);
      const mine = await store.claimUnit(LOG_A, 'w1', 50);
      expect(mine && span(mine)).toEqual([0, 8]);
      expect(await store.claimUnit(LOG_A, 'w2', 60_000)).toBeNull();
      await sleep(150);
      const taken = await store.claimUnit(LOG_A, 'w2', 60_000);
      expect(taken).toMatchObject({ first: 0, last: 8, state: 'claimed', workerId: 'w2' });
      expect(await store.renewUnitLease(LOG_A, 0, 'w1', 60_000)).toBe(false);
      const late = completion(must(taken), 'w1', {
        issuances: [issuance({ index: 3 })],
        malformed: [{ logId: LOG_A, index: 4, error: 'bad' }],
        alerts: [alert('issuance:late')],
      });
      expect(await store.completeUnit(late)).toBe(false);
      expect(await store.listIssuances()).toEqual([]);
      expect(await store.listMalformed()).toEqual([]);
      expect(await store.listAlerts()).toEqual([]);
      expect(await store.listUnits(LOG_A)).toMatchObject([{ state: 'claimed', workerId: 'w2' }]);
      expect(await store.completeUnit({ ...late, workerId: 'w2' })).toBe(true);
      expect((await store.listIssuances()).map((i) => i.tbsSha256)).toEqual([sha256Hex('tbs 3')]);
    });
  });

  describe('renewUnitLease', () => {
    it('extends the holder’s lease; false for another worker, an open or a done unit', async () => {
      await fresh();
      await store.planUnits(LOG_A, 20, 10, 20);
      const u = await store.claimUnit(LOG_A, 'w1', 1_000);
      expect(await store.renewUnitLease(LOG_A, 0, 'w1', 120_000)).toBe(true);
      const [renewed] = await store.listUnits(LOG_A);
      expect(Date.parse(must(renewed?.leaseUntil))).toBeGreaterThan(
        Date.parse(must(u?.leaseUntil)) + 100_000,
      );
      expect(await store.renewUnitLease(LOG_A, 0, 'w2', 120_000)).toBe(false);
      expect(await store.renewUnitLease(LOG_A, 10, 'w1', 120_000)).toBe(false);
      expect(await store.completeUnit(completion(must(u), 'w1'))).toBe(true);
      expect(await store.renewUnitLease(LOG_A, 0, 'w1', 120_000)).toBe(false);
      expect(await codeOf(store.renewUnitLease(LOG_A, 0, 'w1', 0))).toBe('STORE_INVALID_ARGUMENT');
    });
  });
});
