/**
 * @module lab/ca/types
 * The lab CA's ports (the certificate engine and CT log it issues through, the DNS it reads, the
 * validator and the requester's challenge solver) and what an order returns. The ports are
 * structural: the lab's issuing engine and RFC 6962 log fit them as they are (so do the test
 * fixtures `TestCa` and `TestLog`), and so does `dns.StubResolver`.
 */
import type { KeyObject } from 'node:crypto';
import type { CaaResult, PortRecord, PortResponse } from '../../caa/index.js';

// ---- the certificate engine and the CT log ------------------------------------------------------

/** What the CA asks its engine for: one end-entity certificate or precertificate. */
export interface EngineIssueOptions {
  /** SAN dNSNames, first one also the subject CN. */
  dnsNames: string[];
  /** The requester's public key; absent = the engine makes a fresh key pair. */
  subjectKey?: KeyObject;
  notBefore?: Date;
  notAfter?: Date;
}

/** A certificate as the engine returns it (`TestCa.issue`'s `IssuedCertificate` fits). */
export interface EngineCertificate {
  der: Buffer;
  /** The issuer chain, leaf excluded, root last. */
  chain: Buffer[];
  /** Present when the engine generated the key pair. */
  privateKey?: KeyObject;
}

/** Signs certificates (`TestCa` fits). */
export interface CertificateEngine {
  /** DER of the issuing CA certificate. */
  readonly certificate: Buffer;
  issue(options: EngineIssueOptions): EngineCertificate;
}

/** What a log returns for an entry (`TestLog`'s `AddedEntry` fits). */
export interface LoggedEntry {
  index: number;
  timestamp: number;
}

/** An RFC 6962 log the CA submits to (`TestLog` fits). */
export interface CtLogPort {
  /** An x509_entry for a final certificate and its chain (RFC 6962 §3.1). */
  addCertificate(cert: { der: Buffer; chain: Buffer[] }, options?: { timestamp?: number }): LoggedEntry;
  /**
   * RFC 6962 §3.1–3.3 in one step: the engine issues a precertificate, the log sequences it and
   * signs its SCT, the engine issues the final certificate with that SCT list embedded; with
   * `alsoLogFinal` the final certificate is logged too.
   */
  addPrecertificate(
    engine: CertificateEngine,
    options: EngineIssueOptions & { alsoLogFinal?: boolean; timestamp?: number },
  ): LoggedEntry & { finalCert: EngineCertificate; finalIndex?: number };
}

// ---- DNS ----------------------------------------------------------------------------------------

/** A record as the resolver delivers it; A records carry `address` (`dns.DnsRecord` fits). */
export interface LabPortRecord extends PortRecord {
  data: PortRecord['data'] & { address?: string };
}

/** A response with A records readable (`dns.DnsResponse` fits). */
export interface LabPortResponse extends PortResponse {
  answers: readonly LabPortRecord[];
}

/**
 * The DNS the CA reads: CAA for RFC 8659 and A for http-01 (`dns.StubResolver` fits, and it fits
 * `caa.CaaResolverPort`). Contract as `CaaResolverPort`: resolves for any RCODE, rejects only when
 * no response could be had.
 */
export interface LabResolverPort {
  query(name: string, type: string, options: { dnssecOk: boolean }): Promise<LabPortResponse>;
}

// ---- validation ---------------------------------------------------------------------------------

/** RFC 8555 §8 challenge types (RFC 8737 for tls-alpn-01). */
export type ChallengeMethod = 'http-01' | 'dns-01' | 'tls-alpn-01';

/** One challenge of one authorization, as the CA hands it to the requester and to the validator. */
export interface Challenge {
  method: ChallengeMethod;
  /** The identifier being validated (A-labels, lower case). */
  name: string;
  /** RFC 8555 §8.3: base64url, 128 bits of entropy at least. */
  token: string;
  /** RFC 8555 §8.1: `token || '.' || base64url(JWK thumbprint of the account key)`. */
  keyAuthorization: string;
}

