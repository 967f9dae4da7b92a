/**
 * Issue 16: HTTP API latency with 100,000 stored issuances (SQLite, the default engine). The state
 * is written straight through the store (`commitBatch`, 1,000 issuances a batch: what the monitor
 * commits), spread over `SERVER_BENCH_DOMAINS` (default 1,000) registered domains, i.e. 100
 * issuances of `www.dN` and `dN` each by default: every view reads the history of its names, so
 * this is the costly case (some of them in the inventory, so classification has both answers); the server is the real app on a real socket
 * (`listen`, node:http on 127.0.0.1), asked with fetch, one request at a time, after a warm-up.
 * Bounded: `SERVER_BENCH_REQUESTS` requests per row (default 50) and a 2-minute budget per row.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, listen } from '../src/server/index.js';
import { newToken } from '../src/server/auth/secrets.js';
import { openStore } from '../src/store/index.js';
import type { InventoryRecord, IssuanceInput, Store } from '../src/store/index.js';
import { formatTable } from './table.js';

export interface ServerRow {
  request: string;
  items: number;
  samples: number[];
}

const DOMAINS = Number(process.env.SERVER_BENCH_DOMAINS ?? 1000);
const LOG_ID = Buffer.alloc(32, 0x42).toString('base64');
const hex = (s: string): string => createHash('sha256').update(s).digest('hex');

function issuanceAt(i: number): IssuanceInput {
  const domain = `d${i % DOMAINS}.bench.test`;
  const tbs = hex(`tbs ${i}`);
  return {
    tbsSha256: tbs,
    certSha256: hex(`cert ${i}`),
    type: i % 2 === 0 ? 'precert' : 'x509',
    dnsNames: [`www.${domain}`, domain],
    ipAddresses: [],
    issuer: i % 10 === 0 ? 'C=US, O=Other CA, CN=Other R1' : "C=US, O=Let's Encrypt, CN=R11",
    serial: (i + 1).toString(16),
    notBefore: new Date(Date.UTC(2025, 0, 1) + (i % 365) * 86_400_000).toISOString(),
    notAfter: new Date(Date.UTC(2025, 3, 1) + (i % 365) * 86_400_000).toISOString(),
    spkiSha256: hex(`spki ${i % 5000}`),
    keyType: 'ECDSA P-256',
    logId: LOG_ID,
    index: i,
    timestamp: 1_735_689_600_000 + i,
  };
}

async function fill(store: Store, count: number): Promise<void> {
  await store.ensureCursor({
    logId: LOG_ID,
    url: 'https://ct.bench.test/log/',
    kind: 'rfc6962',
    description: 'bench log',
    position: 0,
    tree: { size: 0, hashes: [] },
  });
  const BATCH = 1000;
  for (let start = 0; start < count; start += BATCH) {
    const issuances = Array.from({ length: Math.min(BATCH, count - start) }, (_, k) => issuanceAt(start + k));
    await store.commitBatch({
      logId: LOG_ID,
      expectedPosition: start,
      newPosition: start + issuances.length,
      tree: { size: start + issuances.length, hashes: [] },
      issuances,
      malformed: [],
      alerts: [],
    });
  }
  // Our own ACME client holds the certificates of every second issuance of the first 2,000.
  const inventory: InventoryRecord[] = [];
  for (let i = 0; i < 2000; i += 2) {
    const x = issuanceAt(i);
    inventory.push({
      tbsSha256: x.tbsSha256,
      dnsNames: x.dnsNames,
      issuer: x.issuer,
      notBefore: x.notBefore,
      notAfter: x.notAfter,
      spkiSha256: x.spkiSha256,
      certSha256: x.certSha256 ?? '',
      source: 'bench',
      path: `/etc/bench/${i}.pem`,
    });
  }
  await store.replaceInventory('bench', inventory);
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
}

export async function benchServer(
  count = Number(process.env.SERVER_BENCH_ISSUANCES ?? 100_000),
  requests = Number(process.env.SERVER_BENCH_REQUESTS ?? 50),
): Promise<{ rows: ServerRow[]; fillMs: number; count: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-bench-server-'));
  const store = await openStore({ stateDir: dir });
  try {
    await store.migrate();
    const t0 = performance.now();
    await fill(store, count);
    const fillMs = performance.now() - t0;
    const t = newToken();
    await store.createToken({
      id: t.id,
      name: 'bench',
      role: 'viewer',
      tokenSha256: t.tokenSha256,
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const server = await listen(createApp({ store, logger, secureCookies: false }), {
      host: '127.0.0.1',
      port: 0,
    });
    const headers = { authorization: `Bearer ${t.token}` };
    const ask = async (
      path: string,
    ): Promise<{ ms: number; items: number; body: Record<string, unknown> }> => {
      const start = performance.now();
      const res = await fetch(`${server.url}${path}`, { headers });
      const text = await res.text();
      const ms = performance.now() - start;
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${text.slice(0, 200)}`);
      // A page (HTML): its table rows are the items.
      if (!(res.headers.get('content-type') ?? '').startsWith('application/json'))
        return { ms, items: Math.max(0, text.split('<tr').length - 2), body: {} };
      const body = JSON.parse(text) as Record<string, unknown>;
      const list = (body.certificates ?? body.issuances ?? [body.certificate]) as unknown[];
      return { ms, items: list.length, body };
    };
    const middle = (await ask(`/api/v1/issuances?limit=1000`)).body.next as string;
    const hash = issuanceAt(Math.floor(count / 2)).tbsSha256;
    const perDomain = Math.ceil(count / DOMAINS);
    const cases: [string, string][] = [
      [
        `/api/v1/certificates?name=d42.bench.test (${perDomain} match)`,
        '/api/v1/certificates?name=d42.bench.test',
      ],
      [
        '/api/v1/certificates?name=www.d42.bench.test&limit=10',
        '/api/v1/certificates?name=www.d42.bench.test&limit=10',
      ],
      [`/api/v1/certificates?name=bench.test (${count} match)`, '/api/v1/certificates?name=bench.test'],
      [
        '/api/v1/certificates?name=d7.bench.test&known=false',
        '/api/v1/certificates?name=d7.bench.test&known=false',
      ],
      [
        '/api/v1/certificates?issuer=Other&limit=20 (all names)',
        '/api/v1/certificates?issuer=Other&limit=20',
      ],
      ['/api/v1/certificates/:hash', `/api/v1/certificates/${hash}`],
      ['/api/v1/issuances (feed start, default page)', '/api/v1/issuances'],
      ['/api/v1/issuances?after=… (feed at 1,000, default page)', `/api/v1/issuances?after=${middle}`],
      ['/api/v1/issuances?limit=100 (feed start)', '/api/v1/issuances?limit=100'],
      ['page /certificates?q=d42.bench.test', '/certificates?q=d42.bench.test'],
      ['page /certificates?q=%.bench.test', '/certificates?q=%25.bench.test'],
      ['page /certificates?q=d7.bench.test&known=unknown', '/certificates?q=d7.bench.test&known=unknown'],
      ['page /certificates/:hash', `/certificates/${hash}`],
      ['page / (overview)', '/'],
    ];
    const rows: ServerRow[] = [];
    for (const [label, path] of cases) {
      for (let w = 0; w < 3; w++) await ask(path);
      const samples: number[] = [];
      let items = 0;
      const deadline = performance.now() + 120_000;
      for (let i = 0; i < requests && performance.now() < deadline; i++) {
        const r = await ask(path);
        samples.push(r.ms);
        items = r.items;
      }
      rows.push({ request: label, items, samples });
    }
    await server.close();
    return { rows, fillMs, count };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatServerRows(rows: readonly ServerRow[]): string {
  return formatTable(
    ['GET', 'items', 'requests', 'p50 ms', 'p95 ms', 'max ms'],
    rows.map((r) => {
      const s = [...r.samples].sort((a, b) => a - b);
      return [
        r.request,
        String(r.items),
        String(s.length),
        quantile(s, 0.5).toFixed(1),
        quantile(s, 0.95).toFixed(1),
        (s[s.length - 1] ?? NaN).toFixed(1),
      ];
    }),
  );
}
