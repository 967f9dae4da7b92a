/**
 * @module probe/chain
 * The pure decisions about the whole certificate chain of one address: expiry, key and signature
 * algorithm of every certificate the server SENT, their order, and intermediates the server should
 * send but does not. No network; `endpoint.ts` gathers the two views of the chain first:
 *
 * - `served`: the Certificate message exactly as sent (RFC 5246 §7.4.2), leaf first, in wire
 *   order, read by the raw TLS 1.2 hello (`tls-hello.ts`). Null when that hello could not read it
 *   (a TLS 1.3-only server: the message is encrypted there) or saw another leaf.
 * - `validated`: Node's `getPeerCertificate(true)` chain. Node REBUILDS it: starting at the leaf it
 *   picks each issuer among the served certificates (so the wire order is lost and unrelated extras
 *   vanish) and then appends issuers from the trust store we passed (`X509_STORE_CTX_get1_issuer`)
 *   up to a self-signed one. So a root there may never have been sent.
 *
 * A certificate is "served" when it is in `served` (or, without it, in `validated` before a
 * trailing self-signed certificate), "store" when Node added it from the trust store.
 */
import { X509Certificate } from 'node:crypto';
import { certificateParts, summarizeCertificate } from '../x509/index.js';
import type { CertSummary } from '../x509/index.js';
import { sanitizeText } from '../sanitize.js';
import { daysLeft } from './checks.js';
import type { Finding, FindingSeverity } from './types.js';

export interface ChainInput {
  address: string;
  /** Exactly the served certificates, leaf first, wire order; null when unknown. */
  served: readonly Uint8Array[] | null;
  /** Node's rebuilt chain, leaf first (may end with a trust-store certificate). */
  validated: readonly Uint8Array[];
  /** Node's path validation verdict (for telling an incomplete chain from an untrusted one). */
  authorized: boolean;
  warnDays: number;
  critDays: number;
  minRsaBits: number;
  now: Date;
}

export type ChainSource = 'served' | 'store';

/** One certificate of the chain as reported in INFO lines and checked here. */
export interface ChainElement {
  index: number;
  source: ChainSource;
  der: Uint8Array;
  /** Null when the certificate cannot be parsed (then only a finding is drawn). */
  summary: CertSummary | null;
  /** `sha256WithRSAEncryption`, `ecdsa-with-SHA256`, … or the dotted OID. */
  signatureAlgorithm: string;
  selfSigned: boolean;
}

/**
 * RFC 5280 §4.1.1.2 signatureAlgorithm OIDs (content octets, hex) and their names; `weak` marks the
 * digests with practical collisions: MD2/MD5 (RFC 6151) and SHA-1 (SHAttered, 2017; CA/B Forum
 * Baseline Requirements §7.1.3.2 forbid SHA-1 for subscriber and subordinate certificates).
 */
const SIGNATURE_ALGORITHMS: Record<string, { name: string; weak: boolean }> = {
  '2a864886f70d010102': { name: 'md2WithRSAEncryption', weak: true },
  '2a864886f70d010104': { name: 'md5WithRSAEncryption', weak: true },
  '2a864886f70d010105': { name: 'sha1WithRSAEncryption', weak: true },
  '2b0e03021d': { name: 'sha1WithRSASignature', weak: true },
  '2a8648ce380403': { name: 'dsa-with-SHA1', weak: true },
  '2a8648ce3d0401': { name: 'ecdsa-with-SHA1', weak: true },
  '2a864886f70d01010e': { name: 'sha224WithRSAEncryption', weak: false },
  '2a864886f70d01010b': { name: 'sha256WithRSAEncryption', weak: false },
  '2a864886f70d01010c': { name: 'sha384WithRSAEncryption', weak: false },
  '2a864886f70d01010d': { name: 'sha512WithRSAEncryption', weak: false },
  '2a864886f70d01010a': { name: 'rsassa-pss', weak: false },
  '2a8648ce3d040301': { name: 'ecdsa-with-SHA224', weak: false },
  '2a8648ce3d040302': { name: 'ecdsa-with-SHA256', weak: false },
  '2a8648ce3d040303': { name: 'ecdsa-with-SHA384', weak: false },
  '2a8648ce3d040304': { name: 'ecdsa-with-SHA512', weak: false },
  '2b6570': { name: 'ed25519', weak: false },
  '2b6571': { name: 'ed448', weak: false },
  '608648016503040302': { name: 'dsa-with-SHA256', weak: false },
};

/** Dotted form of OID content octets (X.690 §8.19), for algorithms not in the table. */
function dotted(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0)
        parts.push(Math.min(2, Math.floor(value / 40)), value - Math.min(2, Math.floor(value / 40)) * 40);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

