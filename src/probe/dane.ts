/**
 * @module probe/dane
 * DANE (RFC 6698, updated by RFC 7671; RFC 7672 for SMTP): does the chain a server presented match
 * the TLSA records of its name, and what does the DNS answer say about them. Pure: the records,
 * the DNSSEC verdict and the chain come in, findings come out; the lookup is `dane-lookup.ts`.
 *
 * Decisions a monitoring check has to make on top of the RFCs (docs/monitoring-plugin.md, "DANE"):
 * `--dane` means "this endpoint is DANE-authenticated", so a signed zone without (usable) TLSA
 * records is CRITICAL; an unsigned zone is a WARNING (the records, if any, are unusable — RFC 6698
 * §4.1 — but a non-validating resolver looks the same from here); a SERVFAIL is CRITICAL (a DANE
 * client refuses to connect: RFC 7672 §2.2); a resolver that cannot be reached is UNKNOWN.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ipVersion } from './ip-literal.js';
import { sha256Hex } from '../hash.js';
import { sanitizeText } from '../sanitize.js';
import { subjectPublicKeyInfo, summarizeCertificate } from '../x509/index.js';
import type { Finding } from './types.js';

/** One TLSA record (RFC 6698 §2.1), as the DNS layer decoded it. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Uint8Array;
}

/** RFC 7218 §2 acronyms of the registered values. */
export const USAGE_NAMES: Readonly<Record<number, string>> = {
  0: 'PKIX-TA',
  1: 'PKIX-EE',
  2: 'DANE-TA',
  3: 'DANE-EE',
};
const SELECTOR_NAMES: Readonly<Record<number, string>> = { 0: 'Cert', 1: 'SPKI' };
const MATCHING_NAMES: Readonly<Record<number, string>> = { 0: 'Full', 1: 'SHA2-256', 2: 'SHA2-512' };
/** Digest lengths of the matching types (RFC 6698 §2.1.3); Full(0) has any non-zero length. */
const DIGEST_LENGTH: Readonly<Record<number, number>> = { 1: 32, 2: 64 };

/** "3 1 1 a1b2c3d4e5f6…" — hex of our own making, so never raw DNS text; long data is shortened. */
export function describeTlsa(r: TlsaRecord): string {
  const hex = Buffer.from(r.data).toString('hex');
  return `${r.usage} ${r.selector} ${r.matchingType} ${hex.length > 16 ? `${hex.slice(0, 16)}…` : hex || '-'}`;
}

export interface DaneContext {
  /**
   * RFC 7672 §3.1.3: an SMTP client treats PKIX-TA(0) and PKIX-EE(1) as unusable (MX hosts have
   * no agreed set of public roots).
   */
  smtp: boolean;
}

/** Why a record is unusable (RFC 7671 §4.1: unusable records are ignored), or null when usable. */
export function tlsaUnusableReason(r: TlsaRecord, ctx: DaneContext): string | null {
  if (USAGE_NAMES[r.usage] === undefined) return `unknown certificate usage ${r.usage}`;
  if (ctx.smtp && r.usage <= 1)
    return `usage ${USAGE_NAMES[r.usage] ?? r.usage} is unusable for SMTP (RFC 7672 §3.1.3)`;
  if (SELECTOR_NAMES[r.selector] === undefined) return `unknown selector ${r.selector}`;
  if (MATCHING_NAMES[r.matchingType] === undefined) return `unknown matching type ${r.matchingType}`;
  const want = DIGEST_LENGTH[r.matchingType];
  // A digest of the wrong length can never match: a malformed record, not a mismatch.
  if (want !== undefined && r.data.length !== want)
    return `${MATCHING_NAMES[r.matchingType] ?? ''} data is ${r.data.length} bytes, not ${want}`;
  if (r.data.length === 0) return 'empty certificate association data';
  // Full(0) data is the DER itself: data that is not a certificate (selector 0) or a public key
  // (selector 1) can never match anything, so it is a malformed record (OpenSSL's DANE refuses to
  // load it too), not a mismatch worth a "publish this hash" hint.
  if (r.matchingType === 0 && !parsesAs(r.data, r.selector))
    return `Full data is not a DER ${r.selector === 0 ? 'certificate' : 'SubjectPublicKeyInfo'}`;
  return null;
}

