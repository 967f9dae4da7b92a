/**
 * The certificate pages over PostgreSQL (the throwaway server of test/harness): suffix search,
 * keyset pages in both directions and the detail page give what they give over SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import { startEngine } from '../src/store/store.fixture.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import type { EngineHarness } from '../src/store/store.fixture.js';
import { issuance, makePagesKit, sha256Hex, textOf } from './server-pages-kit.js';
import type { PagesKit } from './server-pages-kit.js';

let engine: EngineHarness;
let kit: PagesKit;

beforeAll(async () => {
  engine = await startEngine('postgres');
  const fresh = await engine.fresh();
  kit = await makePagesKit({}, { databaseUrl: fresh.location });
  // Two commits: the second batch is seen later (firstSeen), so it comes first on the pages.
  await kit.add(
    [1, 2, 3].map((n) =>
      issuance({ index: n, tbsSha256: sha256Hex(`pg ${n}`), dnsNames: [`h${n}.example.com`] }),
    ),
  );
  await kit.add(
    [4, 5].map((n) =>
      issuance({ index: n, tbsSha256: sha256Hex(`pg ${n}`), dnsNames: [`h${n}.example.org`] }),
    ),
  );
}, 120_000);
afterAll(async () => {
  await kit?.close();
  await engine?.stop();
});

describe('pages over PostgreSQL', () => {
  it('suffix search and the overview', async () => {
    const t = textOf(await (await kit.get('/certificates?q=%25.example.com', kit.viewer)).text());
    expect(t).toContain('3 shown of 3 issuances');
    expect(t).not.toContain('example.org');
    const o = textOf(await (await kit.get('/', kit.viewer)).text());
    expect(o).toContain('h5.example.org');
    expect(o).toContain('not-in-inventory');
  });

  it('keyset pages cover every issuance once, in the store order', async () => {
    const all = (await kit.store.pageIssuances({ order: 'desc', limit: 10 })).map((i) => i.tbsSha256);
    expect(all).toHaveLength(5);
    const seen: string[] = [];
    let path: string | null = '/certificates?limit=2';
    for (let k = 0; path !== null && k < 10; k++) {
      const body = await (await kit.get(path, kit.viewer)).text();
      for (const m of body.matchAll(/href="\/certificates\/([0-9a-f]{64})"/g)) seen.push(m[1] ?? '');
      const older = /<a href="([^"]+)" rel="next">/.exec(body);
      path = older ? (older[1] ?? '').replaceAll('&amp;', '&') : null;
    }
    expect(seen).toEqual(all);
  });

  it('detail page', async () => {
    const res = await kit.get(`/certificates/${sha256Hex('pg 2')}`, kit.viewer);
    expect(res.status).toBe(200);
    expect(textOf(await res.text())).toContain('h2.example.com');
  });
});