/** The signature algorithm of a certificate: name, and whether its digest is broken. */
export function signatureAlgorithmOf(der: Uint8Array): { name: string; weak: boolean } {
  // AlgorithmIdentifier ::= SEQUENCE { algorithm OBJECT IDENTIFIER, parameters ANY OPTIONAL }
  // (RFC 5280 §4.1.1.2); the element is whole and checked by certificateParts.
  const alg = certificateParts(der).signatureAlgorithm;
  let p = 1;
  const first = alg[p] ?? 0;
  p += first & 0x80 ? 1 + (first & 0x7f) : 1;
  if (alg[p] !== 0x06) return { name: 'unknown', weak: false };
  const len = alg[p + 1] ?? 0;
  if (len & 0x80) return { name: 'unknown', weak: false }; // no real OID is 128+ octets long
  const content = alg.subarray(p + 2, p + 2 + len);
  const known = SIGNATURE_ALGORITHMS[Buffer.from(content).toString('hex')];
  return known ?? { name: dotted(content), weak: false };
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

/** `issuer` issued `subject`: names chain (RFC 5280 §6.1.3 (a)(4)) and the signature verifies. */
export function issuedBy(subject: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** The chain's elements with their source: served ones first (wire order), then store additions. */
export function chainElements(input: Pick<ChainInput, 'served' | 'validated'>): ChainElement[] {
  const served = input.served ?? servedGuess(input.validated);
  const store = input.validated.filter((v) => !served.some((s) => same(s, v)));
  const all: [Uint8Array, ChainSource][] = [
    ...served.map((d): [Uint8Array, ChainSource] => [d, 'served']),
    ...store.map((d): [Uint8Array, ChainSource] => [d, 'store']),
  ];
  return all.map(([der, source], index) => {
    let summary: CertSummary | null = null;
    let signatureAlgorithm = 'unknown';
    let selfSigned = false;
    try {
      summary = summarizeCertificate(der);
      signatureAlgorithm = signatureAlgorithmOf(der).name;
      const x = new X509Certificate(der);
      selfSigned = issuedBy(x, x);
    } catch {
      // reported as chain-malformed by checkChain
    }
    return { index, source, der, summary, signatureAlgorithm, selfSigned };
  });
}

/**
 * Without the served list, Node's chain is all we have: everything but a trailing self-signed
 * certificate counts as served (that one may come from the store; most servers do not send it).
 */
function servedGuess(validated: readonly Uint8Array[]): Uint8Array[] {
  if (validated.length < 2) return [...validated];
  const last = validated[validated.length - 1] as Uint8Array;
  try {
    const x = new X509Certificate(last);
    if (issuedBy(x, x)) return validated.slice(0, -1);
  } catch {
    // keep it
  }
  return [...validated];
}

const clean = (text: string): string => sanitizeText(text, { maxLength: 200 });

/** How a certificate is named in messages: position, subject DN, and whether it was sent. */
function label(e: ChainElement): string {
  const role =
    e.index === 0
      ? 'leaf'
      : e.source === 'store'
        ? 'trust-store certificate'
        : e.selfSigned
          ? 'root'
          : 'intermediate';
  return `${role} #${e.index} "${clean(e.summary?.subject ?? '?')}"`;
}

/** RSA below the minimum, EC on a curve browsers refuse (the same rule as the leaf's weak-key). */
function weakKey(keyType: string, minRsaBits: number): { severity: FindingSeverity; why: string } | null {
  const rsa = /^rsa(?:-pss)?-(\d+)$/.exec(keyType);
  if (rsa)
    return Number(rsa[1]) < minRsaBits ? { severity: 'critical', why: `below ${minRsaBits} bits` } : null;
  if (/^ecdsa-(p256|p384|p521)$/.test(keyType) || keyType === 'ed25519' || keyType === 'ed448') return null;
  if (keyType.startsWith('ecdsa-')) return { severity: 'warning', why: 'not a curve browsers accept' };
  return { severity: 'warning', why: 'an unrecognised key type' };
}

/** Every finding about the chain of one address (the leaf's own expiry and key: `checks.ts`). */
export function checkChain(input: ChainInput): Finding[] {
  const a = input.address;
  const out: Finding[] = [];
  const f = (id: string, severity: FindingSeverity, message: string): void => {
    out.push({ id, severity, message, address: a });
  };
  const elements = chainElements(input);
  if (input.served === null && elements.length > 0)
    f(
      'chain-served-unknown',
      'info',
      'the certificates as served could not be read (no TLS 1.2 Certificate message): order not checked, a trailing root is assumed to come from the trust store',
    );
  const parsed = elements.map((e) => {
    try {
      return new X509Certificate(e.der);
    } catch {
      return null;
    }
  });

  for (const e of elements) {
    const s = e.summary;
    if (!s) {
      f('chain-malformed', 'critical', `certificate #${e.index} of the chain cannot be parsed`);
      continue;
    }
    f(
      'chain-element',
      'info',
      `#${e.index} ${e.source === 'served' ? 'sent' : 'from the trust store, not sent'}: subject "${clean(s.subject)}", issuer "${clean(s.issuer)}", notAfter ${s.notAfter}, key ${s.keyType}, signature ${e.signatureAlgorithm}`,
    );
    // Certificates Node added from the trust store are the operator's, not the server's.
    if (e.source === 'store') continue;

    // Expiry and key of the leaf are checks.ts' (`expires-soon`, `weak-key`).
    if (e.index > 0) {
      // The same day count as the leaf's: whole days, rounded down (checks.ts daysLeft).
      const days = Math.floor(daysLeft(s, input.now));
      // A served self-signed root is not part of the path clients build (RFC 5280 §6.1: the trust
      // anchor is the client's own copy), so its expiry is at most a WARNING: remove it.
      const cap = (sev: FindingSeverity): FindingSeverity =>
        e.selfSigned && sev === 'critical' ? 'warning' : sev;
      const rootNote = e.selfSigned ? ' (a root: clients use their own copy; it need not be sent)' : '';
      if (days < 0)
        f(
          'chain-expiry',
          cap('critical'),
          `${label(e)} expired on ${s.notAfter} (${-days} days ago)${rootNote}`,
        );
      else if (days < input.critDays)
        f('chain-expiry', cap('critical'), `${label(e)} expires in ${days} days (${s.notAfter})${rootNote}`);
      else if (days < input.warnDays)
        f('chain-expiry', 'warning', `${label(e)} expires in ${days} days (${s.notAfter})${rootNote}`);
      if (Date.parse(s.notBefore) > input.now.getTime())
        f('chain-not-yet-valid', 'critical', `${label(e)} is not valid before ${s.notBefore}`);
      const weak = weakKey(s.keyType, input.minRsaBits);
      if (weak) f('chain-weak-key', weak.severity, `${label(e)} has a ${s.keyType} key: ${weak.why}`);
    }
    // The signature on a trust anchor is never checked (RFC 5280 §6.1.1 (d): the anchor is taken as
    // given), so a SHA-1 self-signed root is harmless; on anything else a collision forges it.
    if (!e.selfSigned && signatureAlgorithmOf(e.der).weak)
      f(
        'chain-weak-signature',
        'critical',
        `${label(e)} is signed with ${e.signatureAlgorithm} (a broken digest)`,
      );
  }

  const served = elements.filter((e) => e.source === 'served');
  // RFC 5246 §7.4.2: "Each following certificate MUST directly certify the one preceding it."
  // (RFC 8446 §4.4.2 relaxes this to a SHOULD for TLS 1.3, but older clients still give up.)
  if (input.served !== null) {
    const broken: number[] = [];
    for (let i = 0; i + 1 < served.length; i++) {
      const sub = parsed[i];
      const iss = parsed[i + 1];
      if (sub && iss && !issuedBy(sub, iss)) broken.push(i);
    }
    const i = broken[0];
    if (i !== undefined) {
      const sub = parsed[i] as X509Certificate;
      const cur = served[i] as ChainElement;
      const next = served[i + 1] as ChainElement;
      const issuerServed = served.some(
        (e, j) => j > i + 1 && parsed[j] && issuedBy(sub, parsed[j] as X509Certificate),
      );
      const more = broken.length > 1 ? ` (${broken.length} links broken)` : '';
      f(
        'chain-order',
        'warning',
        `${label(next)} does not certify ${label(cur)} before it${issuerServed ? ': its issuer is sent later (wrong order)' : ': an unrelated or superfluous certificate'}${more}; RFC 5246 §7.4.2 wants each certificate to certify the one before`,
      );
    }
  }

  // The path must continue from a served certificate to the trust store: find the served top
  // (what the leaf's path climbs to through served certificates) and ask whether its issuer exists.
  const top = climb(served, parsed);
  if (top && !top.selfSigned && top.summary) {
    const storeIndex = elements.findIndex(
      (e) =>
        e.source === 'store' &&
        parsed[e.index] &&
        parsed[top.index] &&
        issuedBy(parsed[top.index] as X509Certificate, parsed[e.index] as X509Certificate),
    );
    const storeIssuer = storeIndex >= 0 ? (elements[storeIndex] as ChainElement) : null;
    if (!storeIssuer) {
      if (!input.authorized)
        f(
          'chain-incomplete',
          'critical',
          `the issuer "${clean(top.summary.issuer)}" of ${label(top)} is neither sent by the server nor in the trust store: ${top.index === 0 ? 'the server sends only the leaf; ' : ''}send the missing intermediate certificate(s)`,
        );
    } else if (!storeIssuer.selfSigned)
      // Validates here only because our store holds an intermediate; clients without it fail.
      f(
        'chain-incomplete',
        'warning',
        `the intermediate "${clean(storeIssuer.summary?.subject ?? '?')}" is not sent by the server; the chain validates only because the trust store holds it`,
      );
  }
  return out;
}

/** From the leaf, follow issuers among the served certificates (any order); the last one reached. */
function climb(
  served: readonly ChainElement[],
  parsed: readonly (X509Certificate | null)[],
): ChainElement | null {
  const first = served[0];
  if (!first) return null;
  let cur = first;
  const seen = new Set<number>([cur.index]);
  for (;;) {
    const x = parsed[cur.index];
    if (!x || cur.selfSigned) return cur;
    const next = served.find(
      (e) => !seen.has(e.index) && parsed[e.index] && issuedBy(x, parsed[e.index] as X509Certificate),
    );
    if (!next) return cur;
    seen.add(next.index);
    cur = next;
  }
}
