/**
 * @module probe/checks
 * The pure decisions of the external check: from what one address presented to findings. No
 * network; everything needed (the chain, the verified SCTs, the CT-presence and inventory answers,
 * CAA's verdict) is gathered by `endpoint.ts` first.
 *
 * The point of the check is the jabber.ru case: a certificate from the very same CA, valid,
 * logged in CT, for the right name, but not ours. Only an expectation bound to something the
 * attacker cannot obtain — our key (`--pin`), the inventory of certificates our own ACME clients
 * obtained — tells it apart; the issuer, SCT and CT checks catch the cruder cases.
 */
import { X509Certificate } from 'node:crypto';
import { ipVersion } from './ip-literal.js';
import type { CertSummary } from '../x509/index.js';
import type { CtPolicyResult } from './ct-policy.js';
import type { SctDeliveryError } from './scts.js';
import type { CtPresence, Finding, FindingSeverity, SctCheck } from './types.js';

const DAY_MS = 86_400_000;

export interface CertificateFacts {
  address: string;
  leaf: Uint8Array;
  summary: CertSummary;
  certSha256: string;
  /** Hex SHA-256 of the issuing certificate's SubjectPublicKeyInfo, when the issuer was presented. */
  issuerSpkiSha256: string | null;
  authorized: boolean;
  authorizationError: string | null;
}

export interface CertificateExpectations {
  /** The name the certificate must be valid for (SNI, else the host). */
  hostname: string;
  warnDays: number;
  critDays: number;
  /** Hex SHA-256 of acceptable leaf SubjectPublicKeyInfos (any one matches). */
  pins: readonly string[];
  /** Issuer expectations: a hex SHA-256 of the issuer's SPKI, or text found in the issuer DN. */
  expectIssuer: readonly string[];
  minRsaBits: number;
  now: Date;
}

const finding = (address: string, id: string, severity: FindingSeverity, message: string): Finding => ({
  id,
  severity,
  message,
  address,
});

const isSha256Hex = (s: string): boolean => /^[0-9a-f]{64}$/i.test(s.replace(/:/g, ''));
const normHash = (s: string): string => s.replace(/:/g, '').toLowerCase();

/**
 * A `--pin` as lower-case hex: 64 hex digits (colons allowed, as `openssl … -c` prints them), or
 * the base64 of the 32 digest bytes (RFC 7469 §2.4 pin-sha256 and curl's `sha256//…`, standard or
 * URL-safe alphabet). Anything else — another digest length, another alphabet, trailing text — is
 * `null`, so a pin that can never match is refused instead of making every check CRITICAL.
 */
