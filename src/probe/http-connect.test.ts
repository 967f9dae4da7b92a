import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isSafeText } from '../sanitize.js';
import { openTcp } from './connect.js';
import { MAX_CONNECT_RESPONSE_BYTES, connectRequest, parseConnectAnswer } from './http-connect.js';
import { parseProxy } from './proxy.js';

describe('connectRequest (RFC 9110 §9.3.6, RFC 7617)', () => {
  it.each([
    [
      'www.example.test',
      443,
      undefined,
      'CONNECT www.example.test:443 HTTP/1.1\r\nHost: www.example.test:443\r\n\r\n',
    ],
    ['2001:db8::1', 25, undefined, 'CONNECT [2001:db8::1]:25 HTTP/1.1\r\nHost: [2001:db8::1]:25\r\n\r\n'],
    [
      'h',
      1,
      { username: 'Aladdin', password: 'open sesame' },
      // RFC 7617 §2's own example.
      'CONNECT h:1 HTTP/1.1\r\nHost: h:1\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n',
    ],
  ])('%s %d', (host, port, auth, want) => {
    expect(connectRequest(host, port, auth)).toBe(want);
  });
});

describe('parseConnectAnswer', () => {
  it.each([
    ['HTTP/1.1 200 Connection established\r\n\r\n', { kind: 'response', status: 200, headerBytes: 39 }],
    ['HTTP/1.0 200 OK\r\nProxy-agent: x\r\n\r\nrest', { kind: 'response', status: 200, headerBytes: 35 }],
    ['HTTP/1.1 200\n\n', { kind: 'response', status: 200, headerBytes: 14 }],
    ['HTTP/1.0 403 Access violation\r\n\r\n<html>', { kind: 'response', status: 403 }],
    ['HTTP/1.1 200 OK\r\n', { kind: 'incomplete' }],
    ['', { kind: 'incomplete' }],
    ['SSH-2.0-OpenSSH_9.2\r\n\r\n', { kind: 'malformed', statusLine: 'SSH-2.0-OpenSSH_9.2' }],
    ['HTTP/2 200\r\n\r\n', { kind: 'malformed' }],
    ['HTTP/1.1 20x\r\n\r\n', { kind: 'malformed' }],
  ])('%j', (text, want) => {
    expect(parseConnectAnswer(Buffer.from(text, 'latin1'))).toMatchObject(want);
  });
  it('a header longer than the bound is too long, ended or not', () => {
    const big = `HTTP/1.1 200 OK\r\nX: ${'a'.repeat(MAX_CONNECT_RESPONSE_BYTES)}`;
    expect(parseConnectAnswer(Buffer.from(big))).toEqual({ kind: 'too-long' });
    expect(parseConnectAnswer(Buffer.from(`${big}\r\n\r\n`))).toEqual({ kind: 'too-long' });
  });
});

/** A fake proxy on loopback: `answer` gets each client socket and the bytes of its request. */
let server: Server | undefined;
async function fakeProxy(answer: (socket: Socket, request: string) => void): Promise<number> {
  server = createServer((socket) => {
    let request = '';
    socket.on('data', (d: Buffer) => {
      request += d.toString('latin1');
      if (request.includes('\r\n\r\n')) answer(socket, request);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function failure(port: number, timeoutMs = 2000, url?: string): Promise<Error> {
  const proxy = parseProxy(url ?? `http://127.0.0.1:${port}`);
  try {
    const s = await openTcp('target.test', 25, { timeoutMs, proxy });
    s.destroy();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe('openTcp through an HTTP proxy (fake proxies)', () => {
  it('a greeting in the same packet as the 200 is kept for the next reader', async () => {
    let seen = '';
    const port = await fakeProxy((socket, request) => {
      seen = request;
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n220 mail.test ESMTP\r\n');
    });
    const socket = await openTcp('target.test', 25, {
      timeoutMs: 2000,
      proxy: parseProxy(`http://u:p@127.0.0.1:${port}`),
    });
    const first = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.resume();
    });
    socket.destroy();
    expect(first).toBe('220 mail.test ESMTP\r\n');
    expect(seen).toMatch(
      /^CONNECT target\.test:25 HTTP\/1\.1\r\nHost: target\.test:25\r\nProxy-Authorization: Basic dTpw\r\n/,
    );
  });

  it.each([
    [
      'a refusal quotes the status line, sanitised, not the body',
      (s: Socket) => s.end('HTTP/1.1 502 Bad\u001b[31m Gateway\r\n\r\n<html>secret body</html>'),
      /refused CONNECT target\.test:25: "HTTP\/1\.1 502 Bad.*Gateway"$/,
    ],
    [
      'binary instead of HTTP',
      (s: Socket) => s.end(Buffer.concat([Buffer.from([0, 1, 2, 0xff, 0x1b]), Buffer.from('\r\n\r\n')])),
      /answered CONNECT target\.test:25 with no HTTP status line/,
    ],
    [
      'an endless header',
      (s: Socket) => {
        s.write('HTTP/1.1 200 OK\r\n');
        s.write(`X: ${'a'.repeat(MAX_CONNECT_RESPONSE_BYTES + 10)}`);
      },
      /sent more than 16384 bytes/,
    ],
    ['a close before answering', (s: Socket) => s.end(), /closed the connection before answering/],
    ['silence', () => undefined, /did not answer CONNECT target\.test:25 within \d+ ms/],
  ])('%s', async (_name, answer, why) => {
    const port = await fakeProxy(answer);
    const e = await failure(port, 500);
    expect(e.message).toMatch(why);
    expect(e.message).toMatch(new RegExp(`^HTTP proxy http://127\\.0\\.0\\.1:${port} `));
    expect(isSafeText(e.message)).toBe(true);
    expect(e.message).not.toContain('secret body');
  });

  it('407: asks for credentials, or says they were refused, never showing them', async () => {
    const port = await fakeProxy((s) => s.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'));
    expect((await failure(port)).message).toMatch(/407 .*the proxy wants credentials/);
    const e = await failure(port, 2000, `http://user:topsecret@127.0.0.1:${port}`);
    expect(e.message).toMatch(/refused the credentials/);
    expect(e.message).not.toContain('topsecret');
  });
});
