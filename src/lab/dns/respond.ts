/**
 * @module lab/dns/respond
 * One query's bytes in, one response's bytes out (or nothing): the authoritative server's message
 * handling (RFC 1035 §4.1, RFC 1034 §4.3.2) without any socket, so every rule is tested on bytes.
 * `dns-packet` encodes the answer; the question is copied from the query byte for byte, so the
 * client's 0x20 case (and any odd byte) comes back exactly as sent.
 */
import dnsPacket from 'dns-packet';
import type { Answer, OptAnswer } from 'dns-packet';
import { toPacketAnswer, type ZoneRr } from './records.js';
import type { LabZone } from './zone.js';

/** RFC 6891 §6.2.5 + DNS Flag Day 2020: the largest UDP payload we send (and advertise). */
export const SERVER_UDP_PAYLOAD = 1232;
/** RFC 1035 §4.2.1: without EDNS, a UDP message is at most 512 bytes. */
export const CLASSIC_UDP_LIMIT = 512;
/** A query is a header, one question and an OPT: anything longer is not one we answer. */
export const MAX_QUERY_BYTES = 4096;

const HEADER = 12;
const QR = 0x8000;
const OPCODE_MASK = 0x7800;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const CD = 0x0010;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** RFC 6891 §6.1.3: BADVERS is 16, i.e. extended RCODE 1 in the OPT with 0 in the header. */
const BADVERS = 16;

export type ResponseCode = keyof typeof RCODE | 'BADVERS';

/** What was answered, for the query log and the counters. */
export interface Responded {
  wire: Buffer;
  rcode: ResponseCode;
  /** Question name as the client spelt it (escaped when not a host name), or null. */
  qname: string | null;
  qtype: string | null;
  truncated: boolean;
}

interface Question {
  raw: Buffer;
  /** Lower case, `\DDD` for bytes outside `[a-z0-9_-]`: never equal to a name the zone holds. */
  canonical: string;
  /** As sent (0x20 case kept), same escaping. */
  spelt: string;
  qtype: number;
  qclass: number;
}

interface Edns {
  version: number;
  udpPayloadSize: number;
  dnssecOk: boolean;
}

function presentLabel(label: Buffer, lower: boolean): string {
  let out = '';
  for (let byte of label) {
    if (lower && byte >= 0x41 && byte <= 0x5a) byte += 0x20; // RFC 4343: ASCII case only
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `\\${byte.toString().padStart(3, '0')}`;
  }
  return out;
}

/** RFC 1035 §4.1.2 at offset 12; null when the bytes are not one well-formed question. */
function readQuestion(buf: Buffer): Question | null {
  const labels: Buffer[] = [];
  let off = HEADER;
  for (;;) {
    const len = buf[off];
    if (len === undefined) return null;
    off++;
    if (len === 0) break;
    // Compression (and the reserved 0x40/0x80 forms) cannot occur in a first question: nothing
    // before it holds a name to point at (RFC 1035 §4.1.4).
    if (len > 63 || off + len > buf.length) return null;
    labels.push(buf.subarray(off, off + len));
    off += len;
    if (off - HEADER > 255) return null; // RFC 1035 §2.3.4
  }
  if (off + 4 > buf.length) return null;
  return {
    raw: buf.subarray(HEADER, off + 4),
    canonical: labels.map((l) => presentLabel(l, true)).join('.'),
    spelt: labels.map((l) => presentLabel(l, false)).join('.'),
    qtype: buf.readUInt16BE(off),
    qclass: buf.readUInt16BE(off + 2),
  };
}

