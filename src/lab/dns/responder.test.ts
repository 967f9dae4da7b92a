/**
 * The responder on real sockets, asked by the project's own clients (src/dns StubResolver,
 * src/caa evaluateCaa) as the lab's commands ask it: as a recursive resolver (RD set), answered
 * authoritatively (AA=1, RA=0); then by raw bytes over UDP and TCP, and bounded by its limits.
 * dig's view of the same server is in responder-dig.test.ts.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateCaa } from '../../caa/index.js';
import { StubResolver } from '../../dns/index.js';
import { startDnsResponder, type DnsQueryLog, type DnsResponder } from './responder.js';
import { labTestZone, ACCOUNT_1, ACCOUNT_2 } from './test-zone.fixture.js';

let dns: DnsResponder;
let resolver: StubResolver;
const zone = labTestZone();
const log: DnsQueryLog[] = [];

beforeAll(async () => {
  dns = await startDnsResponder({ zone, onQuery: (q) => log.push(q) });
  resolver = new StubResolver({
    servers: [{ host: dns.host, port: dns.port }],
    timeoutMs: 2000,
    attempts: 1,
  });
});
afterAll(() => dns.close());

function udpExchange(wire: Buffer, waitMs = 400): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (reply: Buffer | null): void => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(null), waitMs);
    s.on('message', (m) => done(m));
    s.send(wire, dns.port, dns.host);
  });
}

/** Opens a TCP connection and collects every framed message it receives until it closes. */
function tcpSession(port = dns.port): { socket: net.Socket; messages: Buffer[]; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  const messages: Buffer[] = [];
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      messages.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      buf = buf.subarray(2 + buf.readUInt16BE(0));
    }
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, messages, closed };
}

const frame = (wire: Buffer): Buffer => {
  const p = Buffer.alloc(2);
  p.writeUInt16BE(wire.length, 0);
  return Buffer.concat([p, wire]);
};
const q = (name: string, type = 'A', id = 7): Buffer =>
  dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A' }],
  });
/** The header's RCODE by name (RFC 1035 §4.1.1; dns-packet's typings leave it out). */
const rcodeOf = (wire: Buffer): string =>
  ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'][wire.readUInt16BE(2) & 0xf] ?? 'other';
const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
};

