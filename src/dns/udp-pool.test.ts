/**
 * The shared UDP sockets (udp-pool.ts) against a small loopback server that records the source port
 * of every query and answers as each test tells it: socket sharing and rotation, replies matched by
 * ID and question (mismatches dropped, never accepted), deadlines per query, and no socket left
 * open after close() or idleness. The same resolver against real Unbound: test/caa-dns.test.ts.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { decodeResponse, encodeQuery } from './message.js';
import { StubResolver } from './resolver.js';
import { UdpPool } from './udp-pool.js';

interface Seen {
  query: dnsPacket.DecodedPacket;
  port: number;
  reply(msg: Buffer): void;
}

interface Server {
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

const open: Server[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A UDP server on 127.0.0.1 that hands every query to `on` (which may answer now, later or never). */
async function server(on: (s: Seen, all: Seen[]) => void): Promise<Server> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const s: Server = {
    port: (udp.address() as AddressInfo).port,
    seen: [],
    close: () => new Promise((r) => udp.close(() => r())),
  };
  udp.on('message', (msg, rinfo) => {
    const seen: Seen = {
      query: dnsPacket.decode(msg),
      port: rinfo.port,
      reply: (out) => udp.send(out, rinfo.port, rinfo.address),
    };
    s.seen.push(seen);
    on(seen, s.seen);
  });
  open.push(s);
  return s;
}

function answer(
  q: dnsPacket.DecodedPacket,
  over: Partial<dnsPacket.Packet> = {},
  value = 'ca.example',
): Buffer {
  const name = q.questions?.[0]?.name ?? '';
  return dnsPacket.encode({
    type: 'response',
    id: q.id,
    flags: dnsPacket.RECURSION_AVAILABLE,
    questions: q.questions,
    answers: [{ type: 'CAA', name, ttl: 60, data: { flags: 0, tag: 'issue', value } }],
    ...over,
  });
}

const resolverFor = (port: number, extra: { timeoutMs?: number; udpSockets?: false } = {}) =>
  new StubResolver({ servers: [{ host: '127.0.0.1', port }], timeoutMs: 1000, attempts: 1, ...extra });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return isCertvigilError(err) ? err.code : String(err);
  }
}

const names = (n: number) => Array.from({ length: n }, (_, i) => `n${i}.example`);
const distinctPorts = (s: Server) => new Set(s.seen.map((x) => x.port)).size;

describe('UdpPool through StubResolver', () => {
  it('sends concurrent queries from one socket, each answered with its own record', async () => {
    const s = await server((x) => x.reply(answer(x.query, {}, `ca-for-${x.query.questions?.[0]?.name}`)));
    const resolver = resolverFor(s.port);
    const replies = await Promise.all(names(20).map((n) => resolver.query(n, 'CAA')));
    expect(replies.map((r) => r.answers[0]?.data)).toEqual(
      names(20).map((n) => expect.objectContaining({ value: `ca-for-${n}` })),
    );
    expect(distinctPorts(s)).toBe(1);
    resolver.close();
  });

  it('with udpSockets: false, uses a fresh socket (source port) per query as before', async () => {
    const s = await server((x) => x.reply(answer(x.query)));
    const resolver = resolverFor(s.port, { udpSockets: false });
    await Promise.all(names(10).map((n) => resolver.query(n, 'CAA')));
    expect(distinctPorts(s)).toBe(10);
  });

  it('hands over to a new socket (new source port) after maxQueriesPerSocket (RFC 5452 §10)', async () => {
    const s = await server((x) => x.reply(answer(x.query)));
    const resolver = new StubResolver({
      servers: [{ host: '127.0.0.1', port: s.port }],
      udpSockets: { maxQueriesPerSocket: 4 },
    });
    for (const n of names(12)) await resolver.query(n, 'CAA');
    expect(distinctPorts(s)).toBe(3);
    resolver.close();
  });

  it('spreads queries in flight over several sockets beyond maxInFlightPerSocket (receive buffers)', async () => {
    // Hold every reply until all 20 queries are in: they are all in flight at once.
    const s = await server((_x, all) => {
      if (all.length === 20) for (const x of all) x.reply(answer(x.query));
    });
    const resolver = new StubResolver({
      servers: [{ host: '127.0.0.1', port: s.port }],
      udpSockets: { maxInFlightPerSocket: 8 },
    });
    const replies = await Promise.all(names(20).map((n) => resolver.query(n, 'CAA')));
    expect(replies.map((r) => r.question?.name)).toEqual(names(20));
    expect(distinctPorts(s)).toBe(3);
    resolver.close();
  });

  it('drops a reply carrying another in-flight query’s ID with the wrong question, and unknown IDs', async () => {
    // Hold both queries, then answer the first's ID with the second's question (a reply that
    // matches an ID in flight but not its question), then an unknown ID, then the real answers.
    const s = await server((_x, all) => {
      if (all.length < 2) return;
      const [a, b] = all as [Seen, Seen];
      a.reply(answer({ ...b.query, id: a.query.id }, {}, 'evil.example'));
      a.reply(answer({ ...a.query, id: (a.query.id ?? 0) ^ (b.query.id ?? 0) ^ 0x8000 }, {}, 'evil.example'));
      b.reply(answer(b.query));
      a.reply(answer(a.query));
    });
    const resolver = resolverFor(s.port);
    const [ra, rb] = await Promise.all([
      resolver.query('a.example', 'CAA'),
      resolver.query('b.example', 'CAA'),
    ]);
    for (const r of [ra, rb])
      expect(r?.answers.map((x) => x.data)).toEqual([expect.objectContaining({ value: 'ca.example' })]);
    expect(distinctPorts(s)).toBe(1);
    resolver.close();
  });

  it('times each query out on its own deadline while others on the same socket are answered', async () => {
    const s = await server((x) => {
      if (!x.query.questions?.[0]?.name.startsWith('slow')) x.reply(answer(x.query));
    });
    const resolver = resolverFor(s.port, { timeoutMs: 300 });
    const started = Date.now();
    const slow = codeOf(resolver.query('slow.example', 'CAA'));
    const fast = await resolver.query('fast.example', 'CAA');
    expect(fast.rcode).toBe('NOERROR');
    expect(Date.now() - started).toBeLessThan(250);
    expect(await slow).toBe('DNS_TIMEOUT');
    // The socket outlives the timed-out query: the next one still goes through it.
    await resolver.query('after.example', 'CAA');
    expect(distinctPorts(s)).toBe(1);
    resolver.close();
  });

  it('fails every query on a server answering garbage with DNS_MALFORMED_RESPONSE, not a timeout', async () => {
    const s = await server((x, all) => {
      if (all.length === 3) x.reply(Buffer.from('this is not DNS'));
    });
    const resolver = resolverFor(s.port, { timeoutMs: 5000 });
    const codes = await Promise.all(names(3).map((n) => codeOf(resolver.query(n, 'CAA'))));
    expect(codes).toEqual(['DNS_MALFORMED_RESPONSE', 'DNS_MALFORMED_RESPONSE', 'DNS_MALFORMED_RESPONSE']);
  });

  it('close() fails the queries in flight with DNS_NETWORK; later queries open a new socket', async () => {
    const s = await server((x) => {
      if (x.query.questions?.[0]?.name !== 'held.example') x.reply(answer(x.query));
    });
    const resolver = resolverFor(s.port, { timeoutMs: 5000 });
    const held = codeOf(resolver.query('held.example', 'CAA'));
    await new Promise((r) => setTimeout(r, 20));
    resolver.close();
    expect(await held).toBe('DNS_NETWORK');
    expect((await resolver.query('again.example', 'CAA')).rcode).toBe('NOERROR');
    expect(distinctPorts(s)).toBe(2);
    resolver.close();
  });
});

