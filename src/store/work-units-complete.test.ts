/**
 * Work units (issue 18), both engines: completion (atomic, only by the holder, keyed rows kept
 * once across workers), the contiguous run of done units, the fold, the rewind, the listing, and
 * workers racing each other under short leases.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { ENGINES, LOG_A, LOG_B, codeOf, ensureLogA, issuance, sha256Hex, treeOf } from './store.fixture.js';
import type { Store } from './types.js';
import { alert, completion, leaves, must, span } from './work-units.fixture.js';

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

  describe('workers racing under short leases', () => {
    it('complete each unit exactly once and enqueue each alert once, however leases run out', async () => {
      await fresh();
      const units = 24;
      const size = 8;
      await store.planUnits(LOG_A, units * size, size, units * size);
      const second = await other();
      const wonBy = new Map<number, string>();
      let lost = 0;
      /** Claims under a 40 ms lease and holds each unit 0 to 79 ms before completing it. */
      const worker = async (s: Store, id: string, seed: number): Promise<void> => {
        let rnd = seed;
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const u = await s.claimUnit(LOG_A, id, 40);
          if (u === null) {
            if ((await s.listUnits(LOG_A)).every((x) => x.state === 'done')) return;
            await sleep(10);
            continue;
          }
          rnd = (rnd * 1_103_515_245 + 12_345) % 2 ** 31;
          await sleep(rnd % 80);
          const won = await s.completeUnit(
            completion(u, id, {
              issuances: [issuance({ index: u.first })],
              alerts: [alert(`issuance:${u.first}`)],
            }),
          );
          if (won) {
            expect(wonBy.get(u.first)).toBeUndefined();
            wonBy.set(u.first, id);
          } else lost++;
        }
      };
      try {
        await Promise.all([
          worker(store, 'a1', 1),
          worker(store, 'a2', 2),
          worker(second, 'b1', 3),
          worker(second, 'b2', 4),
        ]);
      } finally {
        await second.close();
      }
      // Some holders did lose their unit to a reclaim (else this proved nothing about leases).
      expect(lost).toBeGreaterThan(0);
      const firsts = Array.from({ length: units }, (_, i) => i * size);
      expect([...wonBy.keys()].sort((a, b) => a - b)).toEqual(firsts);
      const done = await store.listUnits(LOG_A);
      expect(done.map((u) => [u.first, u.state, u.workerId])).toEqual(
        firsts.map((f) => [f, 'done', wonBy.get(f)]),
      );
      expect((await store.listAlerts()).map((a) => a.key).sort()).toEqual(
        firsts.map((f) => `issuance:${f}`).sort(),
      );
      const issuances = await store.listIssuances();
      expect(issuances.length).toBe(units);
      expect(issuances.every((i) => i.entries.length === 1)).toBe(true);
      expect((await store.doneUnitsFrom(LOG_A, 0, 100)).length).toBe(units);
    });
  });
});
