/**
 * @module caa/audit/types
 * What `caa audit` collects about a domain (the I/O half, see collect.ts) and what it reports
 * (the pure half, see findings.ts). Collected data is plain JSON so findings can be table-tested.
 */
import type { CaaRecord } from '../property.js';

/**
 * `error`: the audit could not find out (a lookup failed, the domain does not exist). It ranks above
 * `critical` because "could not check" must never read as a grade: the report's grade is `error`.
 */
export type Severity = 'info' | 'warning' | 'critical' | 'error';
export type Grade = 'A' | 'B' | 'C' | 'D' | 'F' | 'error';

export type FindingId =
  | 'lookup-failed'
  | 'domain-not-found'
  | 'no-caa'
  | 'no-accounturi'
  | 'no-validationmethods'
  | 'http-01-allowed'
  | 'wildcard-open'
  | 'no-iodef'
  | 'iodef-bad-scheme'
  | 'iodef-malformed'
  | 'malformed-record'
  | 'critical-unknown-tag'
  | 'ns-disagree'
  | 'ns-timeout'
  | 'ns-refused'
  | 'ns-error'
  | 'ns-no-address'
  | 'ns-case-mishandled'
  | 'dnssec-unsigned'
  | 'dnssec-bogus'
  | 'cname-external'
  | 'subdomain-weaker'
  | 'unused-ca'
  | 'unknown-issuer';

export interface Finding {
  id: FindingId;
  severity: Severity;
  /** The DNS name (or server) the finding concerns. */
  name: string;
  /** Why it matters. */
  message: string;
  /** What to change; zone-file lines where applicable. */
  fix: string;
}

/** One name of the search path as the recursive resolver saw it. */
export interface PathEntry {
  name: string;
  /** Whether the name lies inside the audited zone (apex included). */
  inZone: boolean;
  rcode: string | null;
  /** Error code when the resolver gave no answer (e.g. DNS_TIMEOUT). */
  error: string | null;
  /** CAA records at the end of any alias chain. */
  records: CaaRecord[];
  /** First CNAME target when the name is an alias, else null. */
  cnameTarget: string | null;
  /** What the resolver's DNSSEC validation said (null when there was no answer). */
  validation: 'authenticated' | 'failed' | 'unauthenticated' | null;
}

/** A query to the recursive resolver that got no usable answer (no answer, or SERVFAIL/REFUSED/…). */
export interface LookupFailure {
  name: string;
  type: string;
  /** The resolver(s) asked, e.g. "127.0.0.1:53". */
  server: string;
  /** What went wrong: the error or the RCODE. */
  error: string;
}

/** One CAA answer straight from an authoritative server (recursion off). */
export interface ServerAnswer {
  rcode: string | null;
  timeout: boolean;
  /** Other failure (network, malformed response), else null. */
  error: string | null;
  authoritative: boolean;
  records: CaaRecord[];
}

export interface ServerObservation {
  /** Name server host name (from the NS RRset). */
  nsName: string;
  address: string;
  /** The name queried (lower case). */
  name: string;
  lower: ServerAnswer;
  /** The same question with a mixed-case (0x20-style) QNAME. */
  mixedQname: string;
  mixed: ServerAnswer;
}

export type DnssecState = 'secure' | 'insecure' | 'bogus' | 'unknown';

export interface AuditData {
  domain: string;
  /** False when the resolver says DOMAIN does not exist (NXDOMAIN, no alias): nothing else was asked. */
  exists: boolean;
  /**
   * Resolver queries outside the search path that failed (zone cut, NS, name server addresses, DS).
   * Search-path failures are kept in `path`. A failure while finding the zone cut ends the
   * collection: `zone` is then null and nothing else was asked.
   */
  failures: LookupFailure[];
  /** Apex of the zone holding DOMAIN, or null when the zone cut could not be found. */
  zone: string | null;
  nameservers: { name: string; addresses: string[] }[];
  /** The RFC 8659 §3 search path, DOMAIN first. */
  path: PathEntry[];
  observations: ServerObservation[];
  dnssec: DnssecState;
  /** Whether the parent publishes a DS for the zone (null: unknown). */
  hasDs: boolean | null;
}

export interface AuditOptions {
  /** The ACME challenge type the owner's client uses (e.g. "dns-01"), when known. */
  acmeMethod?: string | null;
  /** The owner uses wildcard certificates (then a missing `issuewild ";"` is fine). */
  usesWildcards?: boolean;
  /** CAA identifiers of the CAs seen issuing for the domain in CT; null/undefined: unknown (skip unused-ca). */
  seenIssuers?: readonly string[] | null;
  /** Known CAA issuer domain names (data/ca-caa-identifiers.json); null/undefined: skip unknown-issuer. */
  knownIssuers?: ReadonlySet<string> | null;
}

export interface AuditReport {
  domain: string;
  grade: Grade;
  findings: Finding[];
}

// ---- the DNS port -------------------------------------------------------------------------------
// `caa` imports no transport (ARCHITECTURE.md: caa and dns sit on one layer); the audit reads DNS
// through these structural types, which `dns.StubResolver` and `dns.DnsResponse` fit as they are.

/** What the audit reads of a record's data; the last member stands for the types it does not read. */
export type AuditRecordData =
  | { type: 'CAA'; flags: number; tag: string; value: string }
  | { type: 'CNAME'; target: string }
  | { type: 'A' | 'AAAA'; address: string }
  | { type: 'NS'; host: string }
  | { type: 'DNAME' | 'SOA' | 'DS' | 'RRSIG' | 'TLSA' | 'OTHER' };

export interface AuditRecord {
  /** Owner name, lower-cased, no trailing dot. */
  name: string;
  type: string;
  data: AuditRecordData;
}

/** A response as the audit reads it; `dns.DnsResponse` fits. */
export interface AuditResponse {
  rcode: string;
  flags: { authoritative: boolean };
  answers: readonly AuditRecord[];
  extendedErrors: readonly { code: number; name: string; text: string }[];
  /** The server that answered (named in a lookup-failed finding). */
  server: { host: string; port: number };
  /** `dns.DnsResponse.validation`: `failed` means the resolver found the answer bogus. */
  validation: 'authenticated' | 'failed' | 'unauthenticated';
}

export interface AuditQueryOptions {
  dnssecOk?: boolean;
  checkingDisabled?: boolean;
  recursionDesired?: boolean;
}

/**
 * A recursive resolver, or a client for one authoritative server; `dns.StubResolver` fits. Resolves
 * with the response for any RCODE; rejects when no response could be had (an Error whose `code` is
 * e.g. `DNS_TIMEOUT`).
 */
export interface AuditDnsClient {
  query(name: string, type: string, options?: AuditQueryOptions): Promise<AuditResponse>;
}
