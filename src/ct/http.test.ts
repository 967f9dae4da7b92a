/**
 * The CT HTTP client against a `node:http` server on 127.0.0.1 that misbehaves on demand: throttles,
 * fails, hangs, lies about Content-Length, sends too much, gzips. Backoff and Retry-After waits go
 * through an injected clock whose sleep returns at once and records the delay.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CtHttpClient, CtHttpError, DEFAULT_USER_AGENT } from './http.js';
import { parseRetryAfter } from './http-retry.js';
import type { CtHttpOptions } from './http.js';
import type { Clock } from './rate-limit.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

interface TestServer {
  url: string;
  requests: { url: string; headers: http.IncomingHttpHeaders }[];
  maxInFlight: number;
  connections: number;
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function serve(handler: Handler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    s.maxInFlight = Math.max(s.maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    s.requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res, s.requests.length);
  });
  server.on('connection', (sock) => {
    s.connections++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const s: TestServer = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: [],
    maxInFlight: 0,
    connections: 0,
    close: async () => {
      for (const sock of sockets) sock.destroy();
      await new Promise((r) => server.close(r));
    },
  };
  cleanups.push(s.close);
  return s;
}

/** A clock whose sleeps return at once, advance `now` and are recorded. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

function client(options: CtHttpOptions = {}): CtHttpClient {
  const c = new CtHttpClient({ timeoutMs: 2_000, clock: fakeClock(), ...options });
  cleanups.push(() => c.destroy());
  return c;
}

async function failure(p: Promise<unknown>): Promise<CtHttpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CtHttpError);
  return err as CtHttpError;
}

const ok = (body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): Handler => {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };
};

describe('parseRetryAfter (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Thu, 01 Jan 2026 00:00:05 GMT', 5_000],
    ['Wed, 31 Dec 2025 23:59:00 GMT', 0], // in the past: go now
    ['soon', undefined],
    ['-5', undefined],
    ['1.5', undefined],
    [undefined, undefined],
  ])('%j → %j ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('CtHttpClient: success paths', () => {
  it('sends certvigil/<version> and accepts gzip, returns the body', async () => {
    const srv = await serve(ok('hello'));
    const res = await client().get(`${srv.url}/x`);
    expect(Buffer.from(res.body).toString()).toBe('hello');
    expect(DEFAULT_USER_AGENT).toMatch(/^certvigil\/\d+\.\d+\.\d+/);
    expect(srv.requests[0]?.headers['user-agent']).toBe(DEFAULT_USER_AGENT);
    expect(srv.requests[0]?.headers['accept-encoding']).toBe('gzip, identity');
  });

  it('decodes Content-Encoding: gzip', async () => {
    const srv = await serve(ok(zlib.gzipSync('zipped'), { 'content-encoding': 'gzip' }));
    expect(Buffer.from((await client().get(srv.url)).body).toString()).toBe('zipped');
  });

  it('gunzips a raw gzip body only when asked to sniff (data tiles), and refuses other encodings', async () => {
    const gz = zlib.gzipSync('tile bytes');
    const srv = await serve(ok(gz));
    const c = client();
    expect(Buffer.from((await c.get(srv.url, { sniffGzip: true })).body).toString()).toBe('tile bytes');
    expect(Buffer.compare(Buffer.from((await c.get(srv.url)).body), gz)).toBe(0);
    const br = await serve(ok('x', { 'content-encoding': 'br' }));
    expect((await failure(c.get(br.url))).code).toBe('CT_BAD_RESPONSE');
  });

  it('keeps connections alive across requests', async () => {
    const srv = await serve(ok('k'));
    const c = client();
    for (let i = 0; i < 10; i++) await c.get(srv.url);
    expect(srv.requests).toHaveLength(10);
    // undici's pool may open a second socket while the first is being released; never one each.
    expect(srv.connections).toBeLessThanOrEqual(2);
  });

  it('getJson validates with zod; bad JSON and wrong shapes are CT_BAD_RESPONSE', async () => {
    const schema = z.object({ n: z.number() });
    const c = client();
    expect(await c.getJson((await serve(ok('{"n":1}'))).url, schema)).toEqual({ n: 1 });
    const notJson = await failure(c.getJson((await serve(ok('not-json'))).url, schema));
    expect([notJson.code, notJson.status, notJson.bodySnippet]).toEqual(['CT_BAD_RESPONSE', 200, 'not-json']);
    expect((await failure(c.getJson((await serve(ok(''))).url, schema))).code).toBe('CT_BAD_RESPONSE');
    expect((await failure(c.getJson((await serve(ok('{"n":"1"}'))).url, schema))).message).toMatch(/n: /);
  });
});

describe('CtHttpClient: throttling and retries', () => {
  it('honours 429 Retry-After in seconds: waits as told, then succeeds', async () => {
    const srv = await serve((req, res, n) => {
      if (n <= 2) {
        res.writeHead(429, { 'retry-after': '3' });
        res.end('slow down');
      } else ok('done')(req, res, n);
    });
    const clock = fakeClock();
    const retries: number[] = [];
    const res = await client({ clock, onRetry: (e) => retries.push(e.delayMs) }).get(srv.url);
    expect(Buffer.from(res.body).toString()).toBe('done');
    expect(srv.requests).toHaveLength(3);
    expect(clock.sleeps).toEqual([3000, 3000]);
    expect(retries).toEqual([3000, 3000]);
  });

  it('honours an HTTP-date Retry-After on 503, and caps a long one', async () => {
    const clock = fakeClock();
    const at = new Date(clock.now() + 5_000).toUTCString();
    const srv = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'retry-after': at });
        res.end();
      } else if (n === 2) {
        res.writeHead(429, { 'retry-after': '86400' });
        res.end();
      } else ok('up')(req, res, n);
    });
    await client({ clock, maxRetryAfterMs: 60_000 }).get(srv.url);
    expect(clock.sleeps).toEqual([5000, 60_000]);
  });

  it('a Retry-After pauses every request of the client, not just the throttled one', async () => {
    const clock = fakeClock();
    const srv = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '7' });
        res.end();
      } else ok('x')(req, res, n);
    });
    const c = client({ clock, maxConcurrency: 1 });
    await c.get(srv.url);
    const before = clock.sleeps.length;
    await c.get(srv.url); // the pause is over (the fake clock advanced): no further wait
    expect(clock.sleeps.slice(before)).toEqual([]);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('gives up on endless 429 with CT_RATE_LIMITED after maxRateLimitedAttempts', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(429);
      res.end('quota');
    });
    const clock = fakeClock();
    const err = await failure(client({ clock, maxRateLimitedAttempts: 4, backoffBaseMs: 100 }).get(srv.url));
    expect([err.code, err.status, err.attempts, err.bodySnippet]).toEqual([
      'CT_RATE_LIMITED',
      429,
      4,
      'quota',
    ]);
    expect(srv.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3); // no Retry-After: exponential backoff
  });

  it('retries 5xx with growing jittered backoff, then succeeds', async () => {
    const srv = await serve((req, res, n) => {
      if (n <= 3) {
        res.writeHead(n === 1 ? 500 : n === 2 ? 502 : 504);
        res.end();
      } else ok('fine')(req, res, n);
    });
    const clock = fakeClock();
    await client({ clock, backoffBaseMs: 1000, backoffMaxMs: 3000 }).get(srv.url);
    expect(srv.requests).toHaveLength(4);
    const [a = 0, b = 0, c = 0] = clock.sleeps;
    // Equal jitter: step/2 ≤ delay ≤ step, step = 1000, 2000, min(4000, 3000).
    expect(a).toBeGreaterThanOrEqual(500);
    expect(a).toBeLessThanOrEqual(1000);
    expect(b).toBeGreaterThanOrEqual(1000);
    expect(b).toBeLessThanOrEqual(2000);
    expect(c).toBeGreaterThanOrEqual(1500);
    expect(c).toBeLessThanOrEqual(3000);
  });

  it('5xx forever: CT_HTTP with the status after exactly maxAttempts requests', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n<h1>Bad Gateway</h1>\n</html>');
    });
    const err = await failure(client({ maxAttempts: 3 }).get(`${srv.url}/ct/v1/get-sth`));
    expect([err.code, err.status, err.attempts, err.retryable]).toEqual(['CT_HTTP', 502, 3, true]);
    expect(err.url).toBe(`${srv.url}/ct/v1/get-sth`);
    expect(err.bodySnippet).toBe('<html> <h1>Bad Gateway</h1> </html>');
    expect(err.message).toContain('gave up after 3 attempts');
    expect(srv.requests).toHaveLength(3);
  });

  it('4xx is final: one request, CT_HTTP with the body snippet', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(400);
      res.end('{"error":"start beyond tree size"}');
    });
    const err = await failure(client().get(srv.url));
    expect([err.code, err.status, err.retryable]).toEqual(['CT_HTTP', 400, false]);
    expect(err.bodySnippet).toContain('start beyond tree size');
    expect(srv.requests).toHaveLength(1);
  });

  it('a refused connection is CT_NETWORK after maxAttempts', async () => {
    const srv = await serve(ok('x'));
    const url = srv.url;
    await srv.close();
    const clock = fakeClock();
    const err = await failure(client({ clock, maxAttempts: 2 }).get(url));
    expect([err.code, err.attempts]).toEqual(['CT_NETWORK', 2]);
    expect(clock.sleeps).toHaveLength(1);
  });
});

describe('CtHttpClient: deadlines, truncation, size limits, cancellation', () => {
  it('times out a server that never answers, retrying up to maxAttempts', async () => {
    const srv = await serve(() => undefined);
    const t0 = Date.now();
    const err = await failure(client({ timeoutMs: 150, maxAttempts: 2 }).get(srv.url));
    expect([err.code, err.attempts]).toEqual(['CT_TIMEOUT', 2]);
    expect(srv.requests).toHaveLength(2);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('times out a body that trickles too slowly (the deadline covers the body)', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 100 });
      const timer = setInterval(() => res.write('x'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const err = await failure(client({ timeoutMs: 300, maxAttempts: 1 }).get(srv.url));
    expect(err.code).toBe('CT_TIMEOUT');
  });

  it('a body shorter than Content-Length (socket destroyed) is CT_TRUNCATED, never short data', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100, 1));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const err = await failure(client({ maxAttempts: 1 }).get(srv.url));
    expect([err.code, err.status, err.retryable]).toEqual(['CT_TRUNCATED', 200, true]);
  });

  it('a truncated body is retried like a network error', async () => {
    const srv = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-length': 1000 });
        res.write(Buffer.alloc(10));
        setTimeout(() => res.socket?.destroy(), 20);
      } else ok('complete')(req, res, n);
    });
    const res = await client({ maxAttempts: 2 }).get(srv.url);
    expect(Buffer.from(res.body).toString()).toBe('complete');
  });

  it('a gzip stream cut short inside a complete HTTP body is an error (fetch would return short data)', async () => {
    const gz = zlib.gzipSync(Buffer.alloc(100_000, 7));
    const srv = await serve(ok(gz.subarray(0, gz.length - 20), { 'content-encoding': 'gzip' }));
    expect((await failure(client().get(srv.url))).code).toBe('CT_BAD_RESPONSE');
  });

  it('refuses a body over maxBodyBytes: by Content-Length, while streaming, and after gunzip', async () => {
    const c = client({ maxBodyBytes: 1000 });
    const declared = await serve(ok(Buffer.alloc(5000)));
    const a = await failure(c.get(declared.url));
    expect([a.code, a.retryable]).toEqual(['CT_BODY_TOO_LARGE', false]);
    expect(declared.requests).toHaveLength(1);
    const chunked = await serve((_req, res) => {
      res.writeHead(200); // no Content-Length: chunked
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
      res.end();
    });
    expect((await failure(c.get(chunked.url))).code).toBe('CT_BODY_TOO_LARGE');
    const bomb = await serve(ok(zlib.gzipSync(Buffer.alloc(1_000_000)), { 'content-encoding': 'gzip' }));
    expect((await failure(c.get(bomb.url))).code).toBe('CT_BODY_TOO_LARGE');
  });

  it('the client signal cancels a request in flight at once, and later ones before sending', async () => {
    const srv = await serve(() => undefined);
    const controller = new AbortController();
    const c = client({ signal: controller.signal, timeoutMs: 10_000 });
    const pending = c.get(srv.url);
    setTimeout(() => controller.abort(), 50);
    const t0 = Date.now();
    const err = await failure(pending);
    expect(err.code).toBe('CT_ABORTED');
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect((await failure(c.get(srv.url))).code).toBe('CT_ABORTED');
    expect(srv.requests).toHaveLength(1);
  });

  it('a per-request signal cancels only that request', async () => {
    const srv = await serve((req, res, n) => (n === 1 ? undefined : ok('second')(req, res, n)));
    const c = client();
    const controller = new AbortController();
    const first = c.get(srv.url, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    expect((await failure(first)).code).toBe('CT_ABORTED');
    expect(Buffer.from((await c.get(srv.url)).body).toString()).toBe('second');
  });
});

describe('CtHttpClient: per-log limits', () => {
  it('never has more than maxConcurrency requests in flight (counted by the server)', async () => {
    const srv = await serve((req, res, n) => setTimeout(() => ok(String(n))(req, res, n), 30));
    const c = client({ maxConcurrency: 3 });
    const results = await Promise.all(Array.from({ length: 12 }, () => c.get(srv.url)));
    expect(results).toHaveLength(12);
    expect(srv.maxInFlight).toBe(3);
    expect(c.inFlight).toBe(0);
  });

  it('spaces requests to requestsPerSecond (token bucket on the injected clock)', async () => {
    const srv = await serve(ok('t'));
    const clock = fakeClock();
    const c = client({ clock, requestsPerSecond: 10, burst: 1 });
    await Promise.all(Array.from({ length: 5 }, () => c.get(srv.url)));
    expect(srv.requests).toHaveLength(5);
    // The first token is there; each further one takes 100 ms.
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(400);
  });

  it('rejects nonsensical options with CT_INVALID_ARGUMENT', () => {
    expect(() => new CtHttpClient({ maxConcurrency: 0 })).toThrow(
      expect.objectContaining({ code: 'CT_INVALID_ARGUMENT' }),
    );
    expect(() => new CtHttpClient({ timeoutMs: -1 })).toThrow(
      expect.objectContaining({ code: 'CT_INVALID_ARGUMENT' }),
    );
    expect(() => new CtHttpClient({ requestsPerSecond: 0 })).toThrow(
      expect.objectContaining({ code: 'CT_INVALID_ARGUMENT' }),
    );
  });
});

describe('CtHttpClient: redirects stay within the log origin (issue 12)', () => {
  const redirect =
    (location: string, status = 302): Handler =>
    (_req, res) => {
      res.writeHead(status, { location, 'content-length': 0 });
      res.end();
    };

  it.each([301, 302, 303, 307, 308])('follows a %i to the same origin', async (status) => {
    const srv = await serve((req, res, n) =>
      n === 1 ? redirect('/moved/here?x=1', status)(req, res, n) : ok('landed')(req, res, n),
    );
    const res = await client().get(`${srv.url}/log/ct/v1/get-sth`);
    expect(Buffer.from(res.body).toString()).toBe('landed');
    expect(srv.requests.map((r) => r.url)).toEqual(['/log/ct/v1/get-sth', '/moved/here?x=1']);
  });

  it('refuses a redirect to another port, host or scheme, naming where it pointed (sanitised)', async () => {
    const elsewhere = await serve(ok('should never be asked'));
    const cases = [
      `${elsewhere.url}/stolen`, // another port: another origin
      'http://localhost/x', // another host
      'https://127.0.0.1/x', // another scheme (and port)
      'http://user:secret@evil.example/\u009b31mred\u0085',
    ];
    for (const location of cases) {
      const srv = await serve(redirect(location));
      const err = await failure(client().get(`${srv.url}/log/`));
      expect(err.code).toBe('CT_REDIRECT');
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/outside the log's origin http:\/\/127\.0\.0\.1:\d+: refused/);
      // eslint-disable-next-line no-control-regex -- asserting that no control character is left
      expect(err.message).not.toMatch(/secret|[\u0000-\u001f\u007f-\u009f]/);
      expect(srv.requests).toHaveLength(1);
    }
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('refuses credentials in a same-origin redirect, and a redirect loop after MAX_REDIRECTS', async () => {
    const creds = await serve((req, res, n) => redirect(`http://u:p@${req.headers.host}/x`)(req, res, n));
    expect((await failure(client().get(creds.url))).code).toBe('CT_REDIRECT');
    const loop = await serve((req, res, n) => redirect(`/loop/${n}`)(req, res, n));
    const err = await failure(client().get(`${loop.url}/start`));
    expect(err.code).toBe('CT_REDIRECT');
    expect(err.message).toMatch(/more than 5 redirects/);
    expect(loop.requests).toHaveLength(6);
  });
});

describe('CtHttpClient: per-request caps (issue 12)', () => {
  it('a per-request maxBytes below the client limit wins: Content-Length, streaming, gunzip', async () => {
    const c = client();
    const declared = await serve(ok(Buffer.alloc(5000, 0x61)));
    expect((await failure(c.get(declared.url, { maxBytes: 4999 }))).code).toBe('CT_BODY_TOO_LARGE');
    expect((await c.get(declared.url, { maxBytes: 5000 })).body).toHaveLength(5000);
    const chunked = await serve((_req, res) => {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
      res.end();
    });
    expect((await failure(c.get(chunked.url, { maxBytes: 4000 }))).code).toBe('CT_BODY_TOO_LARGE');
    const gz = zlib.gzipSync(Buffer.alloc(100_000));
    const bomb = await serve(ok(gz, { 'content-encoding': 'gzip' }));
    expect((await failure(c.get(bomb.url, { maxBytes: 50_000 }))).code).toBe('CT_BODY_TOO_LARGE');
    expect((await c.get(bomb.url, { maxBytes: 100_000 })).body).toHaveLength(100_000);
    // A sniffed (undeclared) gzip body is held to the same decoded cap.
    const sniffed = await serve(ok(gz));
    const err = await failure(c.get(sniffed.url, { maxBytes: 50_000, sniffGzip: true }));
    expect(err.code).toBe('CT_BODY_TOO_LARGE');
  });

  it('incompressible data gzip-encoded at exactly the cap still passes (gzip framing allowed)', async () => {
    const data = crypto.randomBytes(8192);
    const srv = await serve(ok(zlib.gzipSync(data), { 'content-encoding': 'gzip' }));
    expect(Buffer.from((await client().get(srv.url, { maxBytes: 8192 })).body).equals(data)).toBe(true);
  });

  it('error bodies are sanitised before they reach a message: controls, bidi, length', async () => {
    const srv = await serve((_req, res) => {
      const body = `bad\u001b]0;pwned\u0007 request\u202e\r\nline2 ${'x'.repeat(1000)}`;
      res.writeHead(400, { 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    const err = await failure(client().get(srv.url));
    // eslint-disable-next-line no-control-regex -- asserting that no control character is left
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(err.message).toContain('\\x1B]0;pwned\\x07');
    expect(err.bodySnippet?.length).toBeLessThanOrEqual(201);
  });
});
