/**
 * The CT log server as a shipped component: loopback by default, bounded request size and time, a
 * hostile peer answered with an error status or a closed socket (never a crash), `close()`
 * idempotent and prompt even with requests in flight.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../errors.js';
import { LabCtLog } from './log.js';
import { startCtLogServer } from './server.js';
import type { CtLogServer } from './server.js';

let log: LabCtLog;
let server: CtLogServer;

beforeAll(async () => {
  log = new LabCtLog();
  log.addRaw(Buffer.from('entry'));
  log.publish();
  server = await startCtLogServer(log, { maxBodyBytes: 1024, requestTimeoutMs: 500, idleTimeoutMs: 800 });
});
afterAll(() => server.close());

/** Sends raw bytes; resolves with everything the server wrote until it closed the socket. */
function raw(port: number, data: string, limitMs = 5_000): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`socket still open after ${limitMs} ms`));
    }, limitMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started });
    });
    if (data !== '') socket.write(data);
  });
}

const sth = async (): Promise<number> => (await fetch(`${server.rfc6962Url}ct/v1/get-sth`)).status;

describe('startCtLogServer as a product component', () => {
  it('listens on 127.0.0.1 by default', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.baseUrl).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('answers a body over maxBodyBytes with 413 and closes, then serves the next client', async () => {
    const res = await fetch(`${server.rfc6962Url}ct/v1/add-chain`, {
      method: 'POST',
      body: JSON.stringify({ chain: ['A'.repeat(4000)] }),
    });
    expect([res.status, res.headers.get('connection')]).toEqual([413, 'close']);
    const chunked = await raw(
      server.port,
      'POST /rfc6962/ct/v1/add-chain HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `800\r\n${'x'.repeat(0x800)}\r\n0\r\n\r\n`,
    );
    expect(chunked.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(await sth()).toBe(200);
  });

  it.each([
    ['a malformed request line', 'NOT HTTP AT ALL\r\n\r\n', /^HTTP\/1\.1 400 /],
    [
      'oversized headers',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      /^HTTP\/1\.1 431 /,
    ],
    [
      'an absolute target that is no URL',
      'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      /^HTTP\/1\.1 400 /,
    ],
    [
      'a request never finished (request timeout)',
      'GET /rfc6962/ct/v1/get-sth HTTP/1.1\r\nHost: x\r\n',
      /^(HTTP\/1\.1 408 |$)/,
    ],
    ['a silent client (headers timeout)', '', /^(HTTP\/1\.1 408 |$)/],
  ])('%s gets an error status or a closed socket, and the server lives on', async (_name, data, answer) => {
    const { text } = await raw(server.port, data);
    expect(text).toMatch(answer);
    expect(await sth()).toBe(200);
  });

  it('closes a socket with no traffic for idleTimeoutMs (a reply held back by the delay fault)', async () => {
    server.faults.delayMs = 3_000;
    try {
      const { text, ms } = await raw(server.port, 'GET /rfc6962/ct/v1/get-sth HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(text).toBe('');
      expect(ms).toBeGreaterThanOrEqual(700);
      expect(ms).toBeLessThan(2_500);
    } finally {
      server.faults.reset();
    }
    expect(await sth()).toBe(200);
  });

  it('close() is idempotent and prompt with a hung and a delayed request in flight', async () => {
    const other = await startCtLogServer(log);
    other.faults.hang = 'get-entries';
    other.faults.delayMs = 60_000;
    other.faults.delayMatch = 'get-sth';
    const hung = fetch(`${other.rfc6962Url}ct/v1/get-entries?start=0&end=0`).catch((err: unknown) => err);
    const delayed = fetch(`${other.rfc6962Url}ct/v1/get-sth`).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const first = other.close();
    expect(other.close()).toBe(first);
    await first;
    await other.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await hung).toBeInstanceOf(Error);
    expect(await delayed).toBeInstanceOf(Error);
  });

  it('a port in use is LAB_START_FAILED', async () => {
    const err = await startCtLogServer(log, { port: server.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('LAB_START_FAILED');
  });
});
