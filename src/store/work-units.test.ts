/**
 * Work units (issue 18, migration 9), one suite for both engines (PostgreSQL from
 * test/harness/postgres.ts): planning, claims under a lease, atomic completion, the contiguous run
 * the fold reads, the fold itself. Concurrency runs through two `Store` instances on one state,
 * i.e. two connections (pools) on PostgreSQL, as two monitor processes would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { LATEST_VERSION } from './migrations.js';
import { ENGINES, LOG_A, LOG_B, codeOf, ensureLogA, issuance, sha256Hex, treeOf } from './store.fixture.js';
import type { AlertInput, Store, UnitCompletion, WorkUnit } from './types.js';
import { LEAF_HASH_BYTES, planRanges } from './work-units-codec.js';

/** Distinct, recognisable leaf hashes for entries [first, last). */
function leaves(first: number, last: number): Uint8Array {
  const out = new Uint8Array((last - first) * LEAF_HASH_BYTES);
  for (let i = first; i < last; i++) out.set(Buffer.from(sha256Hex(`leaf ${i}`), 'hex'), (i - first) * 32);
  return out;
}

const alert = (key: string): AlertInput => ({ key, kind: 'issuance', payload: { key } });

function completion(
  unit: Pick<WorkUnit, 'first' | 'last'>,
  workerId: string,
  over: Partial<UnitCompletion> = {},
): UnitCompletion {
  return {
    logId: LOG_A,
    first: unit.first,
    workerId,
    leafHashes: leaves(unit.first, unit.last),
    issuances: [],
    malformed: [],
    alerts: [],
    ...over,
  };
}

