/**
 * Migration 5 (issue 13): per-log health and the monitor status, one suite for both engines
 * (PostgreSQL from test/harness/postgres.ts), like store.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { LOG_A, LOG_B, ENGINES, batch, ensureLogA, codeOf } from './store.fixture.js';
import type { LogHealthRecord, Store } from './types.js';

const health = (logId: string, over: Partial<LogHealthRecord> = {}): LogHealthRecord => ({
  logId,
  url: `https://ct.example/${logId === LOG_A ? 'a' : 'b'}/`,
  status: 'ok',
  lastAttemptAt: '2026-12-07T08:00:00.000Z',
  lastContactAt: '2026-12-07T08:00:00.000Z',
  lastError: null,
  newestTreeSize: 1000,
  newestTreeTimestamp: '2026-12-07T07:59:00.000Z',
  updatedAt: '2026-12-07T08:00:01.000Z',
  ...over,
});

describe.each(ENGINES)('%s store: monitor health (migration 5)', (kind) => {
  const suite = useEngineSuite(kind);
  let store: Store;
  async function fresh(): Promise<Store> {
    store = await suite.fresh();
    return store;
  }

  it('stores, replaces and lists log health by log ID', async () => {
    await fresh();
    expect(await store.listLogHealth()).toEqual([]);
    await store.putLogHealth(health(LOG_B, { status: 'unreachable', lastError: 'HTTP 503' }));
    await store.putLogHealth(health(LOG_A));
    await store.putLogHealth(health(LOG_A, { newestTreeSize: 2000, status: 'misbehaving' }));
    const all = await store.listLogHealth();
    expect(all.map((h) => [h.logId, h.status, h.newestTreeSize])).toEqual([
      [LOG_A, 'misbehaving', 2000],
      [LOG_B, 'unreachable', 1000],
    ]);
    expect(all[1]).toEqual(health(LOG_B, { status: 'unreachable', lastError: 'HTTP 503' }));
  });

  it('a failed attempt (nulls) keeps the last contact and newest head; the error is replaced', async () => {
    await fresh();
    await store.putLogHealth(health(LOG_A, { lastError: 'old' }));
    await store.putLogHealth(
      health(LOG_A, {
        status: 'unreachable',
        lastAttemptAt: '2026-12-07T09:00:00.000Z',
        lastContactAt: null,
        newestTreeSize: null,
        newestTreeTimestamp: null,
        lastError: 'HTTP 503',
        updatedAt: '2026-12-07T09:00:01.000Z',
      }),
    );
    expect(await store.listLogHealth()).toEqual([
      health(LOG_A, {
        status: 'unreachable',
        lastAttemptAt: '2026-12-07T09:00:00.000Z',
        lastError: 'HTTP 503',
        updatedAt: '2026-12-07T09:00:01.000Z',
      }),
    ]);
    await store.putLogHealth(health(LOG_A, { lastError: null, newestTreeSize: 1500 }));
    const [h] = await store.listLogHealth();
    expect([h?.status, h?.lastError, h?.newestTreeSize]).toEqual(['ok', null, 1500]);
  });

  it('keeps null fields null on a first record and sanitises and bounds the error text', async () => {
    await fresh();
    const hostile = `\u001b[31mred\u0000${'x'.repeat(2000)}`;
    await store.putLogHealth(
      health(LOG_A, {
        lastContactAt: null,
        newestTreeSize: null,
        newestTreeTimestamp: null,
        status: 'internal',
        lastError: hostile,
      }),
    );
    const [h] = await store.listLogHealth();
    expect(h?.lastContactAt).toBeNull();
    expect(h?.newestTreeSize).toBeNull();
    expect(h?.lastError).not.toContain('\u001b');
    expect(h?.lastError).not.toContain('\u0000');
    expect(h?.lastError?.length).toBeLessThanOrEqual(501);
  });

  it.each([
    ['an unknown status', { status: 'down' as LogHealthRecord['status'] }],
    ['a negative tree size', { newestTreeSize: -1 }],
    ['a non-time', { lastContactAt: 'yesterday' }],
  ])('refuses %s (STORE_INVALID_ARGUMENT)', async (_name, over) => {
    await fresh();
    expect(await codeOf(store.putLogHealth(health(LOG_A, over)))).toBe('STORE_INVALID_ARGUMENT');
    expect(await store.listLogHealth()).toEqual([]);
  });

  it('writing health never touches the cursor', async () => {
    await fresh();
    await ensureLogA(store);
    await store.commitBatch(batch(LOG_A, 0, 3));
    const before = await store.getCursor(LOG_A);
    await store.putLogHealth(health(LOG_A, { status: 'unreachable' }));
    expect(await store.getCursor(LOG_A)).toEqual(before);
  });

  it('monitor status: empty default, then merges patches (absent keeps, null clears)', async () => {
    await fresh();
    expect(await store.getMonitorStatus()).toEqual({
      logListSource: null,
      logListFetchedAt: null,
      logListError: null,
      lastCycleAt: null,
      inventoryErrors: 0,
      lastHeartbeatAt: null,
      monitoredLogIds: null,
    });
    await store.putMonitorStatus({
      logListSource: 'https://www.gstatic.com/ct/log_list/v3/log_list.json',
      logListFetchedAt: '2026-12-07T07:00:00.000Z',
      logListError: 'stale',
    });
    await store.putMonitorStatus({ lastCycleAt: '2026-12-07T08:00:00.000Z', inventoryErrors: 2 });
    await store.putMonitorStatus({ logListError: null, lastHeartbeatAt: '2026-12-07T06:00:00.000Z' });
    await store.putMonitorStatus({ monitoredLogIds: ['b', 'a', 'b'] });
    expect(await store.getMonitorStatus()).toEqual({
      logListSource: 'https://www.gstatic.com/ct/log_list/v3/log_list.json',
      logListFetchedAt: '2026-12-07T07:00:00.000Z',
      logListError: null,
      lastCycleAt: '2026-12-07T08:00:00.000Z',
      inventoryErrors: 2,
      lastHeartbeatAt: '2026-12-07T06:00:00.000Z',
      monitoredLogIds: ['a', 'b'],
    });
    await expect(
      store.putMonitorStatus({ monitoredLogIds: [1] as unknown as string[] }),
    ).rejects.toMatchObject({ code: 'STORE_INVALID_ARGUMENT' });
  });

  it('concurrent patches of different fields all land (no lost update)', async () => {
    await fresh();
    const other = await suite.state().open();
    try {
      for (let round = 1; round <= 5; round++) {
        await Promise.all([
          store.putMonitorStatus({ inventoryErrors: round }),
          other.putMonitorStatus({ lastCycleAt: `2026-12-07T08:00:0${round}.000Z` }),
          store.putMonitorStatus({ logListSource: `file:/list-${round}.json` }),
          other.putMonitorStatus({ logListFetchedAt: `2026-12-07T07:00:0${round}.000Z` }),
        ]);
        expect(await store.getMonitorStatus()).toEqual({
          logListSource: `file:/list-${round}.json`,
          logListFetchedAt: `2026-12-07T07:00:0${round}.000Z`,
          logListError: null,
          lastCycleAt: `2026-12-07T08:00:0${round}.000Z`,
          inventoryErrors: round,
          lastHeartbeatAt: null,
          monitoredLogIds: null,
        });
      }
    } finally {
      await other.close();
    }
  });

  it.each([
    ['an unknown key', { bogus: 1 } as unknown as Record<string, never>],
    ['a negative inventory error count', { inventoryErrors: -1 }],
    ['a non-time cycle', { lastCycleAt: 'now' }],
  ])('monitor status refuses %s', async (_name, patch) => {
    await fresh();
    expect(await codeOf(store.putMonitorStatus(patch))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('a read-only store reads health and status but cannot write them', async () => {
    await fresh();
    await store.putLogHealth(health(LOG_A));
    await store.putMonitorStatus({ lastCycleAt: '2026-12-07T08:00:00.000Z' });
    const ro = await suite.state().openReadOnly();
    try {
      await ro.migrate();
      expect(await ro.listLogHealth()).toHaveLength(1);
      expect((await ro.getMonitorStatus()).lastCycleAt).toBe('2026-12-07T08:00:00.000Z');
      await expect(ro.putLogHealth(health(LOG_B))).rejects.toThrow();
    } finally {
      await ro.close();
    }
    expect(await store.listLogHealth()).toHaveLength(1);
  });
});
