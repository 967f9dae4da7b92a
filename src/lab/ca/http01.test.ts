/**
 * http-01 (RFC 8555 §8.3) both sides, for real on loopback: the validator resolves the name through
 * the project's StubResolver (a dns-packet answerer behind it) and GETs the challenge URL from the
 * victim's responder, or from hand-made servers that answer wrongly, too much or never.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { challengeToken, generateAccountKey, jwkThumbprint, keyAuthorization } from './account.js';
import { startDnsAnswerer } from './dns-answerer.fixture.js';
import type { DnsAnswerer } from './dns-answerer.fixture.js';
import { Http01Validator, startHttp01Responder } from './http01.js';
import type { Http01Responder } from './http01.js';
import type { Challenge } from './types.js';

let dns: DnsAnswerer;
let responder: Http01Responder;
const servers: Server[] = [];

beforeAll(async () => {
  dns = await startDnsAnswerer();
  dns.a.set('jabber.lab', '127.0.0.1');
  dns.a.set('far.lab', '192.0.2.7');
  responder = await startHttp01Responder();
});
afterAll(async () => {
  await responder.close();
  await dns.close();
});
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
});

function challenge(name = 'jabber.lab'): Challenge {
  const token = challengeToken();
  return {
    method: 'http-01',
    name,
    token,
    keyAuthorization: keyAuthorization(token, jwkThumbprint(generateAccountKey().publicKey)),
  };
}

/** A hand-made HTTP server on loopback whose every answer comes from `handle`. */
async function server(handle: (res: ServerResponse) => void): Promise<number> {
  const s = createServer((req, res) => {
    req.resume();
    handle(res);
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
}

const validator = (port: number, timeoutMs?: number) =>
  new Http01Validator({ resolver: dns.resolver(), port, ...(timeoutMs === undefined ? {} : { timeoutMs }) });

describe('Http01Validator', () => {
  it('passes when the responder at the name’s address serves the key authorization', async () => {
    const c = challenge();
    responder.publish(c.token, c.keyAuthorization);
    const before = responder.requests;
    const out = await validator(responder.port).validate(c);
    expect(out).toEqual({
      name: 'jabber.lab',
      ok: true,
      detail: expect.any(String),
      address: '127.0.0.1',
      port: responder.port,
    });
    expect(responder.requests).toBe(before + 1);
    responder.unpublish(c.token);
    expect((await validator(responder.port).validate(c)).detail).toMatch(/HTTP status 404$/);
  });

  it('ignores whitespace at the end of the body (RFC 8555 §8.3)', async () => {
    const c = challenge();
    const port = await server((res) => res.end(`${c.keyAuthorization}\r\n`));
    expect((await validator(port).validate(c)).ok).toBe(true);
  });

  it('fails on the wrong body', async () => {
    const c = challenge();
    const port = await server((res) => res.end(`${c.token}.someone-elses-thumbprint`));
    const out = await validator(port).validate(c);
    expect(out).toMatchObject({ ok: false, address: '127.0.0.1' });
    expect(out.detail).toMatch(/not with the key authorization/);
  });

  it('fails on 404 and does not follow a redirect', async () => {
    const c = challenge();
    const port = await server((res) => res.writeHead(301, { location: 'http://127.0.0.1/elsewhere' }).end());
    expect((await validator(port).validate(c)).detail).toMatch(/HTTP status 301$/);
    expect((await validator(responder.port).validate(c)).detail).toMatch(/HTTP status 404$/);
  });

  it('fails on an oversized body, declared or streamed', async () => {
    const c = challenge();
    const declared = await server((res) => res.end('x'.repeat(5000)));
    expect((await validator(declared).validate(c)).detail).toMatch(/body larger than 1024 bytes$/);
    const streamed = await server((res) => {
      res.writeHead(200); // chunked: no Content-Length to refuse up front
      for (let i = 0; i < 20; i++) res.write('y'.repeat(100));
      res.end();
    });
    expect((await validator(streamed).validate(c)).detail).toMatch(/body larger than 1024 bytes$/);
  });

  it('fails within its deadline when the server never answers', async () => {
    const c = challenge();
    const port = await server(() => undefined);
    const started = Date.now();
    const out = await validator(port, 300).validate(c);
    expect(out.detail).toMatch(/no answer within 300 ms$/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails when the name has no A record, and never contacts an address off loopback', async () => {
    expect((await validator(responder.port).validate(challenge('none.lab'))).detail).toMatch(
      /NXDOMAIN|no A record/,
    );
    const far = await validator(responder.port).validate(challenge('far.lab'));
    expect(far).toMatchObject({ ok: false, address: '192.0.2.7' });
    expect(far.detail).toMatch(/outside the lab \(not contacted\)/);
  });

  it('fails on a connection refused', async () => {
    const port = await server(() => undefined);
    await new Promise<void>((resolve) => {
      const s = servers.pop();
      s?.close(() => resolve());
    });
    expect((await validator(port).validate(challenge())).detail).toMatch(/ECONNREFUSED$/);
  });
});

describe('startHttp01Responder', () => {
  it('refuses what is not a token, answers 404 to anything else, closes idempotently', async () => {
    const r = await startHttp01Responder();
    expect(() => r.publish('../etc/passwd', 'x')).toThrow(/not an ACME challenge token/);
    const res = await fetch(`http://127.0.0.1:${r.port}/anything`);
    expect(res.status).toBe(404);
    await res.text();
    await Promise.all([r.close(), r.close()]);
    await r.close();
  });
});
