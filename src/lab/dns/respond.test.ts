/**
 * The responder's message rules on raw bytes, no sockets: header flags (RFC 1035 §4.1.1),
 * FORMERR/NOTIMP/REFUSED, EDNS(0) (RFC 6891), truncation (RFC 2181 §9), the 0x20 question echo,
 * and a bounded fuzz run proving that no input makes it throw.
 */
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, OptAnswer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { CLASSIC_UDP_LIMIT, SERVER_UDP_PAYLOAD, respond } from './respond.js';
import { LabZone } from './zone.js';

function zone(): LabZone {
  const z = new LabZone({ apexes: ['lab'] });
  z.set('jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'ca.lab' }]);
  z.set('jabber.lab', 'A', ['127.0.0.1']);
  // ~700 bytes: over 512, under 1232.
  z.set('medium.lab', 'TXT', [['m'.repeat(200)], ['n'.repeat(200)], ['o'.repeat(200)]]);
  // ~6 KB: over any UDP limit we send.
  z.set(
    'big.lab',
    'TXT',
    Array.from({ length: 30 }, (_, i) => `${i}`.padEnd(200, 'x')),
  );
  return z;
}
const ZONE = zone();

interface QueryShape {
  name?: string;
  type?: string;
  id?: number;
  flags?: number;
  edns?: { size?: number; version?: number; do?: boolean } | false;
}

function query(shape: QueryShape = {}): Buffer {
  const {
    name = 'jabber.lab',
    type = 'CAA',
    id = 0x1234,
    flags = dnsPacket.RECURSION_DESIRED,
    edns = {},
  } = shape;
  const additionals: Answer[] = edns
    ? [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: edns.size ?? 1232,
          extendedRcode: 0,
          ednsVersion: edns.version ?? 0,
          flags: edns.do ? dnsPacket.DNSSEC_OK : 0,
          flag_do: edns.do ?? false,
          options: [],
        },
      ]
    : [];
  return dnsPacket.encode({
    type: 'query',
    id,
    flags,
    questions: [{ name, type: type as 'A' }],
    additionals,
  });
}

function ask(wire: Buffer, transport: 'udp' | 'tcp' = 'udp'): { wire: Buffer; packet: DecodedPacket } {
  const r = respond(ZONE, wire, transport);
  if (!r) throw new Error('no response');
  return { wire: r.wire, packet: dnsPacket.decode(r.wire) };
}

const rcodeOf = (p: DecodedPacket): number => (p.flags ?? 0) & 0xf;
const optOf = (p: DecodedPacket): OptAnswer | undefined =>
  (p.additionals ?? []).find((a): a is OptAnswer => a.type === 'OPT');

describe('respond: header and question', () => {
  it('echoes ID, question bytes (0x20 case) and RD; sets QR and AA; leaves RA clear', () => {
    const q = query({ name: 'JaBbEr.LaB', id: 0xbeef });
    const { wire, packet } = ask(q);
    expect(packet.id).toBe(0xbeef);
    expect(wire.subarray(12, 12 + 16)).toEqual(q.subarray(12, 12 + 16));
    expect([packet.flag_qr, packet.flag_aa, packet.flag_rd, packet.flag_ra, packet.flag_tc]).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
    expect(packet.answers?.map((a) => [a.name, a.type])).toEqual([['JaBbEr.LaB', 'CAA']]);
    expect(optOf(packet)).toMatchObject({ udpPayloadSize: SERVER_UDP_PAYLOAD, ednsVersion: 0 });
  });

  it('copies CD and the DO bit, and keeps RD clear when the client did (+norecurse)', () => {
    const { packet } = ask(query({ flags: dnsPacket.CHECKING_DISABLED, edns: { do: true } }));
    expect([packet.flag_rd, packet.flag_cd, optOf(packet)?.flag_do]).toEqual([false, true, true]);
  });

  it('answers without OPT a query without OPT', () => {
    expect(optOf(ask(query({ edns: false })).packet)).toBeUndefined();
  });

  it('reads a label holding a dot byte as one label (never as two)', () => {
    const raw = Buffer.concat([
      query().subarray(0, 12),
      Buffer.from([10, ...Buffer.from('jabber.lab'), 0, 0, 1, 0, 1]),
    ]);
    raw.writeUInt16BE(0, 10); // no OPT
    const r = respond(ZONE, raw, 'udp');
    expect(r).toMatchObject({ rcode: 'REFUSED', qname: 'jabber\\046lab' });
    const under = Buffer.concat([
      raw.subarray(0, 12),
      Buffer.from([3, 0x61, 0x2e, 0x62, 3, 0x6c, 0x61, 0x62, 0, 0, 1, 0, 1]),
    ]);
    expect(respond(ZONE, under, 'udp')).toMatchObject({ rcode: 'NXDOMAIN' });
  });
});

