/**
 * Migration 8 (issue 18): issuances imported by `certvigil backfill`, marked with their source, and
 * the same certificate seen later in a log stays ONE issuance; plus the iodef outbox document, which
 * the two engines stored differently before issue 18. One suite for both engines (PostgreSQL from
 * test/harness/postgres.ts), like web.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { useEngineSuite } from './engine-suite.fixture.js';
import { LOG_A, ENGINES, batch, codeOf, ensureLogA, issuance, sha256Hex } from './store.fixture.js';
import type { ImportedIssuance, Store } from './types.js';

function imported(label: string, over: Partial<ImportedIssuance> = {}): ImportedIssuance {
  const tbsSha256 = over.tbsSha256 ?? sha256Hex(`tbs ${label}`);
  return {
    tbsSha256,
    certSha256: sha256Hex(`cert ${label}`),
    dnsNames: [`${label}.example.com`],
    ipAddresses: [],
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    serial: '0badc0de',
    notBefore: '2025-01-01T00:00:00Z',
    notAfter: '2025-04-01T00:00:00Z',
    spkiSha256: sha256Hex(`spki ${label}`),
    keyType: 'ECDSA P-256',
    sourceId: `id-${label}`,
    ...over,
  };
}

describe.each(ENGINES)('%s store: imported issuances (migration 8)', (kind) => {
  const suite = useEngineSuite(kind);
  let store: Store;
  async function fresh(): Promise<Store> {
    store = await suite.fresh();
    return store;
  }

  it('stores imported issuances with their source, findable by name and page, idempotently', async () => {
    await fresh();
    const a = imported('a');
    const b = imported('b', { certSha256: null, dnsNames: ['b.example.com', '*.b.example.com'] });
    expect(await store.importIssuances('backfill:crtsh', [a, b])).toEqual({ added: 2, known: 0 });
    expect(await store.importIssuances('backfill:crtsh', [a, b])).toEqual({ added: 0, known: 2 });
    const all = await store.listIssuances();
    expect(all.map((i) => [i.tbsSha256, i.sources, i.entries, i.certSha256s])).toEqual(
      [
        [a.tbsSha256, ['backfill:crtsh'], [], [a.certSha256]],
        [b.tbsSha256, ['backfill:crtsh'], [], []],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    );
    expect((await store.issuancesForName('a.example.com')).map((i) => i.tbsSha256)).toEqual([a.tbsSha256]);
    // The internal check's history (monitor/known.ts) reads issuancesForNames: imported ones are there.
    const history = await store.issuancesForNames(['a.example.com', '*.b.example.com'], 5);
    expect(history.map((i) => i.tbsSha256).sort()).toEqual([a.tbsSha256, b.tbsSha256].sort());
    expect(history.every((i) => i.sources?.[0] === 'backfill:crtsh')).toBe(true);
    expect(await store.countIssuances('example.com')).toBe(2);
    const page = await store.pageIssuances({ name: 'b.example.com', limit: 10 });
    expect(page.map((i) => [i.tbsSha256, i.sources])).toEqual([[b.tbsSha256, ['backfill:crtsh']]]);
    expect((await store.findIssuances(a.certSha256?.slice(0, 12) ?? ''))[0]?.tbsSha256).toBe(a.tbsSha256);
  });

  it('a certificate imported, then logged, is one issuance with both the source and the entry', async () => {
    await fresh();
    await ensureLogA(store);
    const logged = issuance({ index: 0, dnsNames: ['www.example.com'] });
    const [before] = await Promise.all([
      store.importIssuances('backfill:certspotter', [
        imported('www', { tbsSha256: logged.tbsSha256, certSha256: logged.certSha256 }),
      ]),
    ]);
    expect(before).toEqual({ added: 1, known: 0 });
    const firstSeen = (await store.listIssuances())[0]?.firstSeen;
    await store.commitBatch(batch(LOG_A, 0, 1, { issuances: [logged] }));
    const all = await store.listIssuances();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      tbsSha256: logged.tbsSha256,
      sources: ['backfill:certspotter'],
      certSha256s: [logged.certSha256],
      firstSeen,
      entries: [{ logId: LOG_A, index: 0, type: 'x509', timestamp: logged.timestamp }],
    });
    // And the other way round: logged first, imported later by two sources: still one.
    const other = issuance({ index: 1, dnsNames: ['mail.example.com'] });
    await store.commitBatch(batch(LOG_A, 1, 2, { issuances: [other] }));
    const again = imported('mail', { tbsSha256: other.tbsSha256, certSha256: other.certSha256 });
    expect(await store.importIssuances('backfill:crtsh', [again])).toEqual({ added: 0, known: 1 });
    expect(await store.importIssuances('backfill:certspotter', [again])).toEqual({ added: 0, known: 1 });
    const both = (await store.findIssuances(other.tbsSha256))[0];
    expect(both?.sources).toEqual(['backfill:certspotter', 'backfill:crtsh']);
    expect(both?.entries).toHaveLength(1);
    // An issuance found in logs only carries no `sources` field (reads as before migration 8).
    await store.commitBatch(batch(LOG_A, 2, 3, { issuances: [issuance({ index: 2 })] }));
    const plain = (await store.findIssuances(sha256Hex('tbs 2')))[0];
    expect(plain).toBeDefined();
    expect(plain && 'sources' in plain).toBe(false);
  });

  it('cleans U+0000 in imported text as in logged text, and refuses bad input', async () => {
    await fresh();
    const nul = imported('nul', { issuer: 'CN=evil\0CA', dnsNames: ['x\0.example.com'] });
    await store.importIssuances('backfill:crtsh', [nul]);
    const [got] = await store.listIssuances();
    expect(got?.issuer).toBe('CN=evil\uFFFDCA');
    expect(got?.dnsNames).toEqual(['x\uFFFD.example.com']);
    expect(await codeOf(store.importIssuances('backfill:crtsh', [imported('x', { tbsSha256: 'AB' })]))).toBe(
      'STORE_INVALID_ARGUMENT',
    );
    expect(await codeOf(store.importIssuances('Backfill crt.sh', [imported('y')]))).toBe(
      'STORE_INVALID_ARGUMENT',
    );
    const many = Array.from({ length: 1001 }, (_, i) => imported(`m${i}`));
    expect(await codeOf(store.importIssuances('backfill:crtsh', many))).toBe('STORE_INVALID_ARGUMENT');
    expect(await store.listIssuances()).toHaveLength(1);
  });

  it('stores an iodef report document the same way (U+0000 cleaned) — the issue-18 drift', async () => {
    await fresh();
    const at = '2026-11-24T06:00:00.000Z';
    const result = await store.enqueueIodefReport(
      {
        dedupKey: 'k',
        recipient: 'mailto:sec@example.test',
        channel: 'mailto',
        registeredDomain: 'example.test',
        names: ['www.example.test'],
        reason: 'issuer-not-authorized',
        incidentId: 'inc-1',
        document: '<IODEF-Document>\0</IODEF-Document>',
        createdAt: at,
      },
      { dedupSince: at, recipientSince: at, recipientMax: 3, domainSince: at, domainMax: 3 },
    );
    expect(result.outcome).toBe('enqueued');
    const [row] = await store.listIodefOutbox();
    expect(row?.document).toBe('<IODEF-Document>\uFFFD</IODEF-Document>');
  });
});