function parsesAs(der: Uint8Array, selector: number): boolean {
  try {
    if (selector === 0) new X509Certificate(der);
    else createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

/**
 * RFC 7671 §9 (digest algorithm agility): for each usage and selector, a client that supports
 * several digests uses only the records of its most preferred one (SHA2-512 over SHA2-256), so an
 * operator cannot hide a stale SHA2-512 record behind a current SHA2-256 one; Full(0) always counts.
 */
export function preferredRecords(usable: readonly TlsaRecord[]): TlsaRecord[] {
  const strongest = new Map<string, number>();
  for (const r of usable) {
    if (r.matchingType === 0) continue;
    const key = `${r.usage}/${r.selector}`;
    strongest.set(key, Math.max(strongest.get(key) ?? 0, r.matchingType));
  }
  return usable.filter(
    (r) => r.matchingType === 0 || strongest.get(`${r.usage}/${r.selector}`) === r.matchingType,
  );
}

/** The chain as presented (leaf first) and what the rest of the check learnt about it. */
export interface PresentedChain {
  chain: readonly Uint8Array[];
  /** PKIX path validation against the configured trust anchors (name not included). */
  pkixValid: boolean;
  /** The reference identifier (RFC 6125): the TLSA base domain. */
  name: string;
}

export interface DaneMatch {
  record: TlsaRecord;
  /**
   * Index in the chain of the certificate that matched (0 = leaf), or -1 when a DANE-TA Full(0)
   * record is itself the trust anchor and signed `chain[signs]` (RFC 7671 §5.2.2).
   */
  index: number;
  signs?: number;
}

export type DaneVerdict =
  | { outcome: 'match'; match: DaneMatch; ignored: { record: TlsaRecord; reason: string }[] }
  | {
      outcome: 'mismatch';
      usable: TlsaRecord[];
      /** Records whose data matched a certificate but whose other conditions failed, and why. */
      notes: string[];
      ignored: { record: TlsaRecord; reason: string }[];
    }
  | { outcome: 'no-usable-records'; ignored: { record: TlsaRecord; reason: string }[] };

function selected(der: Uint8Array, selector: number): Uint8Array | null {
  // RFC 6698 §2.1.2: 0 = the whole certificate (DER), 1 = its SubjectPublicKeyInfo (DER).
  if (selector === 0) return der;
  try {
    return subjectPublicKeyInfo(der);
  } catch {
    return null;
  }
}

function associationMatches(r: TlsaRecord, bytes: Uint8Array): boolean {
  // RFC 6698 §2.1.3: 0 = exact match, 1 = SHA-256, 2 = SHA-512 of the selected content.
  const candidate =
    r.matchingType === 0
      ? bytes
      : createHash(r.matchingType === 1 ? 'sha256' : 'sha512')
          .update(bytes)
          .digest();
  return Buffer.from(candidate).equals(Buffer.from(r.data));
}

function parse(der: Uint8Array | undefined): X509Certificate | null {
  if (!der) return null;
  try {
    return new X509Certificate(der);
  } catch {
    return null;
  }
}

/** Each certificate from the leaf up to `index` is issued and signed by the next one. */
function signedUpTo(chain: readonly Uint8Array[], index: number): boolean {
  for (let i = 0; i < index; i++) {
    const child = parse(chain[i]);
    const parent = parse(chain[i + 1]);
    if (!child || !parent) return false;
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey)) return false;
  }
  return true;
}

function nameMatches(leaf: Uint8Array | undefined, name: string): boolean {
  const x = parse(leaf);
  if (!x) return false;
  // Same rule as the name-match finding (checks.ts): SAN only, RFC 6125 §6.4.
  return ipVersion(name) !== 0
    ? x.checkIP(name) !== undefined
    : x.checkHost(name, { subject: 'never' }) !== undefined;
}

/**
 * Matches TLSA records against a presented chain (RFC 6698 §2.1.1 as updated by RFC 7671 §5):
 * - DANE-EE(3): the leaf matches; names and validity dates are not checked (RFC 7671 §5.1).
 * - DANE-TA(2): a certificate of the served chain above the leaf matches (RFC 7671 §5.2.2: with
 *   a digest, the TA must be in the chain the server sends), the leaf chains up to it by signature,
 *   and the leaf carries the name. With Full(0) the record holds the trust anchor itself, which
 *   then need not be served: it must have issued and signed a certificate of the chain (as OpenSSL's
 *   DANE verifier does; test/dane-openssl.test.ts compares the two).
 * - PKIX-EE(1) / PKIX-TA(0): as DANE-EE / DANE-TA, and the chain must also pass PKIX validation
 *   against the configured trust anchors, name included (RFC 6698 §2.1.1).
 */
