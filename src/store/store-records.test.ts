/**
 * The store's records beside the CT state, in both engines (SQLite and a real PostgreSQL from
 * test/harness/postgres.ts), with the same expectations for each: MITM baselines and results
 * (including their arrival by upgrading a version-1 database) and the iodef outbox. Split from
 * store.test.ts, which keeps cursors, batches, issuances, alerts and inventory.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, sha256Hex, startEngine, codeOf } from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { Store } from './types.js';

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

  describe('MITM baselines', () => {
    const baseline = (target: string, port: number, jarm: string) => ({
      target,
      port,
      jarms: [jarm],
      lastHops: [['10.1.0.1', '10.2.0.2']],
      hopCounts: [3],
      learnedAt: '2026-11-24T06:00:00.000Z',
    });

    it('stores, replaces, lists by target and deletes baselines', async () => {
      await fresh();
      await store.putMitmBaseline(baseline('xmpp.example.test', 5222, 'a'.repeat(62)));
      await store.putMitmBaseline(baseline('xmpp.example.test', 443, 'b'.repeat(62)));
      await store.putMitmBaseline(baseline('other.example.test', 443, 'c'.repeat(62)));
      await store.putMitmBaseline({
        ...baseline('xmpp.example.test', 5222, 'd'.repeat(62)),
        hopCounts: [3, 4],
      });
      const mine = await store.listMitmBaselines('xmpp.example.test');
      expect(mine.map((b) => [b.port, b.jarms[0]?.[0], b.hopCounts])).toEqual([
        [443, 'b', [3]],
        [5222, 'd', [3, 4]],
      ]);
      expect(mine[0]).toEqual(baseline('xmpp.example.test', 443, 'b'.repeat(62)));
      expect((await store.listMitmBaselines()).map((b) => `${b.target}:${b.port}`)).toEqual([
        'other.example.test:443',
        'xmpp.example.test:443',
        'xmpp.example.test:5222',
      ]);
      // Ports as a set, in one statement on both engines: none, a repeat and an unknown one.
      expect(await store.deleteMitmBaselines('xmpp.example.test', [])).toBe(0);
      expect(await store.deleteMitmBaselines('xmpp.example.test', [5222, 5222, 1])).toBe(1);
      expect(await store.deleteMitmBaselines('xmpp.example.test')).toBe(1);
      expect(await store.listMitmBaselines('xmpp.example.test')).toEqual([]);
      expect((await store.listMitmBaselines()).map((b) => `${b.target}:${b.port}`)).toEqual([
        'other.example.test:443',
      ]);
      expect(await codeOf(store.putMitmBaseline(baseline('x', 0, 'e')))).toBe('STORE_INVALID_ARGUMENT');
    });

    it('arrive by upgrading a version-1 database in place, keeping its data', async () => {
      await fresh();
      await store.authorize(sha256Hex('kept'), 'from version 1');
      // Back to the schema of version 1, as a certvigil of the previous release left it.
      await state.query('DROP TABLE mitm_baselines');
      await state.query('DROP TABLE iodef_outbox');
      await state.query('DROP TABLE iodef_received');
      await state.query('DROP TABLE log_health');
      await state.query('DROP TABLE monitor_status');
      for (const table of [
        'issuance_suffixes',
        'api_tokens',
        'users',
        'sessions',
        'host_inventory',
        'domain_audits',
        'mitm_results',
        'issuance_sources',
      ])
        await state.query(`DROP TABLE ${table}`);
      await state.query('DELETE FROM schema_migrations WHERE version > 1');
      const reopened = await state.open();
      try {
        await reopened.migrate();
        await reopened.putMitmBaseline(baseline('t.example.test', 443, 'f'.repeat(62)));
        expect(await reopened.listMitmBaselines()).toHaveLength(1);
        await reopened.putMitmResult({
          target: 't.example.test',
          status: 'OK',
          resultJson: '{}',
          checkedAt: '2026-12-07T08:00:00.000Z',
        });
        expect(await reopened.listMitmResults()).toHaveLength(1);
        expect((await reopened.listAuthorizations())[0]?.note).toBe('from version 1');
      } finally {
        await reopened.close();
      }
    });
  });

  describe('iodef outbox and received reports', () => {
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 24, 6, minutes)).toISOString();
    const report = (recipient: string, dedupKey: string, minutes: number) => ({
      dedupKey,
      recipient,
      channel: recipient.startsWith('https:') ? ('https' as const) : ('mailto' as const),
      registeredDomain: 'example.test',
      names: ['www.example.test'],
      reason: 'issuer-not-authorized',
      incidentId: `inc-${dedupKey}-${minutes}`,
      document: '<IODEF-Document/>',
      createdAt: at(minutes),
    });
    const limits = (minutes: number, recipientMax = 3, domainMax = 5) => ({
      dedupSince: at(minutes - 10),
      recipientSince: at(minutes - 10),
      recipientMax,
      domainSince: at(minutes - 10),
      domainMax,
    });

    it('deduplicates within the window, rate-limits per recipient and per registered domain', async () => {
      await fresh();
      const first = await store.enqueueIodefReport(report('mailto:sec@example.test', 'k1', 0), limits(0));
      expect(first.outcome).toBe('enqueued');
      const dup = await store.enqueueIodefReport(report('mailto:sec@example.test', 'k1', 5), limits(5));
      expect(dup).toEqual({ outcome: 'duplicate', id: first.id });
      // After the window, the same denial is reported again.
      expect(
        (await store.enqueueIodefReport(report('mailto:sec@example.test', 'k1', 11), limits(11))).outcome,
      ).toBe('enqueued');
      expect(
        (await store.enqueueIodefReport(report('mailto:sec@example.test', 'k2', 12), limits(12, 1))).outcome,
      ).toBe('rate-limited-recipient');
      expect(
        (await store.enqueueIodefReport(report('https://r.example.test/', 'k3', 12), limits(12, 2, 1)))
          .outcome,
      ).toBe('rate-limited-domain');
      expect((await store.listIodefOutbox()).map((r) => r.dedupKey)).toEqual(['k1', 'k1']);
    });

    it('hands out due reports, records attempts, sends and gives up', async () => {
      await fresh();
      const a = await store.enqueueIodefReport(report('mailto:a@example.test', 'a', 0), limits(0));
      const b = await store.enqueueIodefReport(report('https://b.example.test/', 'b', 1), limits(1));
      expect((await store.dueIodefReports(at(1), 10)).map((r) => r.dedupKey)).toEqual(['a', 'b']);
      await store.markIodefReportFailed(a.id ?? -1, 'connection refused', at(30));
      await store.markIodefReportSent(b.id ?? -1, at(2));
      expect(await store.dueIodefReports(at(20), 10)).toEqual([]);
      const [due] = await store.dueIodefReports(at(30), 10);
      expect(due).toMatchObject({
        dedupKey: 'a',
        attempts: 1,
        lastError: 'connection refused',
        sentAt: null,
      });
      await store.markIodefReportFailed(a.id ?? -1, 'still refused', null);
      expect(await store.dueIodefReports(at(59), 10)).toEqual([]);
      const all = await store.listIodefOutbox();
      expect(all.map((r) => [r.dedupKey, r.attempts, r.sentAt !== null, r.gaveUpAt !== null])).toEqual([
        ['a', 2, false, true],
        ['b', 1, true, false],
      ]);
      expect(all[1]?.names).toEqual(['www.example.test']);
    });
  });
});
