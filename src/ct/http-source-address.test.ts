/**
 * `CtHttpClient({ localAddress })`: the connections to the log leave from that address, so workers
 * on one multi-homed host look like several clients to a log that limits per IP. On Linux every
 * address of 127.0.0.0/8 is on lo, so 127.0.0.2 works without root.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtHttpClient } from './http.js';

let server: Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.socket.remoteAddress ?? '');
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('CtHttpClient localAddress', () => {
  it.each(['127.0.0.2', '127.0.0.3'])('connects from %s', async (address) => {
    seen.length = 0;
    const http = new CtHttpClient({ localAddress: address, proxy: false, maxConcurrency: 2 });
    try {
      await Promise.all([http.getText(`${base}a`), http.getText(`${base}b`), http.getText(`${base}c`)]);
    } finally {
      await http.close();
    }
    expect(seen).toEqual([address, address, address]);
  });

  it('leaves the choice to the kernel by default', async () => {
    seen.length = 0;
    const http = new CtHttpClient({ proxy: false });
    await http.getText(base).finally(() => http.close());
    expect(seen).toEqual(['127.0.0.1']);
  });

  it.each(['localhost', '127.0.0.256', '', ' 127.0.0.2', '127.0.0.2:80'])(
    'refuses %j: not a literal IP address (CT_INVALID_ARGUMENT)',
    (address) => {
      expect(() => new CtHttpClient({ localAddress: address })).toThrow(
        expect.objectContaining({ code: 'CT_INVALID_ARGUMENT' }),
      );
    },
  );

  it('an address this host does not have fails the request as a network error, not a crash', async () => {
    // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a host.
    const http = new CtHttpClient({ localAddress: '192.0.2.1', proxy: false, maxAttempts: 1 });
    const err = await http.getText(base).catch((e: unknown) => e);
    await http.close();
    expect(err).toMatchObject({ code: 'CT_NETWORK' });
  });
});
