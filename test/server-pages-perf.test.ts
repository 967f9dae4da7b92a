/**
 * The pages on 10,000 stored issuances (real SQLite store): each page renders from bounded store
 * reads. Timings are printed, not asserted (2 shared cores); the test asserts only that every
 * page answers 200 and that the certificate list is a page, not the whole table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuance, makePagesKit, sha256Hex } from './server-pages-kit.js';
import type { PagesKit } from './server-pages-kit.js';

// CERTVIGIL_PAGES_PERF_N=100000 measures the issue's 100k case by hand (not in CI: filling takes minutes).
const N = Number(process.env['CERTVIGIL_PAGES_PERF_N'] ?? 10_000);
let kit: PagesKit;

beforeAll(async () => {
  kit = await makePagesKit({ watchedDomains: async () => ['example.com'] });
  const all = [];
  for (let i = 0; i < N; i++)
    all.push(
      issuance({
        index: i,
        tbsSha256: sha256Hex(`perf ${i}`),
        dnsNames: [`host${i}.${i % 10 === 0 ? 'example.com' : `d${i % 97}.example.net`}`],
        notBefore: new Date(Date.UTC(2025, i % 12, 1 + (i % 27))).toISOString(),
      }),
    );
  await kit.add(all);
}, 900_000);
afterAll(async () => {
  await kit.close();
});

describe(`pages on ${N} issuances`, () => {
  it('every page answers 200 in bounded time (printed)', async () => {
    const paths = [
      '/',
      '/certificates',
      '/certificates?q=%25.example.com',
      '/certificates?q=d5.example.net',
      '/certificates?known=known',
      '/certificates?issuer=nomatch',
      '/certificates?severity=critical',
      `/certificates/${sha256Hex('perf 5000')}`,
      '/domains',
      '/domains/example.com',
      '/alerts',
    ];
    const lines: string[] = [];
    // One warm-up (view context cache, statement cache), then the median of 5 runs.
    for (const p of paths) {
      await kit.get(p, kit.viewer);
      const times: number[] = [];
      let body = '';
      for (let k = 0; k < 5; k++) {
        const t0 = performance.now();
        const res = await kit.get(p, kit.viewer);
        body = await res.text();
        times.push(performance.now() - t0);
        expect(res.status, p).toBe(200);
      }
      times.sort((a, b) => a - b);
      lines.push(
        `${p.padEnd(60)} median ${times[2]?.toFixed(1)} ms, max ${times[4]?.toFixed(1)} ms, ${body.length} bytes`,
      );
      if (p === '/certificates') expect(body.match(/href="\/certificates\/[0-9a-f]{64}"/g)?.length).toBe(50);
    }
    console.log(`page render times over ${N} issuances (app.request, SQLite):\n${lines.join('\n')}`);
  }, 120_000);
});
