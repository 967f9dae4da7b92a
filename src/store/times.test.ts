/**
 * Times handed to the store select the same rows on both engines. SQLite compares time columns as
 * text, PostgreSQL as timestamps: before `isoInstant`, a window start written with an offset or
 * without milliseconds matched other rows on SQLite than on PostgreSQL, and a `learnedAt` that is
 * no time was stored by SQLite and refused by PostgreSQL with a driver error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, codeOf, sha256Hex, startEngine } from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { IodefOutboxInput, IodefReceivedInput, Store } from './types.js';

const report = (dedupKey: string, createdAt: string): IodefOutboxInput => ({
  dedupKey,
  recipient: `mailto:sec-${dedupKey}@example.test`,
  channel: 'mailto',
  registeredDomain: `${dedupKey}.example.test`,
  names: ['www.example.test'],
  reason: 'issuer-not-authorized',
  incidentId: `inc-${dedupKey}`,
  document: '<IODEF-Document/>',
  createdAt,
});

const limits = (since: string) => ({
  dedupSince: since,
  recipientSince: since,
  recipientMax: 100,
  domainSince: since,
  domainMax: 100,
});

const received = (n: number, receivedAt: string): IodefReceivedInput => {
  const document = `<IODEF-Document>${n}</IODEF-Document>`;
  return {
    fingerprint: sha256Hex(`fp ${n}`),
    senderKey: `addr:192.0.2.${n}`,
    documentSha256: sha256Hex(document),
    incidentKey: null,
    sender: `192.0.2.${n}`,
    channel: 'https',
    receivedAt,
    schemaValid: true,
    summary: {},
    document,
  };
};

describe.each(ENGINES)('%s store: times in any ISO form, compared alike', (kind) => {
  let engine: EngineHarness;
  let state: FreshState;
  let store: Store;
  beforeAll(async () => {
    engine = await startEngine(kind);
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
  });
  afterEach(async () => {
    await store?.close();
    await state?.dispose();
  });
  async function fresh(): Promise<void> {
    state = await engine.fresh();
    store = await state.open();
    await store.migrate();
  }

  it('iodef outbox: created times and windows with offsets or without milliseconds', async () => {
    await fresh();
    // 10:00:00.500Z written three ways; the window starts at 10:00:00Z written with an offset.
    expect(
      (
        await store.enqueueIodefReport(
          report('a', '2026-12-07T10:00:00.500Z'),
          limits('2026-12-07T11:00:00+01:00'),
        )
      ).outcome,
    ).toBe('enqueued');
    expect(
      (
        await store.enqueueIodefReport(
          report('a', '2026-12-07T11:00:00.600+01:00'),
          limits('2026-12-07T11:00:00+01:00'),
        )
      ).outcome,
    ).toBe('duplicate');
    // A window starting after the stored report (10:00:01Z, without milliseconds): not a duplicate.
    expect(
      (await store.enqueueIodefReport(report('a', '2026-12-07T10:00:02Z'), limits('2026-12-07T10:00:01Z')))
        .outcome,
    ).toBe('enqueued');
    const stored = await store.listIodefOutbox();
    expect(stored.map((r) => r.createdAt)).toEqual(['2026-12-07T10:00:00.500Z', '2026-12-07T10:00:02.000Z']);
    // Due at 10:00:01 (written with an offset): only the first.
    expect((await store.dueIodefReports('2026-12-07T05:00:01-05:00', 10)).map((r) => r.createdAt)).toEqual([
      '2026-12-07T10:00:00.500Z',
    ]);
    expect(
      await codeOf(store.enqueueIodefReport(report('b', 'yesterday'), limits('2026-12-07T10:00:00Z'))),
    ).toBe('STORE_INVALID_ARGUMENT');
    expect(await codeOf(store.enqueueIodefReport(report('b', '2026-12-07T10:00:00Z'), limits('soon')))).toBe(
      'STORE_INVALID_ARGUMENT',
    );
    expect(await codeOf(store.dueIodefReports('now', 10))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('iodef inbox: received times, the quota window and the retention cutoff', async () => {
    await fresh();
    await store.storeReceivedIodef(received(1, '2026-12-07T09:59:59.999Z'));
    await store.storeReceivedIodef(received(2, '2026-12-07T11:00:00.250+01:00'));
    expect((await store.listReceivedIodef()).map((r) => r.receivedAt)).toEqual([
      '2026-12-07T09:59:59.999Z',
      '2026-12-07T10:00:00.250Z',
    ]);
    // A quota of one report per window starting 10:00:00Z (written with an offset): the 10:00:00.250
    // report fills it, the 09:59:59.999 one is outside.
    const quota = { since: '2026-12-07T11:00:00+01:00', maxReports: 1, maxBytes: 1_000_000 };
    expect((await store.storeReceivedIodef(received(3, '2026-12-07T10:00:01Z'), quota)).outcome).toBe(
      'over-quota',
    );
    expect(await store.deleteReceivedIodefBefore('2026-12-07T11:00:00+01:00')).toBe(1);
    expect(await codeOf(store.deleteReceivedIodefBefore('last week'))).toBe('STORE_INVALID_ARGUMENT');
    expect(await codeOf(store.storeReceivedIodef(received(4, 'today')))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('MITM baselines: learnedAt stored canonical; a bad time or a NUL in the target refused alike', async () => {
    await fresh();
    const baseline = {
      target: 'x.example.test',
      port: 443,
      jarms: ['a'.repeat(62)],
      lastHops: [],
      hopCounts: [],
    };
    await store.putMitmBaseline({ ...baseline, learnedAt: '2026-12-07T11:00:00+01:00' });
    expect((await store.listMitmBaselines())[0]?.learnedAt).toBe('2026-12-07T10:00:00.000Z');
    expect(await codeOf(store.putMitmBaseline({ ...baseline, learnedAt: 'then' }))).toBe(
      'STORE_INVALID_ARGUMENT',
    );
    expect(
      await codeOf(store.putMitmBaseline({ ...baseline, target: 'x\0y', learnedAt: '2026-12-07T10:00:00Z' })),
    ).toBe('STORE_INVALID_ARGUMENT');
  });
});
