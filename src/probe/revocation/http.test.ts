/**
 * The revocation transport against a real HTTP server on loopback: the RFC 6960 Appendix A.1 POST,
 * the size bound (declared and streamed), HTTP errors and redirects, the deadline and the abort.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchableUrl, httpRevocationFetch } from './http.js';

let server: Server;
let base: string;
let seen: { method?: string; type?: string; body?: Buffer } = {};
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/ok': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen = {
        method: req.method ?? '',
        type: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      };
      res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(Buffer.from([1, 2, 3]));
    });
  },
  '/declared-huge': (_req, res) => {
    res.writeHead(200, { 'content-length': 10_000_000 });
    res.write(Buffer.alloc(10));
  },
  '/streamed-huge': (_req, res) => {
    res.writeHead(200);
    const timer = setInterval(() => {
      if (!res.write(Buffer.alloc(64 * 1024))) return;
    }, 1);
    res.on('close', () => clearInterval(timer));
  },
  '/error': (_req, res) => res.writeHead(500).end('boom'),
  '/redirect': (_req, res) => res.writeHead(302, { location: 'http://example.test/' }).end(),
  '/hang': () => undefined,
};

beforeAll(async () => {
  server = createServer((req, res) =>
    (routes[req.url ?? ''] ?? ((_q, r) => r.writeHead(404).end()))(req, res),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const soon = (ms = 3000): number => Date.now() + ms;

describe('httpRevocationFetch', () => {
  it('POSTs an OCSP request as application/ocsp-request and returns the body (RFC 6960 A.1)', async () => {
    const body = await httpRevocationFetch({
      url: `${base}/ok`,
      method: 'POST',
      body: new Uint8Array([9, 8, 7]),
      contentType: 'application/ocsp-request',
      maxBytes: 100,
      deadline: soon(),
    });
    expect([...body]).toEqual([1, 2, 3]);
    expect(seen).toEqual({ method: 'POST', type: 'application/ocsp-request', body: Buffer.from([9, 8, 7]) });
  });

  it.each<[string, string, number, string, RegExp]>([
    ['a declared body over the limit', '/declared-huge', 1000, 'REVOCATION_TOO_LARGE', /10000000 bytes/],
    ['a streamed body over the limit', '/streamed-huge', 256 * 1024, 'REVOCATION_TOO_LARGE', /limit/],
    ['an HTTP error', '/error', 1000, 'REVOCATION_HTTP', /HTTP 500/],
    ['a redirect (not followed)', '/redirect', 1000, 'REVOCATION_HTTP', /redirects are not followed/],
  ])('refuses %s', async (_n, path, maxBytes, code, message) => {
    await expect(
      httpRevocationFetch({ url: `${base}${path}`, method: 'GET', maxBytes, deadline: soon() }),
    ).rejects.toMatchObject({
      code,
      message: expect.stringMatching(message) as unknown,
    });
  });

  it('gives up at the deadline when the server never answers', async () => {
    const started = Date.now();
    await expect(
      httpRevocationFetch({ url: `${base}/hang`, method: 'GET', maxBytes: 10, deadline: soon(300) }),
    ).rejects.toMatchObject({ code: 'REVOCATION_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops when the check is aborted', async () => {
    const controller = new AbortController();
    const p = httpRevocationFetch({
      url: `${base}/hang`,
      method: 'GET',
      maxBytes: 10,
      deadline: soon(),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    await expect(p).rejects.toMatchObject({ code: 'REVOCATION_TIMEOUT', message: 'aborted' });
  });

  it('does not start when no time is left', async () => {
    await expect(
      httpRevocationFetch({ url: `${base}/ok`, method: 'GET', maxBytes: 10, deadline: Date.now() - 1 }),
    ).rejects.toMatchObject({ code: 'REVOCATION_TIMEOUT' });
  });

  it('reports a refused connection as REVOCATION_HTTP', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      httpRevocationFetch({
        url: `http://127.0.0.1:${port}/`,
        method: 'GET',
        maxBytes: 10,
        deadline: soon(),
      }),
    ).rejects.toMatchObject({
      code: 'REVOCATION_HTTP',
      message: expect.stringMatching(/ECONNREFUSED/) as unknown,
    });
  });
});

describe('fetchableUrl', () => {
  it.each([
    ['http://ocsp.example.test/', true],
    ['https://crl.example.test/a.crl', true],
    ['ldap://ldap.example.test/cn=CA?certificateRevocationList', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
    ['http://', false],
  ])('%s → %s', (url, ok) => {
    expect(fetchableUrl(url)).toBe(ok);
  });
});

/**
 * A minimal SOCKS5 server (RFC 1928: no authentication, CONNECT, IPv4 or domain name) that records
 * where it was asked to connect: proof that the request went through the proxy.
 */
async function startSocks5(): Promise<{ port: number; destinations: string[]; server: NetServer }> {
  const destinations: string[] = [];
  const server = createNetServer((client: Socket) => {
    client.once('data', () => {
      client.write(Buffer.from([5, 0])); // version 5, "no authentication required"
      client.once('data', (req: Buffer) => {
        const atyp = req[3];
        let host: string;
        let at: number;
        if (atyp === 1) {
          host = [...req.subarray(4, 8)].join('.');
          at = 8;
        } else {
          const n = req[4] ?? 0;
          host = req.subarray(5, 5 + n).toString('latin1');
          at = 5 + n;
        }
        const port = req.readUInt16BE(at);
        destinations.push(`${host}:${port}`);
        const upstream = netConnect({ host, port }, () => {
          client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
      });
    });
    client.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, destinations, server };
}

describe('httpRevocationFetch through --proxy (SOCKS5)', () => {
  it('reaches the responder through the proxy, not directly', async () => {
    const socks = await startSocks5();
    try {
      const body = await httpRevocationFetch({
        url: `${base}/ok`,
        method: 'POST',
        body: new Uint8Array([1]),
        contentType: 'application/ocsp-request',
        maxBytes: 100,
        deadline: soon(),
        proxy: { kind: 'socks5', host: '127.0.0.1', port: socks.port, remoteDns: false },
      });
      expect([...body]).toEqual([1, 2, 3]);
      expect(socks.destinations).toEqual([base.replace('http://', '')]);
    } finally {
      await new Promise<void>((resolve) => socks.server.close(() => resolve()));
    }
  });

  it('a proxy that is down is a REVOCATION_HTTP error naming it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      httpRevocationFetch({
        url: `${base}/ok`,
        method: 'GET',
        maxBytes: 10,
        deadline: soon(),
        proxy: { kind: 'socks5', host: '127.0.0.1', port, remoteDns: false },
      }),
    ).rejects.toMatchObject({
      code: 'REVOCATION_HTTP',
      message: expect.stringMatching(/SOCKS5 proxy/) as unknown,
    });
  });
});
