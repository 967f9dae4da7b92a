/**
 * What "known" means with host inventories (`inventory push`): a certificate a host reported — by
 * its TBS, certificate or key hash — is ours to the central monitor, and says which host. On the
 * real SQLite store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite.js';
import type { HostInventoryItem, Store } from '../store/types.js';
import { classify } from './classify.js';
import type { IssuanceFacts } from './classify.js';
import { HISTORY_DEPTH, historyFor, hostHashIndex, isKnown, loadHistories, loadKnownIndex } from './known.js';

const h = (c: string): string => c.repeat(64);
let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-known-'));
  store = await openSqliteStore(join(dir, 'certvigil.sqlite3'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const pushed: HostInventoryItem = {
  certSha256: h('a'),
  tbsSha256: h('b'),
  spkiSha256: h('c'),
  dnsNames: ['www.example.test'],
  notAfter: '2027-01-01T00:00:00.000Z',
};

function facts(over: Partial<IssuanceFacts>): IssuanceFacts {
  return {
    tbsSha256: h('1'),
    certSha256s: [h('2')],
    spkiSha256: h('3'),
    dnsNames: ['www.example.test'],
    issuer: 'CN=R1',
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2026-04-01T00:00:00Z',
    keyType: 'ECDSA P-256',
    ...over,
  };
}

describe('host inventories in the known index', () => {
  it.each([
    ['its TBS hash', { tbsSha256: h('b') }],
    ['a logged form’s certificate hash', { certSha256s: [h('9'), h('a')] }],
    ['its key', { spkiSha256: h('c') }],
  ])('a certificate a host pushed is known by %s, as host:NAME', async (_, over) => {
    await store.replaceHostInventory('web1', [pushed], '2026-06-01T00:00:00.000Z');
    const k = await loadKnownIndex(store);
    const i = facts(over);
    expect(isKnown(i, k)).toBe(true);
    expect(classify(i, k, [])).toMatchObject({ known: true, knownBy: 'host:web1', reasons: [] });
  });

  it('a certificate no host pushed stays unknown', async () => {
    await store.replaceHostInventory('web1', [pushed], '2026-06-01T00:00:00.000Z');
    const k = await loadKnownIndex(store);
    expect(isKnown(facts({}), k)).toBe(false);
    expect(classify(facts({}), k, []).known).toBe(false);
  });

  it('an empty push forgets the host', async () => {
    await store.replaceHostInventory('web1', [pushed], '2026-06-01T00:00:00.000Z');
    await store.replaceHostInventory('web1', [], '2026-06-02T00:00:00.000Z');
    expect(isKnown(facts({ tbsSha256: h('b') }), await loadKnownIndex(store))).toBe(false);
  });

  it('the local inventory wins over a host for knownBy; of two hosts, the first by name', async () => {
    expect(
      hostHashIndex([
        { ...pushed, host: 'web2', pushedAt: 'x' },
        { ...pushed, host: 'web1', pushedAt: 'x' },
      ]).get(h('b')),
    ).toBe('web1');
    await store.replaceHostInventory('web1', [pushed], '2026-06-01T00:00:00.000Z');
    await store.replaceInventory('pem', [
      {
        source: 'pem',
        path: '/etc/ssl/www.pem',
        certSha256: h('a'),
        tbsSha256: h('b'),
        spkiSha256: h('c'),
        dnsNames: ['www.example.test'],
        issuer: 'CN=R1',
        notBefore: '2026-01-01T00:00:00Z',
        notAfter: '2027-01-01T00:00:00Z',
      },
    ]);
    expect(classify(facts({ tbsSha256: h('b') }), await loadKnownIndex(store), []).knownBy).toBe(
      'inventory-tbs',
    );
  });
});

describe('loadHistories', () => {
  it('answers for every issuance exactly what historyFor answers, in the same order', async () => {
    const { batch, issuance, LOG_A, treeOf } = await import('../store/store.fixture.js');
    await store.ensureCursor({
      logId: LOG_A,
      url: 'https://ct.example/a/',
      kind: 'rfc6962',
      description: 'Log A',
      position: 0,
      tree: treeOf(0),
    });
    const names = [
      ['a.example.com'],
      ['a.example.com', 'b.example.com'],
      ['b.example.com'],
      ['c.example.com', 'a.example.com'],
    ];
    // 80 issuances: a.example.com carries 60 of them, more than HISTORY_DEPTH.
    const issuances = Array.from({ length: 80 }, (_, index) =>
      issuance({ index, dnsNames: names[index % names.length] as string[], issuer: `CN=R${index % 3}` }),
    );
    await store.commitBatch(batch(LOG_A, 0, 80, { issuances }));
    await store.replaceInventory('pem', [
      {
        certSha256: h('e'),
        tbsSha256: h('f'),
        spkiSha256: h('d'),
        dnsNames: ['b.example.com'],
        issuer: 'CN=Inv',
        notBefore: '2025-01-01T00:00:00Z',
        notAfter: '2025-04-01T00:00:00Z',
        source: 'pem',
        path: '/etc/ssl/b.pem',
      },
    ]);
    const k = await loadKnownIndex(store);
    const stored = await store.listIssuances();
    const histories = await loadHistories(
      store,
      stored.flatMap((i) => i.dnsNames),
      k,
    );
    // The batch reads no log entries (a history does not use them); everything else is equal.
    const facts = (items: readonly object[]) => items.map((x) => ({ ...x, entries: [] }));
    for (const i of stored)
      expect(facts(histories.of(i.dnsNames))).toEqual(facts(await historyFor(store, i.dnsNames, k)));
    expect(histories.of(['b.example.com']).some((x) => x.issuer === 'CN=Inv')).toBe(true);
    expect(histories.of(['a.example.com'])).toHaveLength(HISTORY_DEPTH);
  });
});
