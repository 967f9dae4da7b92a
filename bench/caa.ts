/**
 * CAA decisions per second and latency percentiles at several concurrency levels, against the local
 * Unbound of the test harness (answers come from its cache after the warm-up pass, so this
 * measures certvigil's own cost plus one loopback resolver round trip per search-path level).
 * Beside it, raw CAA queries per second through the same resolver, for the per-decision overhead.
 */
import { readFileSync } from 'node:fs';
import { evaluateCaa } from '../src/caa/index.js';
import { StubResolver } from '../src/dns/index.js';
import { startDnsStack } from '../test/harness/dns-stack.js';
import { OWN_RECORDS } from '../test/caa-own-cases.js';
import { formatTable } from './table.js';

interface Row {
  what: string;
  concurrency: number;
  ops: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(
  what: string,
  concurrency: number,
  total: number,
  op: (i: number) => Promise<unknown>,
): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    what,
    concurrency,
    ops: total,
    seconds,
    perSecond: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

export async function benchCaa(): Promise<Row[]> {
  const vectors = JSON.parse(
    readFileSync(new URL('../test/vectors/caa-cases.json', import.meta.url), 'utf8'),
  ) as {
    cases: { name: string; issuer: string; accountUri: string | null; method: string }[];
  };
  // big.caa.test (1,001 records over TCP) is kept: a CA meets such names too.
  const cases = vectors.cases;
  const stack = await startDnsStack({ extraRecords: OWN_RECORDS });
  try {
    const resolver = new StubResolver({ servers: [stack.resolver], timeoutMs: 5000, attempts: 2 });
    const decide = (i: number) => {
      const c = cases[i % cases.length];
      if (!c) throw new Error('no CAA cases in the vectors');
      return evaluateCaa(
        { name: c.name, issuerDomains: [c.issuer], accountUri: c.accountUri, validationMethod: c.method },
        resolver,
      );
    };
    // Warm-up: fill Unbound's cache so every level measures the same thing.
    for (let i = 0; i < cases.length; i++) await decide(i);
    const rows: Row[] = [];
    for (const concurrency of [1, 8, 32, 128]) {
      rows.push(
        await measure('CAA decision (mixed vectors)', concurrency, concurrency === 1 ? 1000 : 4000, decide),
      );
    }
    for (const concurrency of [1, 32]) {
      rows.push(
        await measure('raw CAA query (le.caa.test)', concurrency, 4000, () =>
          resolver.query('le.caa.test', 'CAA'),
        ),
      );
    }
    return rows;
  } finally {
    await stack.stop();
  }
}

export function formatRows(rows: Row[]): string {
  const header = ['what', 'concurrency', 'ops', 'seconds', 'ops/s', 'p50 ms', 'p99 ms'];
  const body = rows.map((r) => [
    r.what,
    String(r.concurrency),
    String(r.ops),
    r.seconds.toFixed(2),
    r.perSecond.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
  ]);
  return formatTable(header, body);
}
