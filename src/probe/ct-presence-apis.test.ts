/**
 * The third-party JSON fetch of the CT presence check: each way it fails is a typed
 * `CertvigilError` (issue 15: no plain `Error` thrown across a module edge), and `lookupCrtSh`
 * still reports the same detail text for it. A plain node:http server on 127.0.0.1 plays the API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertvigilError } from '../errors.js';
import { fetchApiJson, lookupCrtSh, matchIssuance } from './ct-presence-apis.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    if (path.startsWith('/huge')) {
      // More than the 4 MiB the fetch accepts, in 64 KiB chunks.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let i = 0; i < 66; i++) res.write(chunk);
      res.end('[]');
    } else if (path.startsWith('/status')) {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html>\n<body>bad   gateway</body></html>');
    } else if (path.startsWith('/junk')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{ not json');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('[]');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('fetchApiJson', () => {
  it.each([
    [
      'a body over 4 MiB',
      '/huge',
      'CT_BODY_TOO_LARGE',
      /^GET http:\/\/127\.0\.0\.1:\d+\/huge: body exceeds 4194304 bytes$/,
    ],
    [
      'a status other than 200',
      '/status',
      'CT_HTTP',
      /^GET http:\/\/127\.0\.0\.1:\d+\/status: HTTP 502: <html> <body>bad gateway<\/body><\/html>$/,
    ],
    [
      'a body that is not JSON',
      '/junk',
      'CT_BAD_RESPONSE',
      /^GET http:\/\/127\.0\.0\.1:\d+\/junk: the answer is not JSON$/,
    ],
  ])('refuses %s with a typed error', async (_what, path, code, message) => {
    const err = await fetchApiJson(new URL(path, base), {}, AbortSignal.timeout(5_000)).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CertvigilError);
    expect((err as CertvigilError).code).toBe(code);
    expect((err as CertvigilError).message).toMatch(message);
  });

  it('returns the parsed JSON of a 200 answer', async () => {
    await expect(fetchApiJson(new URL('/ok', base), {}, AbortSignal.timeout(5_000))).resolves.toEqual([]);
  });
});

describe('lookupCrtSh reports those errors as before', () => {
  it.each([
    ['/huge', /body exceeds 4194304 bytes$/],
    ['/status', /HTTP 502: <html> <body>bad gateway/],
    ['/junk', /the answer is not JSON$/],
  ])('%s', async (path, detail) => {
    const r = await lookupCrtSh(`${base}${path}`, 'ab'.repeat(32), { timeoutMs: 5_000 });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(detail);
  });
});

describe('outside text in the details', () => {
  it('bounds and cleans a Cert Spotter issuance id before it reaches a finding', () => {
    const hostile = `123\u202e\u001b[31m${'x'.repeat(500)}`;
    const detail = matchIssuance([{ id: hostile, cert_sha256: 'aa' }], { certSha256: 'aa', tbsSha256: 'bb' });
    expect(detail).not.toBeNull();
    expect(detail?.includes('\u202e') || detail?.includes('\u001b')).toBe(false);
    expect((detail ?? '').length).toBeLessThan(120);
  });
});
