/**
 * The network half of JARM on the edge cases of a probe's connection that the vector servers of
 * test/jarm-vectors.test.ts do not produce: a ServerHello cut into many TCP segments, a reply past
 * jarm.py's 1484-byte recv, a close without a byte, a reset after a partial reply, an abort while
 * waiting. Each probe's outcome must be what jarm.py would read (see jarm-scan.ts's module comment).
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { jarmFingerprint } from './jarm-scan.js';
import { JARM_EMPTY_PROBE, JARM_EMPTY_RAW, JARM_READ_LIMIT, jarmHash, parseJarmServerHello } from './jarm.js';

const LOOPBACK = '127.0.0.1';

/** A TLS 1.2 ServerHello record (RFC 5246 §7.4.1.3): c02f, renegotiation_info, then `extra` bytes. */
function serverHello(extra = 0): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // empty session id
    Buffer.from([0xc0, 0x2f, 0]), // cipher suite, null compression
    Buffer.from([0, 5, 0xff, 0x01, 0, 1, 0]), // extensions: renegotiation_info (RFC 5746)
  ]);
  const handshake = Buffer.concat([Buffer.from([2, 0, body.length >> 8, body.length & 0xff]), body]);
  const record = Buffer.concat([Buffer.from([22, 3, 3, 0, handshake.length]), handshake]);
  return Buffer.concat([record, Buffer.alloc(extra, 0x16)]);
}

type Behaviour = (socket: net.Socket) => Promise<void> | void;

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that runs `behaviour` once a ClientHello has arrived. */
async function serve(behaviour: Behaviour): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.once('data', () => void behaviour(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: LOOPBACK, port: 0 }, resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('jarmFingerprint, one probe connection', () => {
  it('reads a ServerHello cut into 7-byte TCP segments as the same reply in one piece', async () => {
    const hello = serverHello();
    const port = await serve(async (s) => {
      for (let i = 0; i < hello.length; i += 7) {
        s.write(hello.subarray(i, i + 7));
        await sleep(3);
      }
    });
    const result = await jarmFingerprint(LOOPBACK, { port, timeoutMs: 2_000 });
    const one = parseJarmServerHello(hello);
    expect(one).toBe('c02f|0303||ff01');
    expect(result.raw).toBe(Array.from({ length: 10 }, () => one).join(','));
    expect(result.errors).toEqual([]);
  });

  it('stops at the end of the first record, and never reads past 1484 bytes', async () => {
    const port = await serve((s) => {
      s.write(serverHello(4_000)); // the record, then more than the read limit of other bytes
    });
    const result = await jarmFingerprint(LOOPBACK, { port, timeoutMs: 2_000 });
    expect(result.raw.split(',')).toEqual(Array.from({ length: 10 }, () => 'c02f|0303||ff01'));
    // A first record longer than the read limit: what jarm.py's recv(1484) would have seen.
    const long = Buffer.concat([Buffer.from([22, 3, 3, 0x40, 0]), serverHello(0x4000).subarray(5)]);
    const port2 = await serve((s) => {
      s.write(long);
    });
    const cut = await jarmFingerprint(LOOPBACK, { port: port2, timeoutMs: 2_000 });
    expect(cut.raw.split(',')[0]).toBe(parseJarmServerHello(long.subarray(0, JARM_READ_LIMIT)));
  });

  it('a close without a byte is an empty probe without an error (jarm.py: recv() = b"")', async () => {
    const port = await serve((s) => {
      s.end();
    });
    const result = await jarmFingerprint(LOOPBACK, { port, timeoutMs: 2_000 });
    expect(result.raw).toBe(JARM_EMPTY_RAW);
    expect(result.errors).toEqual([]);
    expect(result.jarm).toBe(jarmHash(JARM_EMPTY_RAW));
  });

  it('a reset after part of a reply keeps what arrived; a reset before any byte is an error', async () => {
    const hello = serverHello();
    const partial = await serve(async (s) => {
      s.write(hello.subarray(0, 50));
      await sleep(20);
      s.resetAndDestroy();
    });
    const kept = await jarmFingerprint(LOOPBACK, { port: partial, timeoutMs: 2_000 });
    expect(kept.raw.split(',')[0]).toBe(parseJarmServerHello(hello.subarray(0, 50)));
    expect(kept.errors).toEqual([]);
    const reset = await serve((s) => {
      s.resetAndDestroy();
    });
    const failed = await jarmFingerprint(LOOPBACK, { port: reset, timeoutMs: 2_000 });
    expect(failed.raw).toBe(JARM_EMPTY_RAW);
    expect(failed.errors).toHaveLength(10);
    expect(failed.errors[0]).toMatch(/^probe 1 \(tls1_2_forward\): 127\.0\.0\.1:\d+: /);
  });

  it('a refused connection names the address; each probe is its own connection', async () => {
    let connections = 0;
    const port = await serve((s) => {
      connections++;
      s.end();
    });
    await jarmFingerprint(LOOPBACK, { port, timeoutMs: 2_000 });
    expect(connections).toBe(10);
    const closed = await serve(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    const refused = await jarmFingerprint(LOOPBACK, { port: closed, timeoutMs: 2_000 });
    expect(refused.errors[0]).toMatch(/cannot connect to 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
    expect(refused.raw.split(',')).toEqual(Array.from({ length: 10 }, () => JARM_EMPTY_PROBE));
  });

  it('an abort while waiting for the reply rejects at once with the reason', async () => {
    const port = await serve(() => undefined); // never answers
    const controller = new AbortController();
    const started = performance.now();
    const pending = jarmFingerprint(LOOPBACK, { port, timeoutMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 100);
    await expect(pending).rejects.toThrow('stop now');
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