/** How a validation went, for the audit list and the lab's narrative. */
export interface ValidationOutcome {
  name: string;
  ok: boolean;
  /** Plain words, sanitised: what the CA saw. */
  detail: string;
  /** The address the CA connected to, when it got that far. */
  address?: string;
  port?: number;
}

/** How the CA validates (the default is real http-01, see http01.ts). */
export interface ChallengeValidator {
  /** Never rejects: a failure is an outcome with `ok: false`. */
  validate(challenge: Challenge): Promise<ValidationOutcome>;
}

/**
 * The requester's ACME client: puts the challenge response where the CA will look (a file under
 * /.well-known/acme-challenge/ for http-01). An `Http01Responder` is one.
 */
export interface ChallengeSolver {
  present(challenge: Challenge): void | Promise<void>;
  cleanup?(challenge: Challenge): void | Promise<void>;
}

// ---- accounts and orders ------------------------------------------------------------------------

export interface LabAccount {
  /** RFC 8555 §7.3 account URL, `https://<ca host>/acme/acct/<n>`: what RFC 8657 `accounturi` binds. */
  uri: string;
  label: string;
  /** The account's private key (ECDSA P-256), as the ACME client keeps it. */
  key: KeyObject;
  /** RFC 7638 JWK thumbprint of the account key, base64url. */
  thumbprint: string;
}

export interface OrderRequest {
  accountUri: string;
  names: string[];
  method: ChallengeMethod;
  /** The requester's key; absent = the CA generates one and returns it as `keyPem`. */
  subjectKey?: KeyObject;
  /** Whoever answers the challenges for this requester (none: nobody publishes anything). */
  solver?: ChallengeSolver;
  /** Moment of issuance (SCT timestamps); default now, or notBefore + 1 h when that is given. */
  issuedAt?: Date;
  /** Backdated history: replay a past renewal. Default issuedAt − 1 h. */
  notBefore?: Date;
  /** Default notBefore + 90 days. */
  notAfter?: Date;
}

export interface LabCertificate {
  der: Buffer;
  pem: string;
  /** The issuer chain in PEM, leaf excluded. */
  chainPem: string;
  /** Leaf then chain. */
  fullchainPem: string;
  /** PKCS#8 PEM, only when the CA generated the key. */
  keyPem?: string;
  spkiSha256Hex: string;
  /** Hex SHA-256 of the DER. */
  sha256Hex: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  names: string[];
  /** RFC 6962 log indexes, when a log was given: the precertificate and the final certificate. */
  ct?: { precertIndex: number; finalIndex: number | null; sctTimestamp: number };
}

export type OrderResult =
  | {
      status: 'issued';
      certificate: LabCertificate;
      caa: CaaResult[];
      validation: ValidationOutcome[];
    }
  | {
      status: 'refused';
      stage: 'validation' | 'caa';
      /** Plain words, sanitised. */
      reason: string;
      caa: CaaResult[];
      validation: ValidationOutcome[];
      validationSucceeded: boolean;
      /**
       * RFC 8659 §4.4: the `iodef` URLs of the relevant RRsets (mailto:/https:, as published, not
       * checked), where the domain owner asks to hear of refused requests. Empty when none.
       */
      iodef: string[];
    };

/** One line of the CA's audit list (`ca.orders`). */
export interface OrderAudit {
  at: Date;
  accountUri: string;
  accountLabel: string;
  names: string[];
  method: ChallengeMethod;
  status: 'issued' | 'refused';
  stage?: 'validation' | 'caa';
  reason?: string;
  validationSucceeded: boolean;
  /** Per name: CAA decision and reason code (`allow/authorized`, `deny/account-uri-mismatch`, …). */
  caa: { name: string; decision: string; reason: string }[];
  serialHex?: string;
  notBefore?: Date;
}
