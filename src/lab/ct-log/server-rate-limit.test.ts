/**
 * The local log's per-client rate limit (`rateLimit`), as public logs limit per IP: each source
 * address has its own bucket, an empty one answers 429 with Retry-After on both APIs, and the
 * request log says who asked. Clients bind 127.0.0.2 and 127.0.0.3 (Linux routes 127/8 to lo).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCtLog } from './log.js';
import { startCtLogServer } from './server.js';
import type { CtLogServer } from './server.js';

let log: LabCtLog;
let limited: CtLogServer;
let open: CtLogServer;

beforeAll(async () => {
  log = new LabCtLog({ staticCtApi: true });
  for (let i = 0; i < 3; i++) log.addRaw(Buffer.from(`entry ${i}`));
  log.publish();
  // One token every 10 s: however slow the machine, a drained bucket stays empty for the test.
  limited = await startCtLogServer(log, {
    rfc6962Prefix: '/logs/l/',
    staticPrefix: '/static/',
    rateLimit: { requestsPerSecond: 0.1, burst: 3 },
  });
  open = await startCtLogServer(log, { rfc6962Prefix: '/logs/l/', staticPrefix: '/static/' });
});
afterAll(async () => {
  await limited?.close();
  await open?.close();
});

/** GET from a chosen source address, on a fresh connection. */
function get(url: string, localAddress: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => {
        const h = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof h === 'string' ? h : undefined });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('startCtLogServer({ rateLimit })', () => {
  it('gives each client address its own bucket: 429 + Retry-After for one, 200 for the other', async () => {
    const sth = `${limited.rfc6962Url}ct/v1/get-sth`;
    const checkpoint = `${limited.staticUrl}checkpoint`;
    const first = [
      await get(sth, '127.0.0.2'),
      await get(checkpoint, '127.0.0.2'),
      await get(`${limited.rfc6962Url}ct/v1/get-entries?start=0&end=1`, '127.0.0.2'),
    ];
    expect(first.map((r) => r.status)).toEqual([200, 200, 200]);
    // Bucket empty: both APIs refuse, with a whole number of seconds to wait.
    expect(await get(sth, '127.0.0.2')).toEqual({ status: 429, retryAfter: '10' });
    expect(await get(`${limited.staticUrl}tile/data/000.p/3`, '127.0.0.2')).toEqual({
      status: 429,
      retryAfter: '10',
    });
    // Another address is another client.
    expect((await get(sth, '127.0.0.3')).status).toBe(200);
    expect(limited.rateLimited).toBe(2);
    const refused = limited.requests.filter((r) => r.status === 429);
    expect(refused.map((r) => [r.client, r.fault, r.endpoint])).toEqual([
      ['127.0.0.2', 'rate-limit', 'get-sth'],
      ['127.0.0.2', 'rate-limit', 'data-tile'],
    ]);
    expect(limited.requests.at(-1)?.client).toBe('127.0.0.3');
  });

  it('refills at the configured rate', async () => {
    const fast = await startCtLogServer(log, { rateLimit: { requestsPerSecond: 10, burst: 1 } });
    try {
      const sth = `${fast.rfc6962Url}ct/v1/get-sth`;
      let answers = 0;
      while ((await get(sth, '127.0.0.4')).status === 200) expect(++answers).toBeLessThan(50);
      await new Promise((r) => setTimeout(r, 200)); // a token every 100 ms
      expect((await get(sth, '127.0.0.4')).status).toBe(200);
    } finally {
      await fast.close();
    }
  });

  it('limits nothing without the option', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => get(`${open.rfc6962Url}ct/v1/get-sth`, '127.0.0.2')),
    );
    expect(new Set(statuses.map((s) => s.status))).toEqual(new Set([200]));
    expect(open.rateLimited).toBe(0);
  });

  it('refuses an unusable limit at start', async () => {
    await expect(startCtLogServer(log, { rateLimit: { requestsPerSecond: 0 } })).rejects.toMatchObject({
      code: 'LAB_INVALID_REQUEST',
    });
  });
});