export function matchTlsa(
  records: readonly TlsaRecord[],
  presented: PresentedChain,
  ctx: DaneContext,
): DaneVerdict {
  const ignored: { record: TlsaRecord; reason: string }[] = [];
  const usable: TlsaRecord[] = [];
  for (const record of records) {
    const reason = tlsaUnusableReason(record, ctx);
    if (reason === null) usable.push(record);
    else ignored.push({ record, reason });
  }
  const considered = preferredRecords(usable);
  for (const record of usable)
    if (!considered.includes(record))
      ignored.push({
        record,
        reason: 'a stronger digest is published for this usage and selector (RFC 7671 §9)',
      });
  if (considered.length === 0) return { outcome: 'no-usable-records', ignored };

  const { chain } = presented;
  const notes: string[] = [];
  // DANE-EE first: the common case, and the one that needs the least of the chain.
  const order = [...considered].sort((a, b) => b.usage - a.usage);
  for (const record of order) {
    const endEntity = record.usage === 1 || record.usage === 3;
    const candidates = endEntity ? [0] : chain.map((_, i) => i).filter((i) => i > 0);
    for (const index of candidates) {
      const der = chain[index];
      const bytes = der ? selected(der, record.selector) : null;
      if (!bytes || !associationMatches(record, bytes)) continue;
      const label = describeTlsa(record);
      if (record.usage !== 3) {
        if (index > 0 && !signedUpTo(chain, index)) {
          notes.push(`${label} matches chain[${index}], but the leaf does not chain up to it`);
          continue;
        }
        if (!nameMatches(chain[0], presented.name)) {
          notes.push(`${label} matches, but the leaf is not valid for ${presented.name}`);
          continue;
        }
      }
      if (record.usage <= 1 && !presented.pkixValid) {
        notes.push(`${label} matches, but ${USAGE_NAMES[record.usage] ?? ''} also needs a PKIX-valid chain`);
        continue;
      }
      return { outcome: 'match', match: { record, index }, ignored };
    }
    if (record.usage === 2 && record.matchingType === 0) {
      const signs = signedByRecordAnchor(chain, record);
      if (signs < 0) continue;
      const label = describeTlsa(record);
      if (!signedUpTo(chain, signs))
        notes.push(`${label} signed chain[${signs}], but the leaf does not chain up to it`);
      else if (!nameMatches(chain[0], presented.name))
        notes.push(`${label} is the trust anchor, but the leaf is not valid for ${presented.name}`);
      else return { outcome: 'match', match: { record, index: -1, signs }, ignored };
    }
  }
  return { outcome: 'mismatch', usable: considered, notes, ignored };
}

/**
 * RFC 7671 §5.2.2: a DANE-TA(2) Full(0) record carries the trust anchor (certificate or public key)
 * itself. Returns the index of the first chain certificate it issued and signed, or -1.
 */
function signedByRecordAnchor(chain: readonly Uint8Array[], record: TlsaRecord): number {
  let anchor: X509Certificate | null = null;
  let key: KeyObject;
  try {
    if (record.selector === 0) {
      anchor = new X509Certificate(record.data);
      key = anchor.publicKey;
    } else key = createPublicKey({ key: Buffer.from(record.data), format: 'der', type: 'spki' });
  } catch {
    return -1;
  }
  for (let i = 0; i < chain.length; i++) {
    const cert = parse(chain[i]);
    if (!cert || (anchor && !cert.checkIssued(anchor))) continue;
    try {
      if (cert.verify(key)) return i;
    } catch {
      // a key of another type: not this one's issuer
    }
  }
  return -1;
}

/** What the TLSA lookup found, as `dane-lookup.ts` reports it. */
export type TlsaLookup =
  /** AD set: the answer (records, or their absence) is DNSSEC-validated. */
  | { kind: 'secure'; owner: string; records: TlsaRecord[] }
  /** No AD: an unsigned zone, or a resolver that does not validate. */
  | { kind: 'insecure'; owner: string; records: TlsaRecord[] }
  /** SERVFAIL: a bogus answer (with RFC 8914 EDE text when the resolver gives one) or a broken zone. */
  | { kind: 'servfail'; owner: string; detail: string }
  /** No usable answer at all: timeout, network error, REFUSED… */
  | { kind: 'failed'; owner: string; detail: string };

function certLabel(der: Uint8Array | undefined, index: number, signs?: number): string {
  if (index === -1)
    return `the trust anchor it holds, which signed ${signs === 0 ? 'the leaf' : `chain[${signs ?? '?'}]`}`;
  if (index === 0) return 'the leaf';
  try {
    return `chain[${index}] ${der ? summarizeCertificate(der).subject : ''}`.trim();
  } catch {
    return `chain[${index}]`;
  }
}

function spkiSha256(der: Uint8Array | undefined): string {
  const spki = der ? selected(der, 1) : null;
  return spki ? sha256Hex(spki) : '?';
}

/**
 * Findings about the lookup itself, the same for every address (address "*"); an empty list
 * when the records are to be matched against each chain (`daneChainFindings`).
 */