interface Reply {
  rcode: ResponseCode;
  aa?: boolean;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

function encode(query: Buffer, q: Question | null, edns: Edns | null, reply: Reply, tc = false): Buffer {
  const flags = query.readUInt16BE(2);
  const rcode = reply.rcode === 'BADVERS' ? BADVERS : RCODE[reply.rcode];
  const opt: OptAnswer[] = edns
    ? [
        {
          type: 'OPT',
          name: '.',
          udpPayloadSize: SERVER_UDP_PAYLOAD,
          extendedRcode: rcode >> 4,
          ednsVersion: 0,
          // RFC 3225 §3: the DO bit is copied into the response.
          flags: edns.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
          flag_do: edns.dnssecOk,
          options: [],
        },
      ]
    : [];
  const body = dnsPacket.encode({
    type: 'response',
    id: query.readUInt16BE(0),
    // RFC 1035 §4.1.1: OPCODE and RD copied; RFC 4035 §3.1.6: CD copied; RA clear (no recursion).
    flags: (flags & (OPCODE_MASK | RD | CD)) | (reply.aa ? AA : 0) | (tc ? TC : 0) | (rcode & 0xf),
    questions: [],
    answers: tc ? [] : (reply.answers ?? []),
    authorities: tc ? [] : (reply.authorities ?? []),
    additionals: [...(tc ? [] : (reply.additionals ?? [])), ...opt],
  });
  if (!q) return body;
  const wire = Buffer.concat([body.subarray(0, HEADER), q.raw, body.subarray(HEADER)]);
  wire.writeUInt16BE(1, 4);
  return wire;
}

/** Decodes the OPT pseudo-record (RFC 6891 §6.1); 'bad' for a message or OPT that is malformed. */
function readEdns(query: Buffer): Edns | null | 'bad' {
  let additionals: Answer[];
  try {
    const packet = dnsPacket.decode(query);
    // Bytes after the last record: not a DNS message we can trust to mean what it says.
    if (dnsPacket.decode.bytes !== query.length) return 'bad';
    additionals = packet.additionals ?? [];
  } catch {
    return 'bad';
  }
  const opts = additionals.filter((a): a is OptAnswer => a.type === 'OPT');
  const opt = opts[0];
  if (!opt) return null;
  if (opts.length > 1 || opt.name !== '.') return 'bad'; // RFC 6891 §6.1.1
  return { version: opt.ednsVersion, udpPayloadSize: opt.udpPayloadSize, dnssecOk: opt.flag_do };
}

/**
 * Answers one query from `zone`. Returns null when no answer may be sent: fewer than 12 bytes (no
 * header to answer), more than MAX_QUERY_BYTES, or a response (QR set) over UDP — DEVIATION from
 * "FORMERR whenever a header can be read": answering a spoofable UDP response lets two servers
 * bounce errors at each other forever (responses are for resolvers, RFC 1035 §7.3); over TCP it
 * gets FORMERR. Never throws: an internal fault becomes SERVFAIL.
 */
export function respond(zone: LabZone, query: Buffer, transport: 'udp' | 'tcp'): Responded | null {
  if (query.length < HEADER || query.length > MAX_QUERY_BYTES) return null;
  const flags = query.readUInt16BE(2);
  if ((flags & QR) !== 0 && transport === 'udp') return null;
  const q = query.readUInt16BE(4) === 1 ? readQuestion(query) : null;
  const done = (edns: Edns | null, reply: Reply, tc = false): Responded => ({
    wire: encode(query, q, edns, reply, tc),
    rcode: reply.rcode,
    qname: q?.spelt ?? null,
    qtype: q ? typeName(q.qtype) : null,
    truncated: tc,
  });
  try {
    // RFC 1035 §4.1.1: OPCODE other than QUERY (NOTIFY, UPDATE, IQUERY…) is not implemented here.
    if ((flags & OPCODE_MASK) !== 0) return done(null, { rcode: 'NOTIMP' });
    const counts = [4, 6, 8].map((o) => query.readUInt16BE(o));
    // A query is one question and nothing in the answer or authority sections (RFC 1035 §4.1.1,
    // "FORMERR: unable to interpret the query"); a response sent to us over TCP lands here too.
    if ((flags & QR) !== 0 || counts[0] !== 1 || counts[1] !== 0 || counts[2] !== 0 || !q)
      return done(null, { rcode: 'FORMERR' });
    const edns = readEdns(query);
    if (edns === 'bad') return done(null, { rcode: 'FORMERR' });
    // RFC 6891 §6.1.3: a version we do not implement gets BADVERS and our version (0).
    if (edns && edns.version > 0) return done(edns, { rcode: 'BADVERS' });
    const type = typeName(q.qtype);
    if (type === 'OPT') return done(edns, { rcode: 'FORMERR' });
    // Not our class, or a zone transfer (we offer none): not something we answer for.
    if (q.qclass !== 1 || type === 'AXFR' || type === 'IXFR') return done(edns, { rcode: 'REFUSED' });
    const found = zone.lookup(q.canonical, type);
    const owner = (rr: ZoneRr): Answer => toPacketAnswer(rr, rr.name === q.canonical ? q.spelt : rr.name);
    const reply: Reply = {
      rcode: found.rcode,
      aa: found.authoritative,
      answers: found.answers.map(owner),
      authorities: found.authorities.map(owner),
      additionals: found.additionals.map(owner),
    };
    const full = done(edns, reply);
    // RFC 6891 §6.2.5: a payload size under 512 is read as 512; we never send over our own limit.
    const limit =
      transport === 'tcp'
        ? 0xffff
        : edns
          ? Math.min(Math.max(edns.udpPayloadSize, CLASSIC_UDP_LIMIT), SERVER_UDP_PAYLOAD)
          : CLASSIC_UDP_LIMIT;
    if (full.wire.length <= limit) return full;
    // RFC 2181 §9 / RFC 7766 §5: over UDP, set TC and send no partial RRset, so the client asks
    // again over TCP. Over TCP a message over 64 KiB cannot be framed (RFC 1035 §4.2.2).
    return transport === 'udp' ? done(edns, reply, true) : done(edns, { rcode: 'SERVFAIL' });
  } catch {
    try {
      return done(null, { rcode: 'SERVFAIL' });
    } catch {
      return null;
    }
  }
}

/** The types the lookup needs by name; every other number reads as RFC 3597 `TYPEn` (no data). */
const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  16: 'TXT',
  28: 'AAAA',
  41: 'OPT',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  257: 'CAA',
};

function typeName(qtype: number): string {
  return TYPE_NAMES[qtype] ?? `TYPE${qtype}`;
}
