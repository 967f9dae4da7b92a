/**
 * The owner side of CAA iodef in both engines (SQLite and a real PostgreSQL from
 * test/harness/postgres.ts): received reports deduplicated per sender and document (schema
 * version 4, issue 12), conflicts between reports claiming one IncidentID, the daily quota, the
 * retention sweep, and the upgrade of version-3 rows.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, schemaMigrationsTable } from './migrations.js';
import { ENGINES, sha256Hex, startEngine, codeOf } from './store.fixture.js';
import type { EngineHarness, FreshState } from './store.fixture.js';
import type { IodefReceivedInput, Store } from './types.js';

const at = (minutes: number): string => new Date(Date.UTC(2026, 10, 24, 6, minutes)).toISOString();

function received(
  senderKey: string,
  document: string,
  minutes = 0,
  incident: string | null = 'ca.example/inc-1',
): IodefReceivedInput {
  const documentSha256 = sha256Hex(document);
  return {
    fingerprint: sha256Hex(`${senderKey}\n${documentSha256}`),
    senderKey,
    documentSha256,
    incidentKey: incident === null ? null : sha256Hex(incident),
    sender: senderKey.replace(/^addr:/, ''),
    channel: 'https',
    receivedAt: at(minutes),
    schemaValid: true,
    summary: { incidentId: 'inc-1', names: ['www.example.test'] },
    document,
  };
}

describe.each(ENGINES)('%s store: received iodef reports', (kind) => {
  let engine: EngineHarness;
  let state: FreshState;
  let store: Store;

  beforeAll(async () => {
    engine = await startEngine(kind);
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
  });
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

  it('stores once per sender and document; a same-sender resend is a duplicate', async () => {
    await fresh();
    const input = received('addr:192.0.2.1', '<IODEF-Document>real</IODEF-Document>');
    const first = await store.storeReceivedIodef(input);
    expect(first).toEqual({
      outcome: 'stored',
      id: expect.any(Number) as number,
      conflict: false,
      related: [],
    });
    const again = await store.storeReceivedIodef(input);
    expect(again).toEqual({ outcome: 'duplicate', id: first.outcome === 'stored' ? first.id : -1 });
    const [row] = await store.listReceivedIodef();
    expect(row).toEqual({
      ...input,
      id: first.outcome === 'stored' ? first.id : -1,
      conflict: false,
    });
  });

  it('a forged report under the same IncidentID does not hide the real one: both stored, the second flagged', async () => {
    await fresh();
    const forged = received('addr:198.51.100.66', '<IODEF-Document>harmless</IODEF-Document>', 1);
    const real = received('addr:192.0.2.1', '<IODEF-Document>real</IODEF-Document>', 2);
    const f = await store.storeReceivedIodef(forged);
    const r = await store.storeReceivedIodef(real);
    expect(f).toMatchObject({ outcome: 'stored', conflict: false, related: [] });
    expect(r).toMatchObject({
      outcome: 'stored',
      conflict: true,
      related: [{ id: f.outcome === 'stored' ? f.id : -1, sender: '198.51.100.66', sameDocument: false }],
    });
    // The same real document from another sender: stored, related with sameDocument.
    const copy = await store.storeReceivedIodef({
      ...received('addr:203.0.113.5', '<IODEF-Document>real</IODEF-Document>', 3),
    });
    expect(copy.outcome === 'stored' && copy.related.map((x) => x.sameDocument)).toEqual([false, true]);
    expect((await store.listReceivedIodef()).map((x) => [x.sender, x.conflict])).toEqual([
      ['198.51.100.66', false],
      ['192.0.2.1', true],
      ['203.0.113.5', true],
    ]);
    // No IncidentID: never related to anything.
    const anon = await store.storeReceivedIodef(received('addr:192.0.2.1', '<x/>', 4, null));
    expect(anon).toMatchObject({ outcome: 'stored', conflict: false, related: [] });
  });

  it('enforces the daily quota in reports and bytes; duplicates use none of it', async () => {
    await fresh();
    const quota = { since: at(0), maxReports: 2, maxBytes: 40 };
    const a = received('addr:a', '<IODEF-Document>1</IODEF-Document>', 1); // 34 bytes
    expect((await store.storeReceivedIodef(a, quota)).outcome).toBe('stored');
    expect((await store.storeReceivedIodef(a, quota)).outcome).toBe('duplicate');
    expect(
      await store.storeReceivedIodef(received('addr:b', '<IODEF-Document>22</IODEF-Document>', 2), quota),
    ).toEqual({
      outcome: 'over-quota',
      reports: 1,
      bytes: 34,
    });
    expect((await store.storeReceivedIodef(received('addr:b', '<x/>', 2), quota)).outcome).toBe('stored');
    expect((await store.storeReceivedIodef(received('addr:c', '<y/>', 3), quota)).outcome).toBe('over-quota');
    // Outside the window (since later than every row) there is room again.
    expect(
      (await store.storeReceivedIodef(received('addr:c', '<y/>', 10), { ...quota, since: at(5) })).outcome,
    ).toBe('stored');
    expect(
      await codeOf(store.storeReceivedIodef(received('addr:d', '<z/>'), { ...quota, maxReports: 0 })),
    ).toBe('STORE_INVALID_ARGUMENT');
  });

  it('deletes reports older than the retention cutoff', async () => {
    await fresh();
    await store.storeReceivedIodef(received('addr:a', '<old/>', 0));
    await store.storeReceivedIodef(received('addr:a', '<new/>', 30));
    expect(await store.deleteReceivedIodefBefore(at(10))).toBe(1);
    expect((await store.listReceivedIodef()).map((r) => r.document)).toEqual(['<new/>']);
    expect(await store.deleteReceivedIodefBefore(at(10))).toBe(0);
  });

  it('upgrades version-3 rows: their IncidentID fingerprint groups with new reports, their text is compared', async () => {
    state = await engine.fresh();
    await state.query(schemaMigrationsTable(kind));
    for (const m of MIGRATIONS.filter((x) => x.version <= 3)) {
      for (const statement of m.statements(kind)) await state.query(statement);
      await state.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        at(0),
      ]);
    }
    const legacyKey = sha256Hex('ca.example/inc-1');
    await state.query(
      `INSERT INTO iodef_received (fingerprint, sender, channel, received_at, schema_valid, summary, document)
       VALUES ('${legacyKey}', '192.0.2.1', 'https', '${at(0)}', 1, '{"incidentId":"inc-1"}', '<IODEF-Document>real</IODEF-Document>')`,
    );
    store = await state.open();
    await store.migrate();
    const [legacy] = await store.listReceivedIodef();
    expect(legacy).toMatchObject({
      incidentKey: legacyKey,
      senderKey: '192.0.2.1',
      documentSha256: null,
      conflict: false,
    });
    const same = await store.storeReceivedIodef(
      received('addr:192.0.2.1', '<IODEF-Document>real</IODEF-Document>', 1),
    );
    expect(same).toMatchObject({
      outcome: 'stored',
      conflict: false,
      related: [{ id: legacy?.id, sameDocument: true }],
    });
    const other = await store.storeReceivedIodef(
      received('addr:192.0.2.9', '<IODEF-Document>other</IODEF-Document>', 2),
    );
    expect(other).toMatchObject({ outcome: 'stored', conflict: true });
  });
});
