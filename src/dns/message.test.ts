import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCertvigilError } from '../errors.js';
import { decodeResponse, encodeQuery, EDNS_UDP_PAYLOAD_SIZE } from './message.js';

const server = { host: '127.0.0.1', port: 53 };
const ctx = {
  expectedId: 7,
  expectedName: 'example.com',
  expectedType: 'CAA',
  server,
  transport: 'udp' as const,
  elapsedMs: 1,
};

function ede(code: number, text: string): { code: number; data: Buffer } {
  const data = Buffer.alloc(2 + Buffer.byteLength(text));
  data.writeUInt16BE(code, 0);
  data.write(text, 2);
  return { code: 15, data };
}

function reply(
  over: Partial<dnsPacket.Packet> & { rcodeNum?: number; opts?: { code: number; data: Buffer }[] } = {},
): Buffer {
  const { rcodeNum = 0, opts = [], ...rest } = over;
  return dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.RECURSION_AVAILABLE | rcodeNum,
    questions: [{ type: 'CAA', name: 'example.com', class: 'IN' }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 1232,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: true,
        options: opts as never,
      },
    ],
    ...rest,
  });
}

describe('encodeQuery', () => {
  it('asks with EDNS0 (1232 bytes), DO and AD, and RD when recursing', () => {
    const wire = encodeQuery({
      id: 42,
      name: 'example.com',
      type: 'CAA',
      recursionDesired: true,
      dnssecOk: true,
      checkingDisabled: false,
    });
    const p = dnsPacket.decode(wire);
    expect(p.id).toBe(42);
    expect(p.flag_rd).toBe(true);
    expect(p.flag_ad).toBe(true);
    expect(p.flag_cd).toBe(false);
    const opt = p.additionals?.[0];
    expect(opt?.type).toBe('OPT');
    if (opt?.type === 'OPT') {
      expect(opt.udpPayloadSize).toBe(EDNS_UDP_PAYLOAD_SIZE);
      expect(opt.flag_do).toBe(true);
    }
  });
});

describe('decodeResponse', () => {
  it('reads CAA records, TTLs, flags and case-preserved owner names', () => {
    const r = decodeResponse(
      reply({
        flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA,
        answers: [
          {
            type: 'CAA',
            name: 'Example.COM',
            ttl: 300,
            data: { flags: 128, tag: 'issue', value: 'ca.example' },
          },
        ],
      }),
      ctx,
    );
    expect(r.rcode).toBe('NOERROR');
    expect(r.flags.authenticData).toBe(true);
    expect(r.validation).toBe('authenticated');
    expect(r.answers[0]).toMatchObject({ name: 'example.com', rawName: 'Example.COM', ttl: 300 });
    expect(r.answers[0]?.data).toEqual({ type: 'CAA', flags: 128, tag: 'issue', value: 'ca.example' });
  });

  it('reads RFC 8914 Extended DNS Errors and flags a DNSSEC failure', () => {
    const r = decodeResponse(reply({ rcodeNum: 2, opts: [ede(7, 'expired sig'), ede(22, '')] }), ctx);
    expect(r.rcode).toBe('SERVFAIL');
    expect(r.extendedErrors).toEqual([
      { code: 7, name: 'Signature Expired', text: 'expired sig' },
      { code: 22, name: 'No Reachable Authority', text: '' },
    ]);
    expect(r.validation).toBe('failed');
  });

  it('does not call a SERVFAIL without a DNSSEC EDE bogus', () => {
    const r = decodeResponse(reply({ rcodeNum: 2, opts: [ede(22, '')] }), ctx);
    expect(r.validation).toBe('unauthenticated');
  });

  it.each([
    ['another ID', { id: 8 }],
    ['another name', { questions: [{ type: 'CAA' as const, name: 'evil.example', class: 'IN' as const }] }],
    ['another type', { questions: [{ type: 'A' as const, name: 'example.com', class: 'IN' as const }] }],
    ['a query', { type: 'query' as const }],
  ])('rejects a response for %s as mismatched', (_what, over) => {
    try {
      decodeResponse(reply(over), ctx);
      expect.unreachable();
    } catch (err) {
      expect(isCertvigilError(err) && err.code).toBe('DNS_MISMATCHED_RESPONSE');
    }
  });

  it('matches the question name case-insensitively (RFC 4343)', () => {
    const r = decodeResponse(reply({ questions: [{ type: 'CAA', name: 'EXAMPLE.com', class: 'IN' }] }), ctx);
    expect(r.question).toEqual({ name: 'example.com', type: 'CAA' });
  });

  it('turns any byte string into a response or a typed error, never a crash (property test)', () => {
    const valid = reply({
      answers: [{ type: 'CAA', name: 'example.com', ttl: 1, data: { flags: 0, tag: 'issue', value: 'x' } }],
    });
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: valid.length - 1 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: valid.length }),
      )
      .map(([pos, byte, cut]) => {
        const b = Buffer.from(valid);
        b[pos] = byte;
        return b.subarray(0, cut);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          mutated,
          fc.uint8Array({ maxLength: 600 }).map((u) => Buffer.from(u)),
        ),
        (bytes) => {
          try {
            decodeResponse(bytes, ctx);
          } catch (err) {
            expect(isCertvigilError(err)).toBe(true);
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('decodeResponse: TLSA (RFC 6698 §2.1)', () => {
  const owner = '_443._tcp.dane.example';
  const tlsaCtx = { ...ctx, expectedName: owner, expectedType: 'TLSA' };
  const tlsaReply = (certificate: Buffer): Buffer =>
    dnsPacket.encode({
      type: 'response',
      id: 7,
      flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHENTIC_DATA,
      questions: [{ type: 'TLSA', name: owner, class: 'IN' }],
      answers: [
        { type: 'TLSA', name: owner, ttl: 60, data: { usage: 3, selector: 1, matchingType: 1, certificate } },
        { type: 'A', name: 'after.example', ttl: 60, data: '192.0.2.1' },
      ],
    });

  it.each([0, 1, 32, 64, 1000])('keeps usage, selector, matching type and %i data bytes', (n) => {
    const data = Buffer.alloc(n, 0xab);
    const r = decodeResponse(tlsaReply(data), tlsaCtx);
    expect(r.validation).toBe('authenticated');
    expect(r.answers[0]?.data).toEqual({
      type: 'TLSA',
      usage: 3,
      selector: 1,
      matchingType: 1,
      data: new Uint8Array(data),
    });
    expect(r.answers[1]?.data).toEqual({ type: 'A', address: '192.0.2.1' });
  });

  // RDLENGTH below the 3 fixed octets: dns-packet reads past the RDATA. Whatever comes out must be
  // an error or a record no matcher can use (probe/dane.ts rejects the odd fields), never a match.
  it.each([0, 1, 2])('a TLSA RDLENGTH of %i is an error or an unusable record', (len) => {
    const wire = tlsaReply(Buffer.alloc(0));
    const at = wire.indexOf(Buffer.from([0, 3, 3, 1, 1]));
    const hostile = Buffer.concat([
      wire.subarray(0, at),
      Buffer.from([0, len]),
      wire.subarray(at + 2, at + 2 + len),
      wire.subarray(at + 5),
    ]);
    try {
      const r = decodeResponse(hostile, tlsaCtx);
      const d = r.answers[0]?.data;
      expect(d?.type).toBe('TLSA');
      if (d?.type === 'TLSA') expect(d.data.length === 0 || d.matchingType > 2).toBe(true);
    } catch (err) {
      expect(isCertvigilError(err) && err.code).toBe('DNS_MALFORMED_RESPONSE');
    }
  });
});