describe('StubResolver (src/dns) against the responder', () => {
  it.each([
    ['an RRset', 'jabber.lab', 'CAA', 'NOERROR', 3, 0, 'udp'],
    ['0x20 case', 'JaBbEr.LaB', 'A', 'NOERROR', 1, 0, 'udp'],
    ['NODATA with the SOA', 'jabber.lab', 'TXT', 'NOERROR', 0, 1, 'udp'],
    ['an empty non-terminal is NODATA', '_tcp.jabber.lab', 'CAA', 'NOERROR', 0, 1, 'udp'],
    ['NXDOMAIN with the SOA', 'nope.jabber.lab', 'A', 'NXDOMAIN', 0, 1, 'udp'],
    ['a CNAME followed in the zone', 'conference.jabber.lab', 'CAA', 'NOERROR', 4, 0, 'udp'],
    ['REFUSED outside the zone', 'example.com', 'A', 'REFUSED', 0, 0, 'udp'],
    ['a big TXT RRset: TC, then TCP', 'big.lab', 'TXT', 'NOERROR', 30, 0, 'tcp'],
    ['a big CAA RRset: TC, then TCP', 'bigcaa.lab', 'CAA', 'NOERROR', 40, 0, 'tcp'],
  ])('%s: %s/%s → %s', async (_why, name, type, rcode, answers, authorities, transport) => {
    const r = await resolver.query(name, type);
    expect({
      rcode: r.rcode,
      answers: r.answers.length,
      authorities: r.authorities.length,
      transport: r.transport,
    }).toEqual({ rcode, answers, authorities, transport });
    // Authoritative, not recursive: AA as a server for the zone, RA clear, RD echoed, no AD.
    expect(r.flags).toMatchObject({
      authoritative: rcode !== 'REFUSED',
      recursionAvailable: false,
      recursionDesired: true,
      authenticData: false,
    });
    expect(r.ednsUdpSize).toBe(1232);
  });

  it('answers with RD clear when recursion is not desired (+norecurse)', async () => {
    const r = await resolver.query('jabber.lab', 'A', { recursionDesired: false });
    expect([r.rcode, r.flags.recursionDesired, r.flags.authoritative]).toEqual(['NOERROR', false, true]);
  });

  it('serves a live CAA update to the very next query, with a new serial', async () => {
    const before = await resolver.query('live.jabber.lab', 'SOA');
    expect(before.rcode).toBe('NXDOMAIN');
    const serial = zone.serial();
    zone.set('live.jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'ca.lab' }]);
    const after = await resolver.query('live.jabber.lab', 'CAA');
    expect(after.answers.map((a) => a.data)).toEqual([
      { type: 'CAA', flags: 0, tag: 'issue', value: 'ca.lab' },
    ]);
    const soa = await resolver.query('lab', 'SOA');
    expect(soa.answers[0]?.data).toMatchObject({ type: 'SOA', serial: serial + 1 });
    zone.set('live.jabber.lab', 'CAA', []);
    expect((await resolver.query('live.jabber.lab', 'CAA')).rcode).toBe('NXDOMAIN');
  });
});

describe('evaluateCaa (src/caa) decides against the responder', () => {
  const ask = (name: string, accountUri: string, validationMethod = 'http-01', ca = 'ca.lab') =>
    evaluateCaa({ name, issuerDomains: [ca], accountUri, validationMethod }, resolver);

  it.each([
    ['the victim account, http-01', 'allow', 'authorized', 'jabber.lab', ACCOUNT_1, 'http-01', 'ca.lab'],
    ['another account', 'deny', 'account-uri-mismatch', 'jabber.lab', ACCOUNT_2, 'http-01', 'ca.lab'],
    [
      'a method not allowed',
      'deny',
      'validation-method-not-allowed',
      'jabber.lab',
      ACCOUNT_1,
      'dns-01',
      'ca.lab',
    ],
    ['another CA', 'deny', 'issuer-not-authorized', 'jabber.lab', ACCOUNT_1, 'http-01', 'other.example'],
    [
      'a name below (climbs to jabber.lab)',
      'deny',
      'account-uri-mismatch',
      'upload.jabber.lab',
      ACCOUNT_2,
      'http-01',
      'ca.lab',
    ],
    ['through a CNAME', 'allow', 'authorized', 'conference.jabber.lab', ACCOUNT_1, 'http-01', 'ca.lab'],
  ])('%s → %s (%s)', async (_why, decision, reason, name, account, method, ca) => {
    const r = await ask(name, account, method, ca);
    expect({ decision: r.decision, reason: r.reason }, r.explanation).toEqual({ decision, reason });
    expect(r.dnssec).toBe('insecure');
  });

  it('allows the other account once the zone holds a plain issue record (the 2023 situation)', async () => {
    const keep = zone.get('jabber.lab', 'CAA');
    zone.set('jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'ca.lab' }]);
    try {
      expect((await ask('jabber.lab', ACCOUNT_2)).decision).toBe('allow');
    } finally {
      zone.set('jabber.lab', 'CAA', keep);
    }
    expect((await ask('jabber.lab', ACCOUNT_2)).decision).toBe('deny');
  });
});

describe('hostile bytes on the wire', () => {
  it('UDP: FORMERR for a readable header, silence for the rest, and it keeps answering', async () => {
    const header = Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
    const reply = await udpExchange(header);
    if (!reply) throw new Error('no FORMERR came back');
    expect([dnsPacket.decode(reply).id, dnsPacket.decode(reply).flag_qr, rcodeOf(reply)]).toEqual([
      0xabcd,
      true,
      'FORMERR',
    ]);
    expect(await udpExchange(Buffer.from([1, 2, 3]), 200)).toBeNull();
    const response = Buffer.from(q('jabber.lab'));
    response[2] = 0x84; // QR + AA: a response; answering it could loop between two servers
    expect(await udpExchange(response, 200)).toBeNull();
    expect((await resolver.query('jabber.lab', 'A')).rcode).toBe('NOERROR');
  });

  it('TCP: several queries in one write are answered in order; garbage gets FORMERR on the same connection', async () => {
    const s = tcpSession();
    s.socket.write(
      Buffer.concat([
        frame(q('jabber.lab', 'A', 1)),
        frame(Buffer.from([0x67, 0x61, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0xde, 0xad])),
        frame(q('nope.lab', 'A', 3)),
      ]),
    );
    await until(() => s.messages.length === 3);
    expect(
      s.messages.map((m) => dnsPacket.decode(m)).map((p, i) => [p.id, rcodeOf(s.messages[i] as Buffer)]),
    ).toEqual([
      [1, 'NOERROR'],
      [0x6761, 'FORMERR'],
      [3, 'NXDOMAIN'],
    ]);
    s.socket.destroy();
  });

  it('TCP: a zero or oversized length closes the connection; the server answers the next one', async () => {
    for (const bad of [Buffer.from([0, 0]), Buffer.from([0xff, 0xff, 1, 2, 3])]) {
      const s = tcpSession();
      s.socket.write(bad);
      await s.closed;
      expect(s.messages).toEqual([]);
    }
    const s = tcpSession();
    s.socket.write(frame(q('jabber.lab')));
    await until(() => s.messages.length === 1);
    expect(rcodeOf(s.messages[0] as Buffer)).toBe('NOERROR');
    s.socket.destroy();
  });

  it('counts and logs what it answered, whatever the log callback does', () => {
    expect(dns.queries).toBeGreaterThanOrEqual(log.length);
    expect(log).toContainEqual({
      transport: 'tcp',
      name: 'big.lab',
      type: 'TXT',
      rcode: 'NOERROR',
      truncated: false,
    });
    expect(log).toContainEqual({
      transport: 'udp',
      name: 'big.lab',
      type: 'TXT',
      rcode: 'NOERROR',
      truncated: true,
    });
    expect(log).toContainEqual({
      transport: 'udp',
      name: 'example.com',
      type: 'A',
      rcode: 'REFUSED',
      truncated: false,
    });
  });
});

describe('limits and lifecycle', () => {
  it('closes an idle TCP connection, refuses connections over the limit, survives a throwing logger', async () => {
    const small = await startDnsResponder({
      zone,
      tcpIdleMs: 300,
      maxTcpConnections: 2,
      onQuery: () => {
        throw new Error('logger fault');
      },
    });
    try {
      const a = tcpSession(small.port);
      const b = tcpSession(small.port);
      a.socket.write(Buffer.from([0, 40, 1])); // half a message, then nothing
      await until(() => a.socket.readyState === 'open' && b.socket.readyState === 'open');
      await new Promise((r) => setTimeout(r, 50)); // let the server accept both
      const c = tcpSession(small.port);
      await c.closed; // over the limit: dropped at accept
      const started = Date.now();
      await Promise.all([a.closed, b.closed]); // idle: closed by the server after 300 ms
      expect(Date.now() - started).toBeLessThan(2000);
      const d = tcpSession(small.port);
      d.socket.write(frame(q('jabber.lab')));
      await until(() => d.messages.length === 1);
      expect(small.queries).toBe(1);
      d.socket.destroy();
    } finally {
      await small.close();
    }
  });

  it('listens on ::1 as well (UDP and TCP), when the host has IPv6 loopback', async (ctx) => {
    const v6 = await startDnsResponder({ zone, host: '::1' }).catch(() => null);
    if (!v6) return ctx.skip('no IPv6 loopback here');
    try {
      expect(v6.endpoint).toBe(`[::1]:${v6.port}`);
      const r6 = new StubResolver({
        servers: [{ host: '::1', port: v6.port }],
        timeoutMs: 2000,
        attempts: 1,
      });
      expect((await r6.query('jabber.lab', 'CAA')).answers).toHaveLength(3);
      expect((await r6.query('big.lab', 'TXT')).transport).toBe('tcp');
    } finally {
      await v6.close();
    }
  });

  it('fails with LAB_START_FAILED on a port in use, and close() is idempotent and frees the port', async () => {
    await expect(startDnsResponder({ zone, port: dns.port })).rejects.toMatchObject({
      code: 'LAB_START_FAILED',
    });
    const other = await startDnsResponder({ zone });
    const port = other.port;
    await Promise.all([other.close(), other.close()]);
    await other.close();
    const again = await startDnsResponder({ zone, port });
    expect(again.endpoint).toBe(`127.0.0.1:${port}`);
    await again.close();
  });
});
