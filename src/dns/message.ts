/**
 * @module dns/message
 * Wire format ↔ typed values. Pure: no sockets here (the miekg/dns split between codec and
 * transport). Encoding and decoding are delegated to `dns-packet`; this module adds what it leaves
 * out: the EDNS0 query shape we always send, Extended DNS Errors (RFC 8914), extended RCODEs
 * (RFC 6891 §6.1.3), and a strict check that a response belongs to the query we sent.
 */
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { CertvigilError } from '../errors.js';
import type { DnsEndpoint, DnsRecord, DnsRecordData, DnsResponse, ExtendedDnsError, Rcode } from './types.js';

/**
 * RFC 6891 §6.2.5 + DNS Flag Day 2020: 1232 bytes avoids IP fragmentation on any path, so a large
 * answer comes back truncated (and is retried over TCP) instead of being silently lost.
 */
export const EDNS_UDP_PAYLOAD_SIZE = 1232;

/** RFC 8914 §5.2 registry (IANA "Extended DNS Error Codes"), names as registered. */
const EDE_NAMES: Record<number, string> = {
  0: 'Other Error',
  1: 'Unsupported DNSKEY Algorithm',
  2: 'Unsupported DS Digest Type',
  3: 'Stale Answer',
  4: 'Forged Answer',
  5: 'DNSSEC Indeterminate',
  6: 'DNSSEC Bogus',
  7: 'Signature Expired',
  8: 'Signature Not Yet Valid',
  9: 'DNSKEY Missing',
  10: 'RRSIGs Missing',
  11: 'No Zone Key Bit Set',
  12: 'NSEC Missing',
  13: 'Cached Error',
  14: 'Not Ready',
  15: 'Blocked',
  16: 'Censored',
  17: 'Filtered',
  18: 'Prohibited',
  19: 'Stale NXDomain Answer',
  20: 'Not Authoritative',
  21: 'Not Supported',
  22: 'No Reachable Authority',
  23: 'Network Error',
  24: 'Invalid Data',
  25: 'Signature Expired before Valid',
  26: 'Too Early',
  27: 'Unsupported NSEC3 Iterations Value',
  28: 'Unable to conform to policy',
  29: 'Synthesized',
  30: 'Invalid Query Type',
};

/** EDE codes that mean "DNSSEC validation failed" (the answer is bogus, RFC 4035 §4.3). */
const DNSSEC_FAILURE_EDE = new Set([5, 6, 7, 8, 9, 10, 11, 12, 25]);

/** True when any EDE attached to the response says DNSSEC validation failed. */
export function indicatesDnssecBogus(errors: readonly ExtendedDnsError[]): boolean {
  return errors.some((e) => DNSSEC_FAILURE_EDE.has(e.code));
}

const RCODE_NAMES: Record<number, Rcode> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
};

/** Maps a numeric RCODE (including extended ones) to its name, or `RCODE<n>`. */
export function rcodeName(code: number): Rcode {
  return RCODE_NAMES[code] ?? `RCODE${code}`;
}

export interface EncodeQueryInput {
  id: number;
  name: string;
  type: string;
  recursionDesired: boolean;
  dnssecOk: boolean;
  checkingDisabled: boolean;
}

/** Builds a query with one question and an EDNS0 OPT record (RFC 6891). */
export function encodeQuery(input: EncodeQueryInput): Buffer {
  let flags = 0;
  if (input.recursionDesired) flags |= dnsPacket.RECURSION_DESIRED;
  // RFC 6840 §5.7: setting AD in a query asks a validating resolver to report AD in its answer.
  flags |= dnsPacket.AUTHENTIC_DATA;
  if (input.checkingDisabled) flags |= dnsPacket.CHECKING_DISABLED;
  return dnsPacket.encode({
    type: 'query',
    id: input.id,
    flags,
    questions: [{ type: input.type as 'CAA', class: 'IN', name: input.name }],
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_UDP_PAYLOAD_SIZE,
        extendedRcode: 0,
        ednsVersion: 0,
        flags: input.dnssecOk ? dnsPacket.DNSSEC_OK : 0,
        flag_do: input.dnssecOk,
        options: [],
      },
    ],
  });
}

/** Lower-cases a domain name and strips a trailing dot ('' is the root). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

interface OptLike {
  type: 'OPT';
  udpPayloadSize: number;
  extendedRcode: number;
  options?: { code: number; data?: Buffer }[];
}

function isOpt(a: Answer): a is Answer & OptLike {
  return a.type === 'OPT';
}

/** RFC 8914 §2: OPTION-CODE 15, INFO-CODE (16 bits), EXTRA-TEXT (UTF-8, possibly empty). */
function parseEde(options: readonly { code: number; data?: Buffer }[]): ExtendedDnsError[] {
  const out: ExtendedDnsError[] = [];
  for (const option of options) {
    if (option.code !== 15 || !option.data || option.data.length < 2) continue;
    const code = option.data.readUInt16BE(0);
    out.push({
      code,
      name: EDE_NAMES[code] ?? `EDE ${code}`,
      text: option.data.subarray(2).toString('utf8'),
    });
  }
  return out;
}