describe('respond: error codes', () => {
  const mutate = (edit: (b: Buffer) => unknown): Buffer => {
    const copy = Buffer.from(query());
    edit(copy);
    return copy;
  };
  it.each([
    ['no question (QDCOUNT 0)', 1, mutate((b) => b.writeUInt16BE(0, 4)), false],
    ['two questions', 1, mutate((b) => b.writeUInt16BE(2, 4)), false],
    ['an answer section in a query', 1, mutate((b) => b.writeUInt16BE(1, 6)), true],
    ['a truncated question', 1, query().subarray(0, 20), false],
    ['trailing garbage', 1, Buffer.concat([query(), Buffer.from([1, 2, 3])]), true],
    [
      'two OPT records (RFC 6891 §6.1.1)',
      1,
      (() => {
        const q = query();
        const opt = q.subarray(q.length - 11);
        const two = Buffer.concat([q, opt]);
        two.writeUInt16BE(2, 10);
        return two;
      })(),
      true,
    ],
    ['QTYPE OPT', 1, query({ type: 'OPT' }), true],
    ['NOTIFY (opcode 4)', 4, mutate((b) => b.writeUInt16BE(0x2000, 2)), true],
    ['UPDATE (opcode 5)', 4, mutate((b) => b.writeUInt16BE(0x2800, 2)), true],
    ['AXFR', 5, query({ type: 'AXFR' }), true],
    ['a name outside the zone', 5, query({ name: 'example.com' }), true],
  ])('%s → RCODE %i', (_why, rcode, wire, hasQuestion) => {
    const { packet } = ask(wire);
    expect(rcodeOf(packet)).toBe(rcode);
    expect(packet.id).toBe(0x1234);
    expect(packet.flag_qr).toBe(true);
    expect(packet.questions?.length).toBe(hasQuestion ? 1 : 0);
    if (rcode === 5) expect(packet.flag_aa).toBe(false);
  });

  it('class CH is refused', () => {
    const q = query({ name: 'version.bind', type: 'TXT' });
    q.writeUInt16BE(3, q.length - 13); // QCLASS sits before the 11-byte OPT
    expect(respond(ZONE, q, 'udp')?.rcode).toBe('REFUSED');
  });

  it('an unknown EDNS version gets BADVERS: extended RCODE 1 in the OPT, 0 in the header', () => {
    const { packet } = ask(query({ edns: { version: 1 } }));
    expect([rcodeOf(packet), optOf(packet)?.extendedRcode, optOf(packet)?.ednsVersion]).toEqual([0, 1, 0]);
  });

  it('drops what it cannot answer: no header, a response over UDP, an oversized datagram', () => {
    expect(respond(ZONE, Buffer.alloc(11), 'udp')).toBeNull();
    const response = Buffer.from(query());
    response.writeUInt16BE(0x8100, 2);
    expect(respond(ZONE, response, 'udp')).toBeNull();
    expect(respond(ZONE, Buffer.concat([query(), Buffer.alloc(5000)]), 'udp')).toBeNull();
    // Over TCP nothing bounces back to another server: the response gets FORMERR.
    expect(respond(ZONE, response, 'tcp')?.rcode).toBe('FORMERR');
  });
});

describe('respond: truncation', () => {
  it.each([
    ['medium, no EDNS: over 512', true, 'medium.lab', false, 'udp'],
    ['medium, EDNS 1232', false, 'medium.lab', { size: 1232 }, 'udp'],
    ['medium, EDNS 100 (read as 512)', true, 'medium.lab', { size: 100 }, 'udp'],
    ['big, EDNS 4096 (capped at our 1232)', true, 'big.lab', { size: 4096 }, 'udp'],
    ['big over TCP', false, 'big.lab', false, 'tcp'],
  ] as const)('%s → TC=%s', (_why, tc, name, edns, transport) => {
    const { wire, packet } = ask(query({ name, type: 'TXT', edns }), transport);
    expect(packet.flag_tc).toBe(tc);
    if (tc) {
      // RFC 2181 §9: no partial RRset; the client retries over TCP.
      expect([packet.answers?.length, packet.questions?.length, packet.flag_aa]).toEqual([0, 1, true]);
      expect(wire.length).toBeLessThanOrEqual(CLASSIC_UDP_LIMIT);
    } else {
      expect(packet.answers?.length).toBe(name === 'big.lab' ? 30 : 3);
    }
  });
});

describe('respond: hostile bytes', () => {
  it('never throws; every answer is a decodable response with the query ID (bounded fuzz)', () => {
    const seeds = [query(), query({ edns: false }), query({ name: 'big.lab', type: 'TXT' })];
    const inputs: Buffer[] = [];
    for (let i = 0; i < 1500; i++) inputs.push(randomBytes(i % 80));
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(seeds[i % seeds.length] as Buffer);
      for (let k = 0; k <= i % 4; k++) b[(i * 7 + k * 13) % b.length] = (i * 31 + k) & 0xff;
      inputs.push(i % 5 === 0 ? b.subarray(0, b.length - (i % 9)) : b);
    }
    for (const input of inputs) {
      const r = respond(ZONE, input, input.length % 2 ? 'udp' : 'tcp');
      if (!r) continue;
      const p = dnsPacket.decode(r.wire);
      expect(p.flag_qr).toBe(true);
      expect(p.id).toBe(input.readUInt16BE(0));
    }
  });
});