describe('UdpPool', () => {
  const wire = (id: number, name: string) =>
    encodeQuery({ id, name, type: 'CAA', recursionDesired: true, dnssecOk: false, checkingDisabled: false });
  const acceptFor = (id: number, name: string, port: number) => (reply: Buffer) =>
    decodeResponse(reply, {
      expectedId: id,
      expectedName: name,
      expectedType: 'CAA',
      server: { host: '127.0.0.1', port },
      transport: 'udp',
      elapsedMs: 0,
    });

  it('puts two queries with the same ID in flight on different sockets, each answered correctly', async () => {
    const s = await server((_x, all) => {
      if (all.length === 2) for (const x of [...all].reverse()) x.reply(answer(x.query));
    });
    const pool = new UdpPool();
    const endpoint = { host: '127.0.0.1', port: s.port };
    const [a, b] = await Promise.all(
      ['a.example', 'b.example'].map((n) =>
        pool.exchange(endpoint, wire(7, n), 1000, acceptFor(7, n, s.port)),
      ),
    );
    expect([a?.question?.name, b?.question?.name]).toEqual(['a.example', 'b.example']);
    expect(distinctPorts(s)).toBe(2);
    pool.close();
    expect(pool.openSockets).toBe(0);
  });

  it('never takes a late reply to a timed-out query for a later query with the same ID and question', async () => {
    // The first query gets no answer in time. When the second (same ID, same question) arrives,
    // the server sends the first one's stale answer, then the second's own.
    const s = await server((x, all) => {
      if (all.length < 2) return;
      (all[0] as Seen).reply(answer((all[0] as Seen).query, {}, 'stale.example'));
      x.reply(answer(x.query, {}, 'fresh.example'));
    });
    const pool = new UdpPool();
    const endpoint = { host: '127.0.0.1', port: s.port };
    const ask = (timeoutMs: number) =>
      pool.exchange(endpoint, wire(9, 'a.example'), timeoutMs, acceptFor(9, 'a.example', s.port));
    expect(await codeOf(ask(50))).toBe('DNS_TIMEOUT');
    const second = await ask(1000);
    expect(second.answers.map((a) => a.data)).toEqual([expect.objectContaining({ value: 'fresh.example' })]);
    expect(distinctPorts(s)).toBe(2);
    pool.close();
  });

  it('closes an idle socket by itself after idleMs, and close() leaves no socket open', async () => {
    const s = await server((x) => x.reply(answer(x.query)));
    const pool = new UdpPool({ idleMs: 50 });
    const endpoint = { host: '127.0.0.1', port: s.port };
    await pool.exchange(endpoint, wire(1, 'a.example'), 1000, acceptFor(1, 'a.example', s.port));
    expect(pool.openSockets).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(pool.openSockets).toBe(0);
    await pool.exchange(endpoint, wire(2, 'b.example'), 1000, acceptFor(2, 'b.example', s.port));
    expect(pool.openSockets).toBe(1);
    pool.close();
    pool.close();
    expect(pool.openSockets).toBe(0);
  });

  it('retires a socket after maxSocketAgeMs even when it has served few queries', async () => {
    const s = await server((x) => x.reply(answer(x.query)));
    const pool = new UdpPool({ maxSocketAgeMs: 30 });
    const endpoint = { host: '127.0.0.1', port: s.port };
    await pool.exchange(endpoint, wire(1, 'a.example'), 1000, acceptFor(1, 'a.example', s.port));
    await new Promise((r) => setTimeout(r, 60));
    await pool.exchange(endpoint, wire(2, 'b.example'), 1000, acceptFor(2, 'b.example', s.port));
    expect(distinctPorts(s)).toBe(2);
    expect(pool.openSockets).toBe(1);
    pool.close();
  });
});