export function parsePin(text: string): string | null {
  const t = text.trim();
  const hex = t.replace(/:/g, '');
  if (/^[0-9a-f]{64}$/i.test(hex) && (t === hex || /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i.test(t)))
    return hex.toLowerCase();
  const b64 = t.replace(/^sha256\/\/?/i, '');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(b64)) return null;
  const bytes = Buffer.from(b64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/** Days (fractional) until notAfter; negative once expired. */
export function daysLeft(summary: CertSummary, now: Date): number {
  return (Date.parse(summary.notAfter) - now.getTime()) / DAY_MS;
}

/**
 * The day count every output shows (status line, expiry finding, `days` perfdata): whole days
 * left, rounded down as check_ssl_cert does, so 14.9 days is "14 days" everywhere and meets
 * `-c 15`. Negative once expired (-1 on the first day after notAfter).
 */
export function wholeDays(fractionalDays: number): number {
  return Math.floor(fractionalDays);
}

/** Path, name, validity period and key strength. */
export function checkCertificate(facts: CertificateFacts, expect: CertificateExpectations): Finding[] {
  const a = facts.address;
  const out: Finding[] = [];
  const s = facts.summary;

  if (facts.authorized) out.push(finding(a, 'chain-trusted', 'ok', `chain trusted (issuer ${s.issuer})`));
  else
    out.push(
      finding(
        a,
        'chain-untrusted',
        'critical',
        `chain not trusted: ${facts.authorizationError ?? 'unknown reason'}`,
      ),
    );

  // RFC 6125 §6.4 via OpenSSL's X509_check_host: SAN dNSName only, wildcard in the leftmost label.
  const x509 = new X509Certificate(facts.leaf);
  const ip = ipVersion(expect.hostname) !== 0;
  const matched = ip
    ? x509.checkIP(expect.hostname) !== undefined
    : x509.checkHost(expect.hostname, { subject: 'never' }) !== undefined;
  if (matched) out.push(finding(a, 'name-match', 'ok', `valid for ${expect.hostname}`));
  else
    out.push(
      finding(
        a,
        'name-mismatch',
        'critical',
        `not valid for ${expect.hostname} (names: ${[...s.dnsNames, ...s.ipAddresses].join(', ') || 'none'})`,
      ),
    );

  const notBefore = Date.parse(s.notBefore);
  // Thresholds compare the whole days shown, so the finding, the status line and the perfdata agree.
  const days = wholeDays(daysLeft(s, expect.now));
  if (notBefore > expect.now.getTime())
    out.push(finding(a, 'not-yet-valid', 'critical', `not valid before ${s.notBefore}`));
  if (days < 0) out.push(finding(a, 'expired', 'critical', `expired on ${s.notAfter}`));
  else if (days < expect.critDays)
    out.push(finding(a, 'expires-soon', 'critical', `expires in ${days} days (${s.notAfter})`));
  else if (days < expect.warnDays)
    out.push(finding(a, 'expires-soon', 'warning', `expires in ${days} days (${s.notAfter})`));
  else out.push(finding(a, 'validity', 'ok', `expires in ${days} days (${s.notAfter})`));

  out.push(...checkKey(a, s.keyType, expect.minRsaBits));
  return out;
}

/** RSA below the minimum, EC below P-256, or an unknown key type. */
function checkKey(a: string, keyType: string, minRsaBits: number): Finding[] {
  const rsa = /^rsa(?:-pss)?-(\d+)$/.exec(keyType);
  if (rsa) {
    const bits = Number(rsa[1]);
    return bits < minRsaBits
      ? [finding(a, 'weak-key', 'critical', `${keyType} key is below ${minRsaBits} bits`)]
      : [finding(a, 'key', 'ok', `${keyType} key`)];
  }
  if (/^ecdsa-(p256|p384|p521)$/.test(keyType) || keyType === 'ed25519' || keyType === 'ed448')
    return [finding(a, 'key', 'ok', `${keyType} key`)];
  if (keyType.startsWith('ecdsa-'))
    return [finding(a, 'weak-key', 'warning', `${keyType} key is not a curve browsers accept`)];
  return [finding(a, 'weak-key', 'warning', `unrecognised key type ${keyType}`)];
}

/** `--pin` and `--expect-issuer`: the expectations an attacker from the same CA does not meet. */
export function checkExpectations(facts: CertificateFacts, expect: CertificateExpectations): Finding[] {
  const a = facts.address;
  const out: Finding[] = [];
  const spki = facts.summary.spkiSha256;
  if (expect.pins.length > 0) {
    if (expect.pins.map(normHash).includes(spki))
      out.push(finding(a, 'pin-match', 'ok', `leaf key matches a pin`));
    else
      out.push(
        finding(
          a,
          'pin-mismatch',
          'critical',
          `leaf key sha256 ${spki} matches none of ${expect.pins.length} pin(s)`,
        ),
      );
  }
  if (expect.expectIssuer.length > 0) {
    const issuer = facts.summary.issuer;
    const ok = expect.expectIssuer.some((e) =>
      isSha256Hex(e)
        ? facts.issuerSpkiSha256 !== null && normHash(e) === facts.issuerSpkiSha256
        : issuer.toLowerCase().includes(e.toLowerCase()),
    );
    if (ok) out.push(finding(a, 'issuer-expected', 'ok', `issuer ${issuer} is expected`));
    else {
      const key = facts.issuerSpkiSha256
        ? `, issuer key sha256 ${facts.issuerSpkiSha256}`
        : ', issuer not presented';
      out.push(finding(a, 'issuer-unexpected', 'critical', `issuer ${issuer}${key} is not expected`));
    }
  }
  return out;
}

/** SCT signatures and the CT policy. */
export function checkScts(
  address: string,
  scts: readonly SctCheck[],
  deliveryErrors: readonly SctDeliveryError[],
  policy: CtPolicyResult | null,
): Finding[] {
  const out: Finding[] = [];
  for (const e of deliveryErrors)
    out.push(finding(address, 'sct-malformed', 'critical', `${e.source} SCT list is malformed: ${e.error}`));
  for (const s of scts) {
    const when = new Date(s.timestamp).toISOString();
    if (s.status === 'invalid')
      out.push(
        finding(
          address,
          'sct-invalid',
          'critical',
          `${s.source} SCT from ${s.logName ?? s.logId} (${when}) does not verify: ${s.error ?? 'bad signature'}`,
        ),
      );
    else if (s.status === 'unknown-log')
      out.push(
        finding(
          address,
          'sct-unknown-log',
          'warning',
          `${s.source} SCT from a log not in the log list: ${s.logId}`,
        ),
      );
    else
      out.push(
        finding(
          address,
          'sct-valid',
          'ok',
          `${s.source} SCT from ${s.logName ?? s.logId} (${s.operator ?? 'unknown operator'}), ${when}`,
        ),
      );
  }
  if (policy) {
    if (policy.compliant)
      out.push(
        finding(
          address,
          'ct-policy',
          'ok',
          `CT policy met: ${policy.qualifyingLogs} logs, ${policy.operators} operators (${policy.required} required)`,
        ),
      );
    else
      out.push(finding(address, 'ct-policy', 'critical', `CT policy not met: ${policy.reasons.join('; ')}`));
  }
  return out;
}

/** Whether the certificate is in CT at all (proof, monitor store or a search API). */
export function checkCtPresence(address: string, presence: CtPresence | null): Finding[] {
  if (!presence) return [];
  const found = presence.sources.find((s) => s.status === 'found');
  if (found)
    return [finding(address, 'ct-logged', 'ok', `in CT: ${found.kind} ${found.where}: ${found.detail}`)];
  const notFound = presence.sources.filter((s) => s.status === 'not-found');
  if (notFound.length > 0)
    return [
      finding(
        address,
        'ct-not-logged',
        'critical',
        `not found in CT (${notFound.map((s) => `${s.kind} ${s.where}: ${s.detail}`).join('; ')})`,
      ),
    ];
  if (presence.sources.length === 0)
    return [
      finding(address, 'ct-unchecked', 'warning', 'CT presence not checked: no SCT log or source to ask'),
    ];
  return [
    finding(
      address,
      'ct-unknown',
      // A CT source that cannot be reached says nothing about the certificate: WARNING at most.
      'warning',
      `CT presence unknown: ${presence.sources.map((s) => `${s.kind} ${s.where}: ${s.detail}`).join('; ')}`,
    ),
  ];
}

export interface InventoryAnswer {
  /** The certificate (or its TBS, or its key by authorization) is one we obtained or authorised. */
  ours: boolean;
  /** How many inventory certificates exist for the leaf's names (to tell "not ours" from "not tracked"). */
  otherForNames: number;
  detail: string;
}

/** The internal check's answer: is this one of the certificates our ACME clients obtained? */
export function checkInventory(address: string, answer: InventoryAnswer | null): Finding[] {
  if (!answer) return [];
  if (answer.ours) return [finding(address, 'inventory-match', 'ok', answer.detail)];
  if (answer.otherForNames > 0)
    return [
      finding(
        address,
        'inventory-mismatch',
        'critical',
        `not a certificate we obtained: ${answer.otherForNames} other certificate(s) for these names are in the inventory`,
      ),
    ];
  return [
    finding(address, 'inventory-unknown', 'warning', 'no certificate for these names in the inventory'),
  ];
}

export interface CaaAnswer {
  decision: 'allow' | 'deny' | 'error' | 'unknown-issuer';
  detail: string;
}

/** `--expect-caa`: would the name's current CAA let this certificate's CA issue? */
export function checkCaa(address: string, answer: CaaAnswer | null): Finding[] {
  if (!answer) return [];
  switch (answer.decision) {
    case 'allow':
      return [finding(address, 'caa-allows-issuer', 'ok', answer.detail)];
    case 'deny':
      return [finding(address, 'caa-forbids-issuer', 'critical', answer.detail)];
    case 'unknown-issuer':
      return [finding(address, 'caa-unknown-issuer', 'warning', answer.detail)];
    default:
      return [finding(address, 'caa-error', 'unknown', answer.detail)];
  }
}
