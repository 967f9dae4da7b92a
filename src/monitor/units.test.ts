/**
 * Several workers on one store, in one process (issue 18): each `syncLog` call is a worker with its
 * own ID, claiming work units from the real SQLite store, so their claims, completions, folds and
 * waits interleave at every await. What must hold whatever the interleaving: every worker ends
 * `ok`, together they read each entry exactly once, the log's tree is verified against its head,
 * and a worker whose lease ran out cannot commit its unit any more. The multi-process version on
 * PostgreSQL (SKIP LOCKED, SIGKILL, SIGSTOP) is test/monitor-workers.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompactTree } from '../ct/merkle.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { FakeLog, LOG } from './fake-log.fixture.js';
import { syncLog } from './sync-log.js';
import type { SyncOptions } from './sync-log.js';
import { buildWatchList } from './watchlist.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-units-'));
  store = await openSqliteStore(join(dir, 'certvigil.sqlite3'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const worker = (workerId: string, over: Partial<SyncOptions> = {}): SyncOptions => ({
  store,
  watch: buildWatchList(['example.test']),
  alertsFor: async () => [],
  startAtEnd: false,
  commitEvery: 7,
  workerId,
  unitLeaseMs: 200,
  ...over,
});

/** A deterministic pseudo-random sequence (the failing case can be replayed from its seed). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

describe('workers sharing a log', () => {
  it('three workers at once: all ok, each entry read exactly once, the tree verified', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const log = new FakeLog();
      log.size = 100 + seed;
      const random = lcg(seed);
      log.delayMs = () => Math.floor(random() * 4);
      // A fresh log per round: a new log ID is a new cursor.
      const info = { ...LOG, logId: Buffer.alloc(32, seed).toString('base64') };
      Object.defineProperty(log, 'log', { value: info });
      const results = await Promise.all(['a', 'b', 'c'].map((id) => syncLog(log, worker(id))));
      for (const r of results) expect(r.status, `seed ${seed}: ${r.message ?? ''}`).toBe('ok');
      expect(
        results.reduce((n, r) => n + r.entriesRead, 0),
        `seed ${seed}`,
      ).toBe(log.size);
      const cursor = await store.getCursor(info.logId);
      expect(cursor?.position).toBe(log.size);
      expect(cursor?.verified?.treeSize).toBe(log.size);
      expect(await store.listUnits(info.logId)).toEqual([]);
      expect((await store.listMalformed()).filter((m) => m.logId === info.logId)).toHaveLength(log.size);
    }
  });

  it('a worker that finds every unit taken waits for them and ends ok, having read nothing', async () => {
    const log = new FakeLog();
    log.size = 14;
    log.delayMs = 60;
    const first = syncLog(log, worker('a', { commitEvery: 14 }));
    await new Promise((r) => setTimeout(r, 20));
    const second = await syncLog(log, worker('b', { commitEvery: 14 }));
    const r = await first;
    expect(r).toMatchObject({ status: 'ok', entriesRead: 14 });
    expect(second).toMatchObject({ status: 'ok', entriesRead: 0, position: 14 });
  });

  it("the other worker completes and folds between this worker's fold and its look at the units: no gap", async () => {
    const log = new FakeLog();
    log.size = 7;
    log.delayMs = 50;
    const first = syncLog(log, worker('a'));
    await new Promise((r) => setTimeout(r, 10));
    // Worker b found the unit claimed and folded nothing; before it looks at the units, worker a
    // finishes (completes, folds, verifies: the unit is gone).
    const late = new Proxy(store, {
      get(target, key, receiver) {
        if (key === 'listUnits')
          return async (logId?: string) => {
            await first;
            return target.listUnits(logId);
          };
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const second = await syncLog(log, worker('b', { store: late }));
    expect(second).toMatchObject({ status: 'ok', entriesRead: 0, position: 7, verifiedSize: 7 });
    expect(await first).toMatchObject({ status: 'ok', entriesRead: 7 });
  });

  it('a unit whose lease ran out is taken over; the late worker commits nothing', async () => {
    const log = new FakeLog();
    log.size = 7;
    // Worker a claims the only unit, then never renews in time: its batch takes 5 leases.
    const slow = new FakeLog();
    slow.size = 7;
    slow.delayMs = 600;
    const renewals = store.renewUnitLease.bind(store);
    // The lease renewal of worker a is lost (as if its process were stopped): refuse it.
    store.renewUnitLease = async (logId, first, workerId, leaseMs) =>
      workerId === 'a' ? false : renewals(logId, first, workerId, leaseMs);
    const stalled = syncLog(slow, worker('a', { unitLeaseMs: 100 }));
    await new Promise((r) => setTimeout(r, 150));
    const other = await syncLog(log, worker('b', { unitLeaseMs: 100 }));
    expect(other).toMatchObject({ status: 'ok', entriesRead: 7, verifiedSize: 7 });
    const late = await stalled;
    expect(late.entriesRead).toBe(0);
    expect((await store.listMalformed()).filter((m) => m.logId === LOG.logId)).toHaveLength(7);
  });

  it('units planned by a worker with a newer head: the older head worker stops at them, the newer verifies', async () => {
    const newer = new FakeLog();
    newer.size = 21;
    const older = new FakeLog();
    older.size = 10;
    // The newer worker has planned [0,7) [7,14) [14,21) and not started; the older one (head 10)
    // works every open unit, but [7,14) reaches past its head: it cannot fold to 10 and leaves the
    // verification to the newer worker.
    await store.ensureCursor({
      logId: LOG.logId,
      url: LOG.url,
      kind: LOG.kind,
      description: LOG.description,
      position: 0,
      tree: new CompactTree().toJSON(),
    });
    expect(await store.planUnits(LOG.logId, 21, 7, 21)).toBe(3);
    const r = await syncLog(older, worker('old'));
    expect(r).toMatchObject({ status: 'ok', entriesRead: 21, position: 7, verifiedSize: null });
    const n = await syncLog(newer, worker('new'));
    expect(n).toMatchObject({ status: 'ok', entriesRead: 0, position: 21, verifiedSize: 21 });
  });
});
