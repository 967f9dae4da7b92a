/**
 * The RFC 6962 client against a `node:http` log on 127.0.0.1: first serving the ctgo vectors
 * (test/vectors/ct/ctgo/client, README §2) and every row of error_responses.json, then a synthetic
 * log of 1,000 entries that answers get-entries in short pieces, throttles, fails and stalls, for
 * `entriesRange`.
 */
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRawEntry } from './entry.js';
import { CtHttpClient } from './http.js';
import type { CtHttpOptions } from './http.js';
import type { Clock } from './rate-limit.js';
import { Rfc6962LogClient } from './rfc6962-client.js';
import type { Rfc6962Entry } from './rfc6962-client.js';

const VECTORS = join(import.meta.dirname, '../../test/vectors/ct/ctgo/client');
const vector = (name: string): string => readFileSync(join(VECTORS, name), 'utf8');

interface ErrorRow {
  go_test: string;
  endpoint: string;
  desc: string;
  rsp: string | null;
  start?: number;
  end?: number;
  first?: number;
  second?: number;
}
const ERROR_ROWS = (JSON.parse(vector('error_responses.json')) as { cases: ErrorRow[] }).cases;

/**
 * Rows this layer accepts on purpose: the JSON and base64 are fine, only the leaf is not a
 * MerkleTreeLeaf ("Only a client that decodes leaves rejects it", README §2). `ct/entry` rejects it.
 */
const LEFT_TO_LEAF_PARSER = new Set(['TestGetEntriesErrors/bad json']);

type Route = (url: URL, res: http.ServerResponse) => void;

interface Log {
  base: string;
  requests: URL[];
  maxInFlight: number;
  route: Route;
}

const clients: CtHttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
});

function fakeClock(): Clock & { sleeps: number[] } {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const sleeps: number[] = [];
  return { sleeps, now: () => now, sleep: async (ms) => void (sleeps.push(ms), (now += ms)) };
}

function httpClient(options: CtHttpOptions = {}): CtHttpClient {
  const c = new CtHttpClient({ timeoutMs: 5_000, clock: fakeClock(), ...options });
  clients.push(c);
  return c;
}