/** The value, or a test failure naming what was missing. */
function must<T>(value: T | null | undefined, what = 'a value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

const span = (u: WorkUnit): [number, number] => [u.first, u.last];

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

  describe('completeUnit', () => {
    it('by the holder: issuances, entries, malformed and alerts stored, unit done with its leaf hashes', async () => {
      await fresh();
      await store.planUnits(LOG_A, 16, 8, 16);
      const u = must(await store.claimUnit(LOG_A, 'w1', 60_000));
      const ok = await store.completeUnit(
        completion(u, 'w1', {
          issuances: [
            issuance({ index: 2 }),
            issuance({ index: 5, tbsSha256: sha256Hex('tbs 2'), type: 'precert' }),
          ],
          malformed: [{ logId: LOG_A, index: 7, error: 'truncated' }],
          alerts: [alert('issuance:2')],
        }),
      );
      expect(ok).toBe(true);
      const [i] = await store.listIssuances();
      expect(i?.tbsSha256).toBe(sha256Hex('tbs 2'));
      expect(i?.entries.map((e) => [e.index, e.type])).toEqual([
        [2, 'x509'],
        [5, 'precert'],
      ]);
      expect((await store.listMalformed()).map((m) => [m.index, m.error])).toEqual([[7, 'truncated']]);
      expect((await store.listAlerts()).map((a) => a.key)).toEqual(['issuance:2']);
      const [done, open] = await store.listUnits(LOG_A);
      expect(done).toMatchObject({
        first: 0,
        last: 8,
        state: 'done',
        workerId: 'w1',
        leaseUntil: null,
        entriesRead: 8,
      });
      expect(open).toMatchObject({ first: 8, state: 'open' });
      expect(await store.doneUnitsFrom(LOG_A, 0, 10)).toEqual([
        { first: 0, last: 8, leafHashes: leaves(0, 8) },
      ]);
      // Done is final: a second completion by the same worker writes nothing more.
      expect(await store.completeUnit(completion(u, 'w1', { alerts: [alert('again')] }))).toBe(false);
      expect((await store.listAlerts()).length).toBe(1);
    });

    it('after the holder’s lease ran out, as long as nobody reclaimed the unit', async () => {
      await fresh();
      await store.planUnits(LOG_A, 4, 4, 4);
      const u = must(await store.claimUnit(LOG_A, 'w1', 20));
      await sleep(80);
      expect(await store.completeUnit(completion(u, 'w1'))).toBe(true);
      expect(await store.claimUnit(LOG_A, 'w2', 60_000)).toBeNull();
    });

    it('by a worker that never claimed it, or of an unplanned unit: false, nothing written', async () => {
      await fresh();
      await store.planUnits(LOG_A, 4, 4, 4);
      const open = { first: 0, last: 4 };
      expect(await store.completeUnit(completion(open, 'w1', { alerts: [alert('x')] }))).toBe(false);
      await store.claimUnit(LOG_A, 'w1', 60_000);
      expect(await store.completeUnit(completion(open, 'w2', { alerts: [alert('x')] }))).toBe(false);
      expect(
        await store.completeUnit(completion({ first: 4, last: 8 }, 'w1', { alerts: [alert('x')] })),
      ).toBe(false);
      expect(await store.listAlerts()).toEqual([]);
      expect(await store.listUnits(LOG_A)).toMatchObject([{ state: 'claimed', workerId: 'w1' }]);
    });

    it('refuses leaf hashes of the wrong length and entries outside the unit, writing nothing', async () => {
      await fresh();
      await store.planUnits(LOG_A, 8, 4, 8);
      const u = must(await store.claimUnit(LOG_A, 'w1', 60_000));
      const bad = [
        completion(u, 'w1', { leafHashes: leaves(0, 3), alerts: [alert('x')] }),
        completion(u, 'w1', { issuances: [issuance({ index: 4 })], alerts: [alert('x')] }),
        completion(u, 'w1', { malformed: [{ logId: LOG_B, index: 1, error: 'e' }], alerts: [alert('x')] }),
      ];
      for (const c of bad) expect(await codeOf(store.completeUnit(c))).toBe('STORE_INVALID_ARGUMENT');
      expect(await store.listAlerts()).toEqual([]);
      expect(await store.listIssuances()).toEqual([]);
      expect(await store.listUnits(LOG_A)).toMatchObject([{ state: 'claimed' }, { state: 'open' }]);
    });

    it('keeps an alert key and a certificate once across two units completed at once', async () => {
      await fresh();
      await store.planUnits(LOG_A, 20, 10, 20);
      const second = await other();
      try {
        const u1 = must(await store.claimUnit(LOG_A, 'w1', 60_000));
        const u2 = must(await second.claimUnit(LOG_A, 'w2', 60_000));
        const shared = sha256Hex('shared tbs');
        const results = await Promise.all([
          store.completeUnit(
            completion(u1, 'w1', {
              issuances: [issuance({ index: 1, tbsSha256: shared }), issuance({ index: 2 })],
              alerts: [alert(`issuance:${shared}`), alert('issuance:2')],
            }),
          ),
          second.completeUnit(
            completion(u2, 'w2', {
              issuances: [
                issuance({ index: 12 }),
                issuance({ index: 11, tbsSha256: shared, type: 'precert' }),
              ],
              alerts: [alert('issuance:12'), alert(`issuance:${shared}`)],
            }),
          ),
        ]);
        expect(results).toEqual([true, true]);
        const alerts = (await store.listAlerts()).map((a) => a.key).sort();
        expect(alerts).toEqual([`issuance:${shared}`, 'issuance:12', 'issuance:2'].sort());
        const issuances = await store.listIssuances();
        expect(issuances.length).toBe(3);
        expect(
          issuances
            .find((i) => i.tbsSha256 === shared)
            ?.entries.map((e) => e.index)
            .sort(),
        ).toEqual([1, 11]);
      } finally {
        await second.close();
      }
    });
  });

  describe('doneUnitsFrom, foldUnits, dropUnitsAfter, listUnits', () => {
    async function doneExcept(notDone: number[]): Promise<void> {
      for (
        let u = await store.claimUnit(LOG_A, 'w', 60_000);
        u !== null;
        u = await store.claimUnit(LOG_A, 'w', 60_000)
      )
        if (!notDone.includes(u.first)) expect(await store.completeUnit(completion(u, 'w'))).toBe(true);
    }

    it('doneUnitsFrom: the contiguous done run from the position, at most limit units', async () => {
      await fresh();
      await store.planUnits(LOG_A, 40, 10, 40);
      await doneExcept([20]);
      const run = await store.doneUnitsFrom(LOG_A, 0, 100);
      expect(run.map((u) => [u.first, u.last])).toEqual([
        [0, 10],
        [10, 20],
      ]);
      expect(run[1]?.leafHashes).toEqual(leaves(10, 20));
      expect(run[1]?.leafHashes.byteLength).toBe(10 * 32);
      expect((await store.doneUnitsFrom(LOG_A, 0, 1)).map((u) => u.first)).toEqual([0]);
      expect((await store.doneUnitsFrom(LOG_A, 10, 5)).map((u) => u.first)).toEqual([10]);
      expect(await store.doneUnitsFrom(LOG_A, 20, 5)).toEqual([]);
      expect((await store.doneUnitsFrom(LOG_A, 30, 5)).map((u) => u.first)).toEqual([30]);
      // A position inside a unit is no unit's start: no run.
      expect(await store.doneUnitsFrom(LOG_A, 5, 5)).toEqual([]);
      expect(await store.doneUnitsFrom(LOG_B, 0, 5)).toEqual([]);
    });

    it('doneUnitsFrom stops at a gap', async () => {
      await fresh();
      await store.planUnits(LOG_A, 30, 10, 30);
      await doneExcept([]);
      expect(await store.dropUnitsAfter(LOG_A, 10)).toBe(2);
      await store.planUnits(LOG_A, 30, 10, 30);
      // [10, 20) and [20, 30) are open again; drop [10, 20) by hand to leave a hole.
      await suite.state().query('DELETE FROM work_units WHERE first = ?', [10]);
      await doneExcept([]);
      expect((await store.doneUnitsFrom(LOG_A, 0, 10)).map((u) => u.first)).toEqual([0]);
    });

    it('foldUnits: compare-and-set of the position with its tree, deleting units up to it', async () => {
      await fresh();
      await store.planUnits(LOG_A, 40, 10, 40);
      await doneExcept([30]);
      const err = await store.foldUnits(LOG_A, 10, 20, treeOf(20)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_CONFLICT', expectedPosition: 10, actualPosition: 0 });
      expect((await store.listUnits(LOG_A)).length).toBe(4);
      expect(await codeOf(store.foldUnits(LOG_A, 0, 20, treeOf(19)))).toBe('STORE_INVALID_ARGUMENT');
      expect(await codeOf(store.foldUnits(LOG_A, 20, 10, treeOf(10)))).toBe('STORE_INVALID_ARGUMENT');
      await store.foldUnits(LOG_A, 0, 20, treeOf(20));
      const cursor = await store.getCursor(LOG_A);
      expect(cursor).toMatchObject({ position: 20, tree: treeOf(20) });
      expect((await store.listUnits(LOG_A)).map(span)).toEqual([
        [20, 30],
        [30, 40],
      ]);
      expect((await store.doneUnitsFrom(LOG_A, 20, 10)).map((u) => u.first)).toEqual([20]);
      // Planning again starts after the planned units, never behind the position.
      expect(await store.planUnits(LOG_A, 40, 10, 40)).toBe(0);
      await store.foldUnits(LOG_A, 20, 30, treeOf(30));
      expect(await codeOf(store.foldUnits(LOG_A, 20, 30, treeOf(30)))).toBe('STORE_CONFLICT');
      expect(await codeOf(store.foldUnits(LOG_B, 0, 0, treeOf(0)))).toBe('STORE_CONFLICT');
    });

    it('dropUnitsAfter: deletes what ends after the position; a holder of a dropped unit completes nothing', async () => {
      await fresh();
      await store.planUnits(LOG_A, 40, 10, 40);
      const u = must(await store.claimUnit(LOG_A, 'w1', 60_000));
      expect(await store.dropUnitsAfter(LOG_A, 10)).toBe(3);
      expect((await store.listUnits(LOG_A)).map(span)).toEqual([[0, 10]]);
      expect(await store.dropUnitsAfter(LOG_A, 5)).toBe(1);
      expect(await store.completeUnit(completion(u, 'w1', { alerts: [alert('x')] }))).toBe(false);
      expect(await store.listAlerts()).toEqual([]);
      expect(await store.dropUnitsAfter(LOG_A, 0)).toBe(0);
      expect(await store.planUnits(LOG_A, 40, 10, 40)).toBe(4);
    });

    it('listUnits: every log’s units by log and first entry, or one log’s', async () => {
      await fresh();
      await store.ensureCursor({
        logId: LOG_B,
        url: 'https://ct.example/b/',
        kind: 'static-ct-api',
        description: 'B',
        position: 0,
        tree: treeOf(0),
      });
      await store.planUnits(LOG_B, 512, 256, 512);
      await store.planUnits(LOG_A, 300, 256, 300);
      const all = await store.listUnits();
      expect(all.map((u) => [u.logId, u.first])).toEqual([
        [LOG_A, 0],
        [LOG_A, 256],
        [LOG_B, 0],
        [LOG_B, 256],
      ]);
      expect((await store.listUnits(LOG_B)).map((u) => u.first)).toEqual([0, 256]);
      expect(Number.isNaN(Date.parse(must(all[0]).updatedAt))).toBe(false);
    });
  });
});
