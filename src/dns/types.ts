/**
 * @module dns/types
 * Typed view of a DNS response: everything a CA-grade CAA check needs and `node:dns` hides —
 * rcode, header flags (AA, TC, RD, RA, AD, CD), RFC 8914 Extended DNS Errors, every record with its
 * TTL, and which server answered over which transport.
 */

/** RFC 1035 §4.1.1 / RFC 6895 response codes we name; others keep their number. */
export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED' | `RCODE${number}`;

export interface DnsEndpoint {
  /** IPv4 or IPv6 literal (no brackets). */
  host: string;
  port: number;
}

/** RFC 8914 §2: INFO-CODE plus optional UTF-8 EXTRA-TEXT. */
export interface ExtendedDnsError {
  code: number;
  /** IANA name of the code, when known (e.g. "Signature Expired"). */
  name: string;
  text: string;
}

/** The record types this project reads with structure; anything else is kept as raw data. */
export type DnsRecordData =
  | { type: 'CAA'; flags: number; tag: string; value: string }
  | { type: 'CNAME'; target: string }
  | { type: 'DNAME'; target: string }
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'NS'; host: string }
  | { type: 'SOA'; mname: string; rname: string; serial: number; minimum: number }
  | { type: 'DS'; keyTag: number; algorithm: number; digestType: number; digest: string }
  | { type: 'RRSIG'; typeCovered: string; signersName: string; expiration: number; inception: number }
  /** RFC 6698 §2.1: certificate usage, selector, matching type, certificate association data. */
  | { type: 'TLSA'; usage: number; selector: number; matchingType: number; data: Uint8Array }
  | { type: 'OTHER'; typeName: string };

export interface DnsRecord {
  /** Owner name, lower-cased, no trailing dot ('' is the root). */
  name: string;
  /** Owner name exactly as the server sent it (case preserved, for RFC 8659 §6 checks). */
  rawName: string;
  type: string;
  ttl: number;
  data: DnsRecordData;
}

export interface DnsFlags {
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  /** RFC 4035 §3.2.3: the resolver validated every record in the answer and authority sections. */
  authenticData: boolean;
  checkingDisabled: boolean;
}

export interface DnsResponse {
  id: number;
  rcode: Rcode;
  flags: DnsFlags;
  question: { name: string; type: string } | null;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
  extendedErrors: ExtendedDnsError[];
  /**
   * What the resolver's DNSSEC validation said: `authenticated` (AD set), `failed` (SERVFAIL with an
   * RFC 8914 DNSSEC error: the answer is bogus), or `unauthenticated` (anything else: insecure,
   * or a resolver that does not validate).
   */
  validation: 'authenticated' | 'failed' | 'unauthenticated';
  /** Largest UDP payload the server advertised (EDNS0), or null when it sent no OPT record. */
  ednsUdpSize: number | null;
  server: DnsEndpoint;
  transport: 'udp' | 'tcp';
  /** Milliseconds from first send to the accepted answer. */
  elapsedMs: number;
}

export interface QueryOptions {
  /** Set the EDNS0 DO bit (RFC 3225) so a validating resolver returns signatures and sets AD. */
  dnssecOk?: boolean;
  /** Set CD (RFC 4035 §3.2.2): ask the resolver not to validate. */
  checkingDisabled?: boolean;
  /** Recursion desired; false when asking an authoritative server directly. */
  recursionDesired?: boolean;
  /** Abort signal that cancels the whole query. */
  signal?: AbortSignal;
}