/** One server for the whole file; each test installs its own `route`. */
const log: Log = { base: '', requests: [], maxInFlight: 0, route: () => undefined };
let server: http.Server;
beforeAll(async () => {
  let inFlight = 0;
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', log.base);
    log.requests.push(url);
    inFlight++;
    log.maxInFlight = Math.max(log.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    log.route(url, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  log.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});
afterEach(() => {
  log.requests = [];
  log.maxInFlight = 0;
  log.route = () => undefined;
});

function send(
  res: http.ServerResponse,
  body: string,
  status = 200,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}

const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');

describe('ctgo vectors: each endpoint parses to decoded bytes', () => {
  const routes: Record<string, string> = {
    '/log/ct/v1/get-sth': 'ValidSTHResponse.json',
    '/log/ct/v1/get-sth-consistency': 'GetSTHConsistencyResp.json',
    '/log/ct/v1/get-proof-by-hash': 'ProofByHashResp.json',
    '/log/ct/v1/get-entries': 'GetEntriesResp.json',
    '/log/ct/v1/get-roots': 'GetRootsResp.json',
    '/log/ct/v1/get-entry-and-proof': 'GetEntryAndProofResp.json',
  };
  const serveVectors = (): Rfc6962LogClient => {
    log.route = (url, res) => {
      const file = routes[url.pathname];
      if (file === undefined) send(res, 'no such endpoint', 404);
      else send(res, vector(file));
    };
    // No trailing slash on purpose: the prefix gets one.
    return new Rfc6962LogClient(`${log.base}/log`, httpClient());
  };

  it('get-sth: size, timestamp, 32-byte root, DigitallySigned(sha256, ecdsa) and its raw bytes', async () => {
    const sth = await serveVectors().getSth();
    expect(sth.treeSize).toBe(3721782);
    expect(sth.timestamp).toBe(1396609800587);
    expect(text(sth.rootHash)).toBe('SxKOxksguvHPyUaKYKXoZHzXl91Q257+JQ0AUMlFfeo=');
    expect([sth.signature.hashAlgorithm, sth.signature.signatureAlgorithm]).toEqual([4, 3]);
    expect(text(sth.treeHeadSignature)).toBe(
      'BAMARjBEAiBUYO2tODlUUw4oWGiVPUHqZadRRyXs9T2rSXchA79VsQIgLASkQv3cu4XdPFCZbgFkIUefniNPCpO3LzzHX53l+wg=',
    );
    expect(sth.signature.signature).toHaveLength(sth.treeHeadSignature.length - 4);
    expect(log.requests.map((u) => u.pathname)).toEqual(['/log/ct/v1/get-sth']);
  });

  it('get-sth-consistency: the exact proof for (1, 3), JSON "\\/" escape included', async () => {
    const proof = await serveVectors().getSthConsistency(1, 3);
    expect(proof.map(text)).toEqual([
      'IqlrapPQKtmCY1jCr8+lpCtscRyjjZAA7nyadtFPRFQ=',
      'ytf6K2GnSRZ3Au+YkivCb7N1DygfKyZmE4aEs9OXl/8=',
    ]);
    expect(log.requests[0]?.search).toBe('?first=1&second=3');
  });

  it('get-proof-by-hash: leaf index and path; the hash parameter survives "+", "/" and "="', async () => {
    const leafHash = Buffer.from('fbff' + '4a9e8edb'.repeat(7) + '00ff', 'hex');
    expect(text(leafHash)).toMatch(/[+/=]/);
    const proof = await serveVectors().getProofByHash(leafHash, 5);
    expect(proof.leafIndex).toBe(3);
    expect(proof.auditPath.map(text)).toEqual([
      'pMumx96PIUB3TX543ljlpQ/RgZRqitRfykupIZrXq0Q=',
      '5s2NQWkjmesu+Kqgp70TCwVLwq8obpHw/JyMGwN56pQ=',
      '7VelXijfmGFSl62BWIsG8LRmxJGBq9XP8FxmszuT2Cg=',
    ]);
    const asked = log.requests[0];
    expect(asked?.searchParams.get('hash')).toBe(text(leafHash));
    expect(asked?.searchParams.get('tree_size')).toBe('5');
  });

  it('get-entries: two raw entries numbered from start, bytes undecoded', async () => {
    const entries = await serveVectors().getEntries(0, 1);
    expect(entries.map((e) => e.index)).toEqual([0, 1]);
    expect(log.requests[0]?.search).toBe('?start=0&end=1');
    // First bytes of a v1 timestamped_entry MerkleTreeLeaf; entry 0 is a precert (entry_type 1).
    expect([...(entries[0]?.leafInput.subarray(0, 2) ?? [])]).toEqual([0, 0]);
    expect([...(entries[0]?.leafInput.subarray(10, 12) ?? [])]).toEqual([0, 1]);
    expect([...(entries[1]?.leafInput.subarray(10, 12) ?? [])]).toEqual([0, 0]);
    expect(entries.every((e) => e.extraData.length > 0)).toBe(true);
  });

  it('get-roots: one DER certificate, CN=esignit.org', async () => {
    const roots = await serveVectors().getRoots();
    expect(roots).toHaveLength(1);
    expect(new crypto.X509Certificate(Buffer.from(roots[0] ?? [])).subject).toBe('CN=esignit.org');
  });

  it('get-entry-and-proof: opaque extra_data "Extra\\n" and a 3-node path', async () => {
    const got = await serveVectors().getEntryAndProof(3, 5);
    expect(Buffer.from(got.extraData).toString()).toBe('Extra\n');
    expect(got.auditPath).toHaveLength(3);
    expect(got.leafInput.length).toBeGreaterThan(600);
    expect(log.requests[0]?.search).toBe('?leaf_index=3&tree_size=5');
  });
});

describe('error_responses.json: every row fails (41 rows)', () => {
  it('has the 41 rows the README announces', () => {
    expect(ERROR_ROWS).toHaveLength(41);
  });

  const call = (client: Rfc6962LogClient, row: ErrorRow): Promise<unknown> => {
    switch (row.endpoint) {
      case '/ct/v1/get-entries':
        return client.getEntries(row.start ?? 0, row.end ?? 0);
      case '/ct/v1/get-sth':
        return client.getSth();
      case '/ct/v1/get-sth-consistency':
        return client.getSthConsistency(row.first ?? 0, row.second ?? 0);
      case '/ct/v1/get-proof-by-hash':
        return client.getProofByHash(new Uint8Array(32), 100);
      case '/ct/v1/get-roots':
        return client.getRoots();
      case '/ct/v1/get-entry-and-proof':
        return client.getEntryAndProof(1, 2);
      default:
        throw new Error(`unexpected endpoint ${row.endpoint}`);
    }
  };

  /** Why a row fails, where the reason is this layer's own check rather than JSON or base64 syntax. */
  const reasons: Record<string, RegExp> = {
    'TestGetSTHErrors/invalid hash len': /sha256_root_hash: hash is 3 bytes, not 32/,
    'TestGetSTHErrors/bad tls data': /tree_head_signature: DigitallySigned: signature needs/,
    'TestGetSTHErrors/trailing junk': /tree_head_signature: DigitallySigned: .*trailing/,
    'TestGetSTHErrors/root not base64': /not standard padded base64/,
    'TestGetEntriesErrors/extra_data not base64': /not standard padded base64/,
    'TestGetEntriesErrors/eof': /empty body/,
  };

  it.each(ERROR_ROWS.map((row) => [`${row.go_test}/${row.desc}`, row] as const))('%s', async (name, row) => {
    log.route = (_url, res) => send(res, row.rsp ?? '');
    const client = new Rfc6962LogClient(`${log.base}/`, httpClient({ maxAttempts: 1 }));
    if (LEFT_TO_LEAF_PARSER.has(name)) {
      // Accepted here as opaque bytes; the leaf parser is what refuses it.
      const entries = (await call(client, row)) as Rfc6962Entry[];
      expect(entries).toHaveLength(1);
      for (const e of entries) expect(() => parseRawEntry(e.index, e.leafInput, e.extraData)).toThrow();
      return;
    }
    const err = await call(client, row).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    if (row.rsp === null) {
      // The arguments themselves are wrong (end < 0, start > end): nothing is sent.
      expect(err?.code).toBe('CT_INVALID_ARGUMENT');
      expect(log.requests).toHaveLength(0);
    } else {
      expect(err?.code).toBe('CT_BAD_RESPONSE');
      expect(log.requests).toHaveLength(1); // a malformed answer is not retried
      const why = reasons[name];
      if (why) expect(err?.message).toMatch(why);
    }
  });
});

describe('argument and response checks', () => {
  it.each<[string, (c: Rfc6962LogClient) => Promise<unknown>]>([
    ['negative start', (c) => c.getEntries(-1, 3)],
    ['fractional end', (c) => c.getEntries(0, 1.5)],
    ['first > second', (c) => c.getSthConsistency(5, 4)],
    ['short leaf hash', (c) => c.getProofByHash(new Uint8Array(31), 10)],
    ['tree size 0', (c) => c.getProofByHash(new Uint8Array(32), 0)],
    ['index beyond tree', (c) => c.getEntryAndProof(5, 5)],
    ['range backwards', async (c) => c.entriesRange(10, 9).next()],
    ['batch size 0', async (c) => c.entriesRange(0, 9, { batchSize: 0 }).next()],
  ])('%s → CT_INVALID_ARGUMENT, nothing sent', async (_name, f) => {
    const client = new Rfc6962LogClient(log.base, httpClient());
    await expect(f(client)).rejects.toMatchObject({ code: 'CT_INVALID_ARGUMENT' });
    expect(log.requests).toHaveLength(0);
  });

  it('refuses a get-entries answer with more entries than asked for', async () => {
    const entry = { leaf_input: 'AAAA', extra_data: '' };
    log.route = (_url, res) => send(res, JSON.stringify({ entries: [entry, entry, entry] }));
    const client = new Rfc6962LogClient(log.base, httpClient());
    await expect(client.getEntries(0, 1)).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' });
  });

  it('refuses a proof whose leaf_index is outside the tree', async () => {
    log.route = (_url, res) => send(res, JSON.stringify({ leaf_index: 7, audit_path: [] }));
    const client = new Rfc6962LogClient(log.base, httpClient());
    await expect(client.getProofByHash(new Uint8Array(32), 7)).rejects.toMatchObject({
      code: 'CT_BAD_RESPONSE',
    });
  });

  it('HTTP errors of the log come through typed, with the URL', async () => {
    log.route = (_url, res) => send(res, '{"error":"start beyond tree"}', 400);
    const client = new Rfc6962LogClient(`${log.base}/x/`, httpClient());
    await expect(client.getEntries(10, 20)).rejects.toMatchObject({
      code: 'CT_HTTP',
      status: 400,
      url: `${log.base}/x/ct/v1/get-entries?start=10&end=20`,
    });
  });
});

// ---- entriesRange over a synthetic log --------------------------------------------------------

const SIZE = 1000;
/** Entry i: leaf_input = uint64 i || "leaf", extra_data = "extra i". */
function entryJson(i: number): { leaf_input: string; extra_data: string } {
  const leaf = Buffer.alloc(12);
  leaf.writeBigUInt64BE(BigInt(i));
  leaf.write('leaf', 8);
  return { leaf_input: leaf.toString('base64'), extra_data: Buffer.from(`extra ${i}`).toString('base64') };
}
const entryIndex = (e: Rfc6962Entry): number => Number(Buffer.from(e.leafInput).readBigUInt64BE(0));

interface SyntheticOptions {
  /** Most entries per answer (RFC 6962 §4.6: "fewer entries than requested"). */
  cap?: number;
  delayMs?: number;
  /** Override an answer: return a body/status to send instead, or undefined to answer normally. */
  intercept?: (
    start: number,
    end: number,
    n: number,
  ) => { status: number; body: string; headers?: http.OutgoingHttpHeaders } | undefined;
}

function syntheticLog(options: SyntheticOptions = {}): void {
  let n = 0;
  log.route = (url, res) => {
    n++;
    const start = Number(url.searchParams.get('start'));
    const end = Math.min(Number(url.searchParams.get('end')), SIZE - 1);
    const answer = (): void => {
      const special = options.intercept?.(start, end, n);
      if (special) return send(res, special.body, special.status, special.headers);
      const last = Math.min(end, start + (options.cap ?? 1000) - 1);
      const entries = [];
      for (let i = start; i <= last; i++) entries.push(entryJson(i));
      send(res, JSON.stringify({ entries }));
    };
    if (options.delayMs) setTimeout(answer, options.delayMs);
    else answer();
  };
}

async function collect(it: AsyncIterable<Rfc6962Entry>): Promise<Rfc6962Entry[]> {
  const out: Rfc6962Entry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function expectExactly(entries: Rfc6962Entry[], from: number, to: number): void {
  expect(entries).toHaveLength(to - from + 1);
  entries.forEach((e, k) => {
    expect(e.index).toBe(from + k);
    expect(entryIndex(e)).toBe(from + k);
    expect(Buffer.from(e.extraData).toString()).toBe(`extra ${from + k}`);
  });
}

describe('entriesRange', () => {
  it('short answers (≤ 7 entries per call) still give the whole range, in order, each once', async () => {
    syntheticLog({ cap: 7 });
    const client = new Rfc6962LogClient(log.base, httpClient({ maxConcurrency: 8 }));
    const entries = await collect(client.entriesRange(0, SIZE - 1, { batchSize: 100, concurrency: 4 }));
    expectExactly(entries, 0, SIZE - 1);
    // Each 100-entry batch needs ceil(100 / 7) = 15 asks, each resuming where the last one stopped.
    expect(log.requests).toHaveLength(10 * 15);
    const starts = log.requests.map((u) => Number(u.searchParams.get('start')));
    expect(new Set(starts).size).toBe(starts.length);
  });

  it('works for a range not aligned to batches, and for a single entry', async () => {
    syntheticLog({ cap: 7 });
    const client = new Rfc6962LogClient(log.base, httpClient());
    expectExactly(await collect(client.entriesRange(123, 456, { batchSize: 50, concurrency: 3 })), 123, 456);
    expectExactly(await collect(client.entriesRange(999, 999)), 999, 999);
  });

  it('keeps at most `concurrency` requests in flight, and never more than the HTTP client allows', async () => {
    syntheticLog({ cap: 20, delayMs: 20 });
    const wide = new Rfc6962LogClient(log.base, httpClient({ maxConcurrency: 16 }));
    expectExactly(await collect(wide.entriesRange(0, 499, { batchSize: 25, concurrency: 4 })), 0, 499);
    expect(log.maxInFlight).toBe(4);
    log.maxInFlight = 0;
    const narrow = new Rfc6962LogClient(log.base, httpClient({ maxConcurrency: 2 }));
    expectExactly(await collect(narrow.entriesRange(0, 499, { batchSize: 25, concurrency: 8 })), 0, 499);
    expect(log.maxInFlight).toBe(2);
  });

  it('rides out 429 + Retry-After and 5xx in the middle of a range', async () => {
    syntheticLog({
      cap: 50,
      intercept: (start, _end, n) => {
        if (start === 200 && n < 10)
          return { status: 429, body: 'slow down', headers: { 'retry-after': '2' } };
        if (start === 400 && n < 12) return { status: 503, body: 'busy' };
        return undefined;
      },
    });
    const clock = fakeClock();
    const client = new Rfc6962LogClient(log.base, httpClient({ clock, maxAttempts: 5, maxConcurrency: 1 }));
    expectExactly(await collect(client.entriesRange(0, 599, { batchSize: 100, concurrency: 1 })), 0, 599);
    expect(clock.sleeps).toContain(2000);
  });

  it('re-asks an empty answer a bounded number of times, then fails with CT_BAD_RESPONSE', async () => {
    let emptyLeft = 2;
    syntheticLog({
      intercept: (start) =>
        start === 100 && emptyLeft-- > 0 ? { status: 200, body: '{"entries":[]}' } : undefined,
    });
    const clock = fakeClock();
    const client = new Rfc6962LogClient(log.base, httpClient({ clock }));
    expectExactly(await collect(client.entriesRange(0, 199, { batchSize: 100 })), 0, 199);
    expect(clock.sleeps).toHaveLength(2);

    syntheticLog({
      cap: 50,
      intercept: (start) => (start >= 150 ? { status: 200, body: '{"entries":[]}' } : undefined),
    });
    const got: number[] = [];
    const run = async (): Promise<void> => {
      for await (const e of client.entriesRange(0, 199, { batchSize: 100, emptyRetries: 3 }))
        got.push(e.index);
    };
    await expect(run()).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' });
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i)); // the first batch was complete
    expect(log.requests.filter((u) => u.searchParams.get('start') === '150')).toHaveLength(4);
  });

  it('fails on an answer with more entries than asked for', async () => {
    syntheticLog({
      intercept: (start, end) =>
        start === 0
          ? {
              status: 200,
              body: JSON.stringify({
                entries: Array.from({ length: end - start + 2 }, (_, i) => entryJson(i)),
              }),
            }
          : undefined,
    });
    const client = new Rfc6962LogClient(log.base, httpClient());
    await expect(collect(client.entriesRange(0, 9))).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' });
  });

  it('stopping early cancels the batches in flight and sends nothing more', async () => {
    syntheticLog({ cap: 10, delayMs: 20 });
    const client = new Rfc6962LogClient(log.base, httpClient());
    let seen = 0;
    for await (const e of client.entriesRange(0, SIZE - 1, { batchSize: 10, concurrency: 4 })) {
      expect(e.index).toBe(seen++);
      if (seen === 15) break;
    }
    const sent = log.requests.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(log.requests.length).toBe(sent);
    expect(sent).toBeLessThanOrEqual(2 + 4 + 1);
  });

  it('an abort signal ends the iteration with CT_ABORTED', async () => {
    syntheticLog({ cap: 10, delayMs: 20 });
    const client = new Rfc6962LogClient(log.base, httpClient());
    const controller = new AbortController();
    const run = async (): Promise<number> => {
      let n = 0;
      for await (const e of client.entriesRange(0, SIZE - 1, { batchSize: 10, signal: controller.signal })) {
        expect(e.index).toBe(n);
        if (++n === 5) controller.abort();
      }
      return n;
    };
    await expect(run()).rejects.toMatchObject({ code: 'CT_ABORTED' });
  });

  it('hash parameters are standard base64 (sanity of the helper used above)', () => {
    expect(b64('fbff')).toBe('+/8=');
  });
});

describe('per-endpoint response caps, enforced while streaming (issue 12)', () => {
  /**
   * A log whose every answer is `size` bytes of valid-looking JSON, generated lazily as the client
   * reads (never held in memory here either), without Content-Length so only streaming can stop it.
   */
  async function hugeLog(
    size: number,
  ): Promise<{ base: string; sent: () => number; close: () => Promise<void> }> {
    let sent = 0;
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const head = Buffer.from('{"tree_size":1,"timestamp":1,"padding":"');
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      res.write(head);
      sent += head.length;
      const pump = (): void => {
        while (sent < size && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('"}');
      };
      res.on('close', () => undefined);
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/log/`,
      sent: () => sent,
      close: () => {
        server.closeAllConnections();
        return new Promise((r) => server.close(() => r()));
      },
    };
  }

  it('a 70 MB get-sth is refused after 64 KiB, with bounded memory', async () => {
    const log = await hugeLog(70 * 1024 * 1024);
    try {
      const http1 = new CtHttpClient({ maxAttempts: 1, timeoutMs: 20_000 });
      clients.push(http1);
      const client = new Rfc6962LogClient(log.base, http1);
      globalThis.gc?.();
      const before = process.memoryUsage().rss;
      const err = await client.getSth().then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
      const growth = process.memoryUsage().rss - before;
      expect(err?.code).toBe('CT_BODY_TOO_LARGE');
      expect(err?.message).toMatch(/65536-byte limit/);
      // The old code buffered up to 64 MiB and parsed it (3.4 GB RSS for 66 MB); now a few chunks.
      expect(growth).toBeLessThan(16 * 1024 * 1024);
      expect(log.sent()).toBeLessThan(20 * 1024 * 1024);
    } finally {
      await log.close();
    }
  });

  it.each([
    ['get-sth-consistency', (c: Rfc6962LogClient) => c.getSthConsistency(1, 2)],
    ['get-proof-by-hash', (c: Rfc6962LogClient) => c.getProofByHash(new Uint8Array(32), 2)],
    ['get-entries of 2', (c: Rfc6962LogClient) => c.getEntries(0, 1)],
    ['get-entry-and-proof', (c: Rfc6962LogClient) => c.getEntryAndProof(0, 2)],
  ])('%s has its own cap far below the client limit', async (_name, call) => {
    const log = await hugeLog(4 * 1024 * 1024);
    try {
      const http1 = new CtHttpClient({ maxAttempts: 1 });
      clients.push(http1);
      const err = await call(new Rfc6962LogClient(log.base, http1)).then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      expect(err?.code).toBe('CT_BODY_TOO_LARGE');
    } finally {
      await log.close();
    }
  });
});
