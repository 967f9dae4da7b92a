/**
 * @module caa/types
 * The request a CA (or an owner asking "could they?") puts to the engine, the verdict it gets back,
 * and the DNS port the engine reads records through. The port is declared here, structurally, so
 * that `caa` depends on no transport: `dns.StubResolver` fits it as it is, and tests or CAs can
 * plug in their own resolver.
 */
import type { CaaRecord } from './property.js';

export interface CaaRequest {
  /** dNSName from the CSR/order; `*.` prefix marks a wildcard; Unicode is converted to A-labels. */
  name: string;
  /** The CA's own issuer domain names (RFC 8659 §4.2), e.g. ["letsencrypt.org"]. */
  issuerDomains: readonly string[];
  /** The ACME account URL making the request (RFC 8657 §3), or null/undefined when none. */
  accountUri?: string | null;
  /** The ACME validation method used (RFC 8657 §4), e.g. "dns-01", or null/undefined when unknown. */
  validationMethod?: string | null;
}

export type CaaDecision = 'allow' | 'deny' | 'error';

/** Stable reason codes; tests and callers branch on these, never on the explanation text. */
export type AllowReason = 'no-caa-records' | 'no-issue-property' | 'authorized';
export type DenyReason =
  | 'critical-unknown-property'
  | 'issuance-forbidden'
  | 'issuer-not-authorized'
  | 'account-uri-missing'
  | 'account-uri-mismatch'
  | 'validation-method-missing'
  | 'validation-method-not-allowed'
  | 'malformed-records';
export type ErrorReason =
  | 'invalid-name'
  | 'dns-servfail'
  | 'dns-refused'
  | 'dns-timeout'
  | 'dns-rcode'
  | 'dns-malformed-response'
  | 'dns-truncated'
  | 'dns-network'
  | 'dnssec-bogus'
  | 'cname-loop';
export type CaaReason = AllowReason | DenyReason | ErrorReason;

/** RFC 4035 §4.3 vocabulary, as the validating resolver reported it. */
export type DnssecStatus = 'secure' | 'insecure' | 'bogus' | 'unknown';

/** One record of the relevant RRset with what the engine made of it. */
export interface CaaRecordView extends CaaRecord {
  critical: boolean;
  /** Zone-file presentation, e.g. `0 issue "letsencrypt.org; accounturi=…"`. */
  text: string;
  /** For issue/issuewild: the parsed issuer (null = ";"), or the reason it is malformed. */
  issuer?: string | null;
  malformed?: string;
  accountUri?: string | null;
  validationMethods?: string[] | null;
}

/** What one DNS lookup in the climb returned (for explanations, audit logs and `--json`). */
export interface CaaLookupTrace {
  name: string;
  rcode: string | null;
  dnssec: DnssecStatus;
  /** Number of CAA records found at the end of any alias chain. */
  caaRecords: number;
  /** Where a CNAME/DNAME chain led, when there was one. */
  aliasTarget: string | null;
  extendedErrors: { code: number; name: string; text: string }[];
  error: string | null;
  server: string | null;
  transport: 'udp' | 'tcp' | null;
  elapsedMs: number | null;
}

export interface CaaResult {
  /** The name as requested. */
  name: string;
  /** The name whose tree was searched: A-labels, lower case, wildcard label removed. */
  lookupName: string;
  wildcard: boolean;
  decision: CaaDecision;
  reason: CaaReason;
  /** One or two sentences for a human. */
  explanation: string;
  /** The name at which the relevant RRset was found (RFC 8659 §3), or null. */
  foundAt: string | null;
  /** When `foundAt` is an alias: the name whose records were used. */
  aliasTarget: string | null;
  /** The whole relevant RRset. */
  records: CaaRecordView[];
  /** The record(s) that authorised issuance (decision allow, reason authorized). */
  authorizedBy: CaaRecordView[];
  dnssec: DnssecStatus;
  /** Smallest TTL behind the answer (seconds), or null when unknown. */
  ttl: number | null;
  /** CA/B BR §3.2.2.8: a CA may reuse a CAA answer for max(TTL, 8 hours). */
  reusableForSeconds: number | null;
  lookups: CaaLookupTrace[];
  /** The request's issuer domains, account URI and method, echoed for audit logs. */
  request: { issuerDomains: string[]; accountUri: string | null; validationMethod: string | null };
}

// ---- the DNS port -------------------------------------------------------------------------------

/** A record as the port delivers it; `dns.DnsRecord` fits. */
export interface PortRecord {
  /** Lower-case owner name without trailing dot. */
  name: string;
  type: string;
  ttl: number;
  data: { type: string; flags?: number; tag?: string; value?: string; target?: string; minimum?: number };
}

/** A response as the port delivers it; `dns.DnsResponse` fits. */
export interface PortResponse {
  rcode: string;
  flags: { authenticData: boolean };
  /** `dns.DnsResponse.validation`: `failed` means the resolver found the answer bogus. */
  validation: 'authenticated' | 'failed' | 'unauthenticated';
  answers: readonly PortRecord[];
  authorities: readonly PortRecord[];
  extendedErrors: readonly { code: number; name: string; text: string }[];
  server?: { host: string; port: number };
  transport?: 'udp' | 'tcp';
  elapsedMs?: number;
}

/**
 * Anything that can ask a recursive resolver for a name's CAA RRset. Contract: resolves with the
 * response for any RCODE; rejects only when no response could be had (an Error whose `code` is
 * e.g. `DNS_TIMEOUT`, `DNS_NETWORK`, `DNS_MALFORMED_RESPONSE`, `DNS_TRUNCATED`).
 */
export interface CaaResolverPort {
  query(name: string, type: 'CAA', options: { dnssecOk: boolean }): Promise<PortResponse>;
}