export function daneLookupFindings(lookup: TlsaLookup): Finding[] {
  const at = lookup.owner;
  const one = (id: string, severity: Finding['severity'], message: string): Finding[] => [
    { id, severity, message: sanitizeText(message, { maxLength: 1000 }), address: '*' },
  ];
  switch (lookup.kind) {
    case 'failed':
      return one('dane-lookup-failed', 'unknown', `TLSA lookup for ${at} failed: ${lookup.detail}`);
    case 'servfail':
      // RFC 7672 §2.2 / RFC 6698 §4.1: a failed (bogus) TLSA lookup is not "no DANE": a DANE client
      // must not connect, and an attacker forging the answer looks exactly like this.
      return one(
        'dane-bogus',
        'critical',
        `TLSA lookup for ${at}: SERVFAIL (${lookup.detail}); DANE clients will not connect`,
      );
    case 'insecure':
      // RFC 6698 §4.1: TLSA records that are not DNSSEC-validated are unusable.
      return one(
        'dane-insecure',
        'warning',
        lookup.records.length > 0
          ? `${lookup.records.length} TLSA record(s) at ${at}, but the answer is not DNSSEC-validated (no AD from the resolver): unusable (RFC 6698 §4.1)`
          : `no DNSSEC-validated TLSA answer for ${at} (unsigned zone, or the resolver does not validate)`,
      );
    case 'secure':
      return lookup.records.length === 0
        ? one('dane-no-records', 'critical', `no TLSA records at ${at} (DNSSEC-validated denial)`)
        : [];
  }
}

/** Findings of one chain against a secure, non-empty TLSA RRset, and the match if there is one. */
export function daneChainFindings(
  lookup: Extract<TlsaLookup, { kind: 'secure' }>,
  presented: PresentedChain,
  ctx: DaneContext,
  address: string,
): { findings: Finding[]; match: DaneMatch | null } {
  const findings: Finding[] = [];
  const push = (id: string, severity: Finding['severity'], message: string): void => {
    findings.push({ id, severity, message: sanitizeText(message, { maxLength: 2000 }), address });
  };
  const verdict = matchTlsa(lookup.records, presented, ctx);
  const ignoredText = verdict.ignored.map((i) => `${describeTlsa(i.record)} (${i.reason})`).join('; ');
  if (verdict.outcome === 'no-usable-records') {
    push('dane-unusable', 'critical', `no usable TLSA record at ${lookup.owner}: ${ignoredText}`);
    return { findings, match: null };
  }
  if (verdict.ignored.length > 0)
    push('dane-records-ignored', 'info', `TLSA record(s) ignored: ${ignoredText}`);
  if (verdict.outcome === 'match') {
    const { record, index, signs } = verdict.match;
    push(
      'dane-match',
      'info',
      `TLSA ${describeTlsa(record)} (${USAGE_NAMES[record.usage] ?? ''} ${SELECTOR_NAMES[record.selector] ?? ''} ${MATCHING_NAMES[record.matchingType] ?? ''}) at ${lookup.owner} matches ${certLabel(presented.chain[index], index, signs)}`,
    );
    return { findings, match: verdict.match };
  }
  push(
    'dane-mismatch',
    'critical',
    `no TLSA record at ${lookup.owner} matches the presented chain (leaf SPKI SHA-256 ${spkiSha256(presented.chain[0])}); records: ${verdict.usable.map(describeTlsa).join(', ')}${verdict.notes.length > 0 ? `; ${verdict.notes.join('; ')}` : ''}`,
  );
  return { findings, match: null };
}

/**
 * RFC 7672 §3.1.1/§3.1.2 with RFC 7671 §5.1/§5.2: for SMTP, DANE replaces PKIX. A chain
 * authenticated by DANE-EE needs neither a public root nor the name; one authenticated by DANE-TA
 * needs no public root. Those PKIX findings stay, as INFO saying why, so that a self-signed MX
 * with a matching `3 1 1` record is OK. Other protocols keep them: a browser does not do DANE.
 * Changes the given findings in place (they are shared with the endpoint's list).
 */
export function relaxForDane(findings: Finding[], match: DaneMatch, ctx: DaneContext): void {
  const usage = match.record.usage;
  if (!ctx.smtp || usage < 2) return;
  const reason = `authenticated by DANE (${USAGE_NAMES[usage] ?? ''}, RFC 7671 §${usage === 3 ? '5.1' : '5.2'})`;
  for (const f of findings) {
    if (f.severity !== 'critical') continue;
    if (f.id === 'chain-untrusted' || (usage === 3 && f.id === 'name-mismatch')) {
      f.severity = 'info';
      f.message = `${f.message}; ${reason}`;
    }
  }
}
