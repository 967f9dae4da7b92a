/**
 * The stub resolver against small hand-written servers on 127.0.0.1 that misbehave on purpose
 * (no real server truncates, lies about IDs or sends garbage on demand). The same resolver against
 * real Knot + Unbound is exercised in test/caa-dns.test.ts.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { StubResolver } from './resolver.js';

type Behaviour = (
  query: dnsPacket.DecodedPacket,
  transport: 'udp' | 'tcp',
) => Buffer | Buffer[] | null | 'close-midway';

interface Fixture {
  port: number;
  udpQueries: number;
  tcpQueries: number;
  close(): Promise<void>;
}

const open: Fixture[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((f) => f.close()));
});

/** A UDP+TCP server on one loopback port whose replies come from `behave`. */
/**
 * A UDP and a TCP server on one port. The UDP port is picked by the kernel; TCP on the same number
 * can be taken by someone else's ephemeral connection, so a clash (EADDRINUSE) tries another port.
 */
async function fixture(behave: Behaviour, host = '127.0.0.1'): Promise<Fixture> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fixtureOnce(behave, host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 10) throw err;
    }
  }
}

async function fixtureOnce(behave: Behaviour, host: string): Promise<Fixture> {
  const udp = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  await new Promise<void>((r) => udp.bind(0, host, r));
  const port = (udp.address() as AddressInfo).port;
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.once('data', (chunk) => {
      f.tcpQueries++;
      const out = behave(dnsPacket.decode(chunk.subarray(2)), 'tcp');
      if (out === 'close-midway') {
        sock.end(Buffer.from([0x01, 0x00, 0xab]));
        return;
      }
      for (const msg of out === null ? [] : Array.isArray(out) ? out : [out]) {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(msg.length, 0);
        sock.write(Buffer.concat([len, msg]));
      }
    });
  });
  try {
    await new Promise<void>((r, j) => tcp.listen(port, host, r).once('error', j));
  } catch (err) {
    udp.close();
    throw err;
  }
  const f: Fixture = {
    port,
    udpQueries: 0,
    tcpQueries: 0,
    close: async () => {
      udp.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => tcp.close(r));
    },
  };
  udp.on('message', (msg, rinfo) => {
    f.udpQueries++;
    const out = behave(dnsPacket.decode(msg), 'udp');
    if (out === null || out === 'close-midway') return;
    for (const m of Array.isArray(out) ? out : [out]) udp.send(m, rinfo.port, rinfo.address);
  });
  open.push(f);
  return f;
}

function answer(q: dnsPacket.DecodedPacket, over: Partial<dnsPacket.Packet> = {}): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: [
      {
        type: 'CAA',
        name: q.questions?.[0]?.name ?? '',
        ttl: 60,
        data: { flags: 0, tag: 'issue', value: 'ca.example' },
      },
    ],
    ...over,
  });
}

const resolverFor = (...ports: number[]) =>
  new StubResolver({
    servers: ports.map((port) => ({ host: '127.0.0.1', port })),
    timeoutMs: 300,
    attempts: 2,
  });

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p;
    expect.unreachable('expected a rejection');
  } catch (err) {
    expect(isCertvigilError(err) ? err.code : err).toBe(code);
  }
}

