/**
 * @module dns/errors
 * The codes of the DNS client. Every lookup failure is one of these, so a caller can tell "the
 * name has no CAA records" (an answer) from "we could not find out" (an error, which a CA must treat
 * as "do not issue", RFC 8659 §3).
 */
interface DnsErrorCodes {
  /** No server answered within the deadline (after every retry). */
  DNS_TIMEOUT: 'dns';
  /** The socket failed (refused, unreachable, reset). */
  DNS_NETWORK: 'dns';
  /** The bytes are not a DNS message (RFC 1035 §4.1). */
  DNS_MALFORMED_RESPONSE: 'dns';
  /** A well-formed message that answers something else: not ours, keep listening (RFC 5452 §9.1). */
  DNS_MISMATCHED_RESPONSE: 'dns';
  /** The answer was truncated over TCP too (RFC 7766 §5). */
  DNS_TRUNCATED: 'dns';
  /** No server is configured (resolv.conf empty, no --resolver). */
  DNS_NO_SERVERS: 'dns';
  /** The name cannot be a DNS query name (RFC 1035 §2.3.4 lengths, bad characters). */
  DNS_BAD_NAME: 'dns';
}

declare module '../errors.js' {
  interface ErrorCodes extends DnsErrorCodes {}
}

/** The codes the DNS client throws. */
export type DnsErrorCode = keyof DnsErrorCodes;