function toRecordData(a: Answer): DnsRecordData {
  // dns-packet hands back a tagged union; we keep only the fields certvigil reads.
  switch (a.type) {
    case 'CAA':
      return { type: 'CAA', flags: a.data.flags ?? 0, tag: a.data.tag, value: a.data.value };
    case 'CNAME':
    case 'DNAME':
      return { type: a.type, target: canonicalName(a.data) };
    case 'A':
    case 'AAAA':
      return { type: a.type, address: a.data };
    case 'NS':
      return { type: 'NS', host: canonicalName(a.data) };
    case 'SOA':
      return {
        type: 'SOA',
        mname: canonicalName(a.data.mname),
        rname: a.data.rname,
        serial: a.data.serial ?? 0,
        minimum: a.data.minimum ?? 0,
      };
    case 'DS':
      return {
        type: 'DS',
        keyTag: a.data.keyTag,
        algorithm: a.data.algorithm,
        digestType: a.data.digestType,
        digest: a.data.digest.toString('hex'),
      };
    case 'RRSIG':
      return {
        type: 'RRSIG',
        typeCovered: a.data.typeCovered,
        signersName: canonicalName(a.data.signersName),
        expiration: a.data.expiration,
        inception: a.data.inception,
      };
    case 'TLSA':
      // Copied out of the message buffer: a record outlives the packet it came in.
      return {
        type: 'TLSA',
        usage: a.data.usage,
        selector: a.data.selector,
        matchingType: a.data.matchingType,
        data: new Uint8Array(a.data.certificate),
      };
    default:
      return { type: 'OTHER', typeName: a.type };
  }
}

function toRecords(list: readonly Answer[] | undefined): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const a of list ?? []) {
    if (isOpt(a)) continue;
    const rawName = a.name;
    out.push({
      name: canonicalName(rawName),
      rawName,
      type: a.type,
      ttl: 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0,
      data: toRecordData(a),
    });
  }
  return out;
}

export interface DecodeContext {
  expectedId: number;
  expectedName: string;
  expectedType: string;
  server: DnsEndpoint;
  transport: 'udp' | 'tcp';
  elapsedMs: number;
}

/**
 * Decodes a response and checks it answers our query (RFC 5452 §9.1: ID, question name and type).
 * Throws `DNS_MALFORMED_RESPONSE` for bytes that are not a DNS message and
 * `DNS_MISMATCHED_RESPONSE` for a well-formed message that answers something else.
 */
export function decodeResponse(wire: Buffer, ctx: DecodeContext): DnsResponse {
  let packet: DecodedPacket;
  try {
    packet = dnsPacket.decode(wire);
  } catch (cause) {
    throw new CertvigilError(
      'DNS_MALFORMED_RESPONSE',
      `malformed DNS response from ${ctx.server.host}:${ctx.server.port} (${(cause as Error).message})`,
      { cause },
    );
  }
  if (!packet.flag_qr) {
    throw new CertvigilError('DNS_MISMATCHED_RESPONSE', 'received a DNS query where a response was expected');
  }
  if (packet.id !== ctx.expectedId) {
    throw new CertvigilError(
      'DNS_MISMATCHED_RESPONSE',
      `response ID ${packet.id} != query ID ${ctx.expectedId}`,
    );
  }
  const q = packet.questions?.[0];
  // A FORMERR/NOTIMP reply may legitimately omit the question section (RFC 1035 §4.1.1).
  if (q && (canonicalName(q.name) !== canonicalName(ctx.expectedName) || q.type !== ctx.expectedType)) {
    throw new CertvigilError(
      'DNS_MISMATCHED_RESPONSE',
      `response is for ${q.name}/${q.type}, not ${ctx.expectedName}/${ctx.expectedType}`,
    );
  }
  const opt = (packet.additionals ?? []).find(isOpt);
  const flags = packet.flags ?? 0;
  // RFC 6891 §6.1.3: the OPT record carries the upper 8 bits of a 12-bit RCODE.
  const rcode = ((opt?.extendedRcode ?? 0) << 4) | (flags & 0xf);
  const extendedErrors = opt ? parseEde(opt.options ?? []) : [];
  return {
    id: packet.id ?? 0,
    rcode: rcodeName(rcode),
    flags: {
      authoritative: packet.flag_aa,
      truncated: packet.flag_tc,
      recursionDesired: packet.flag_rd,
      recursionAvailable: packet.flag_ra,
      authenticData: packet.flag_ad,
      checkingDisabled: packet.flag_cd,
    },
    question: q ? { name: canonicalName(q.name), type: q.type } : null,
    answers: toRecords(packet.answers),
    authorities: toRecords(packet.authorities),
    additionals: toRecords(packet.additionals),
    extendedErrors,
    validation: packet.flag_ad
      ? 'authenticated'
      : rcode === 2 && indicatesDnssecBogus(extendedErrors)
        ? 'failed'
        : 'unauthenticated',
    ednsUdpSize: opt ? opt.udpPayloadSize : null,
    server: ctx.server,
    transport: ctx.transport,
    elapsedMs: ctx.elapsedMs,
  };
}