describe('StubResolver', () => {
  it('retries over TCP when the UDP answer is truncated (RFC 7766 §5)', async () => {
    const f = await fixture((q, transport) =>
      transport === 'udp' ? answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] }) : answer(q),
    );
    const r = await resolverFor(f.port).query('example.com', 'CAA');
    expect(r.transport).toBe('tcp');
    expect(r.answers).toHaveLength(1);
    expect([f.udpQueries, f.tcpQueries]).toEqual([1, 1]);
  });

  it('rejects a TCP answer that is itself truncated', async () => {
    const f = await fixture((q) => answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE }));
    await expectCode(resolverFor(f.port).query('example.com', 'CAA'), 'DNS_TRUNCATED');
  });

  it('ignores replies with the wrong ID or question and keeps waiting for the right one', async () => {
    const f = await fixture((q) => [
      answer(q, { id: (q.id ?? 0) ^ 1 }),
      answer(q, { questions: [{ type: 'CAA', name: 'evil.example', class: 'IN' }] }),
      answer(q),
    ]);
    const r = await resolverFor(f.port).query('example.com', 'CAA');
    expect(r.answers[0]?.data).toMatchObject({ value: 'ca.example' });
  });

  it('times out on a server that never answers, within the configured bounds', async () => {
    const f = await fixture(() => null);
    const started = Date.now();
    await expectCode(resolverFor(f.port).query('example.com', 'CAA'), 'DNS_TIMEOUT');
    expect(f.udpQueries).toBe(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('moves on to the next server after a transport failure', async () => {
    const dead = await fixture(() => null);
    const good = await fixture((q) => answer(q));
    const r = await resolverFor(dead.port, good.port).query('example.com', 'CAA');
    expect(r.server.port).toBe(good.port);
  });

  // Issue 12: an unconnected UDP socket never sees the ICMP "port unreachable", so a resolver that is
  // not running cost the full timeout on every attempt (caa audit: 24 s before saying anything).
  it('fails at once on a closed UDP port (connected socket: ECONNREFUSED), not after the timeout', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const slow = new StubResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs: 5000, attempts: 2 });
    const started = Date.now();
    await expectCode(slow.query('example.com', 'CAA'), 'DNS_NETWORK');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('does not shop around after SERVFAIL: the first answer stands (fail closed)', async () => {
    const bad = await fixture((q) => answer(q, { flags: dnsPacket.RECURSION_AVAILABLE | 2, answers: [] }));
    const good = await fixture((q) => answer(q));
    // A generous timeout: under load a slow SERVFAIL past 300 ms would be a timeout, and moving on
    // after a timeout is right — that is not what this test is about.
    const r = await new StubResolver({
      servers: [bad.port, good.port].map((port) => ({ host: '127.0.0.1', port })),
      timeoutMs: 5000,
      attempts: 2,
    }).query('example.com', 'CAA');
    expect(r.rcode).toBe('SERVFAIL');
    expect(good.udpQueries).toBe(0);
  });

  it('reports garbage from the server as a malformed response', async () => {
    const f = await fixture(() => Buffer.from('this is not DNS'));
    await expectCode(resolverFor(f.port).query('example.com', 'CAA'), 'DNS_MALFORMED_RESPONSE');
  });

  it('reports a TCP connection closed mid-message as a network error', async () => {
    const f = await fixture((q, transport) =>
      transport === 'udp' ? answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] }) : 'close-midway',
    );
    await expectCode(resolverFor(f.port).query('example.com', 'CAA'), 'DNS_NETWORK');
  });

  it('talks to an IPv6 server over UDP and TCP', async () => {
    const f = await fixture(
      (q, transport) =>
        transport === 'udp' ? answer(q, { flags: dnsPacket.TRUNCATED_RESPONSE, answers: [] }) : answer(q),
      '::1',
    );
    const r = await new StubResolver({ servers: [{ host: '::1', port: f.port }], timeoutMs: 1000 }).query(
      'example.com',
      'CAA',
    );
    expect(r.server.host).toBe('::1');
    expect(r.transport).toBe('tcp');
    expect([f.udpQueries, f.tcpQueries]).toEqual([1, 1]);
  });

  it('honours an abort signal', async () => {
    const f = await fixture(() => null);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const resolver = new StubResolver({ servers: [{ host: '127.0.0.1', port: f.port }], timeoutMs: 10_000 });
    await expectCode(resolver.query('example.com', 'CAA', { signal: controller.signal }), 'DNS_TIMEOUT');
  });

  it('refuses names that cannot be queried', async () => {
    await expectCode(resolverFor(1).query(`${'a'.repeat(64)}.example`, 'CAA'), 'DNS_BAD_NAME');
  });
});
