/**
 * @module probe/revocation/decide
 * Pure revocation decisions: an OCSP response (stapled or fetched) or a CRL, with the certificate,
 * its issuer and `now`, becomes a verdict (`evaluateOcsp`, `evaluateCrl`); the verdicts gathered
 * for one certificate become findings (`revocationFindings`). No I/O, no clock.
 *
 * Finding ids (stable): `revoked` (critical), `ocsp-good`, `crl-good`, `ocsp-stapled` (info),
 * `must-staple-missing` (critical), `ocsp-invalid` (critical for a staple, warning for a fetched
 * response), `ocsp-stale`, `crl-invalid`, `crl-stale` (warning), `revocation-unknown` (the
 * configured severity).
 */
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import type { Finding, FindingSeverity } from '../types.js';
import {
  CERT_ID_HASHES,
  OCSP_STATUS_NAMES,
  certIdFor,
  keyHashSha1,
  parseCrl,
  parseOcspResponse,
  reasonName,
} from './asn1.js';
import type { OcspSingle, ParsedOcspResponse, RevocationCert } from './asn1.js';
import type { UnreachableSeverity } from './settings.js';
import { verifySignature } from './signature.js';

/** Clock skew allowed around thisUpdate/nextUpdate (as `openssl ocsp -validity_period`'s 300 s default). */
export const DEFAULT_SKEW_MS = 5 * 60_000;
/**
 * RFC 6960 §4.2.2.1: without nextUpdate, "newer revocation information is available all the time";
 * a cached (stapled) response can then be any age. We accept it for 10 days after thisUpdate, the
 * longest validity interval the CA/Browser Forum Baseline Requirements (§4.9.10) allow.
 */
export const MAX_AGE_WITHOUT_NEXT_UPDATE_MS = 10 * 86_400_000;

export type Verdict =
  | { kind: 'good'; thisUpdate: Date; nextUpdate: Date | null }
  | { kind: 'revoked'; revokedAt: Date; reason: string | null; thisUpdate: Date; nextUpdate: Date | null }
  /** The source answered but does not know the certificate (OCSP certStatus unknown). */
  | { kind: 'unknown'; detail: string }
  /** Bad signature, unauthorised signer, wrong CertID or nonce, malformed bytes. */
  | { kind: 'invalid'; detail: string }
  | { kind: 'stale'; detail: string }
  /** No answer: network failure, HTTP error, an unsuccessful OCSP status (tryLater …). */
  | { kind: 'error'; detail: string };

export interface EvaluateContext {
  cert: RevocationCert;
  issuer: RevocationCert;
  now: Date;
  /** The RFC 8954 nonce we sent, or null (a staple never has ours). */
  nonce?: Uint8Array | null;
  skewMs?: number;
}

const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** RFC 6960 §3.2 items 5–6, §4.2.2.1: thisUpdate not in the future, nextUpdate not passed. */
function freshness(thisUpdate: Date, nextUpdate: Date | null, now: Date, skewMs: number): string | null {
  const t = now.getTime();
  if (thisUpdate.getTime() > t + skewMs) return `thisUpdate ${iso(thisUpdate)} is in the future`;
  if (nextUpdate !== null) {
    if (nextUpdate.getTime() < t - skewMs) return `nextUpdate ${iso(nextUpdate)} has passed`;
  } else if (thisUpdate.getTime() < t - MAX_AGE_WITHOUT_NEXT_UPDATE_MS - skewMs)
    return `thisUpdate ${iso(thisUpdate)} is over 10 days old and there is no nextUpdate`;
  return null;
}

/** RFC 6960 §4.1.1: the SingleResponse whose CertID is the certificate's (under its own hash). */
function matchingResponse(
  responses: OcspSingle[],
  cert: RevocationCert,
  issuer: RevocationCert,
): OcspSingle | null {
  for (const r of responses) {
    if (!CERT_ID_HASHES[r.certId.hashOid]) continue;
    const want = certIdFor(cert, issuer, r.certId.hashOid);
    if (
      r.certId.serialHex === want.serialHex &&
      same(r.certId.issuerNameHash, want.issuerNameHash) &&
      same(r.certId.issuerKeyHash, want.issuerKeyHash)
    )
      return r;
  }
  return null;
}

type Basic = NonNullable<ParsedOcspResponse['basic']>;

const matchesResponderId = (basic: Basic, c: RevocationCert): boolean =>
  'byName' in basic.responderId
    ? same(basic.responderId.byName, c.subjectDer)
    : same(basic.responderId.byKeyHash, keyHashSha1(c));

/**
 * RFC 6960 §4.2.2.2: the signer must be the issuing CA itself, or a "CA Designated Responder": a
 * certificate in the response, issued directly by that CA, with id-kp-OCSPSigning in its
 * extendedKeyUsage. (A locally configured trusted responder, case 1 of the RFC, is not supported.)
 * Returns the authorised candidates (the signature decides among them) or why there is none.
 */
function authorisedSigners(
  basic: Basic,
  issuer: RevocationCert,
  now: Date,
  skewMs: number,
): RevocationCert[] | string {
  // The issuer first; then delegated responders named by the ResponderID (a responder may share
  // the CA's name, so a name match with the issuer does not rule them out).
  const out: RevocationCert[] = matchesResponderId(basic, issuer) ? [issuer] : [];
  const named = basic.certs.filter((c) => matchesResponderId(basic, c) && !same(c.spki, issuer.spki));
  if (named.length === 0 && out.length === 0)
    return 'the responder that signed it is neither the issuer nor a certificate included in the response';
  const problems: string[] = [];
  for (const c of named) {
    if (!same(c.issuerDer, issuer.subjectDer)) {
      problems.push('the responder certificate was not issued by the certificate’s issuer');
      continue;
    }
    const sig = verifySignature(c.tbs, c.signatureAlgorithm, c.signature, issuer.spki);
    if (!sig.valid) {
      problems.push(`the responder certificate is not signed by the issuer (${sig.reason})`);
      continue;
    }
    if (!c.ocspSigning) {
      problems.push('the responder certificate lacks id-kp-OCSPSigning');
      continue;
    }
    const t = now.getTime();
    if (c.notBefore.getTime() > t + skewMs || c.notAfter.getTime() < t - skewMs) {
      problems.push(`the responder certificate is not valid now (${iso(c.notBefore)} to ${iso(c.notAfter)})`);
      continue;
    }
    out.push(c);
  }
  return out.length > 0 ? out : `unauthorised responder: ${problems.join('; ')}`;
}

/** Judges a DER OCSPResponse for `ctx.cert`: parse, CertID, signer, signature, nonce, freshness. */
export function evaluateOcsp(der: Uint8Array, ctx: EvaluateContext): Verdict {
  const skewMs = ctx.skewMs ?? DEFAULT_SKEW_MS;
  let parsed: ParsedOcspResponse;
  try {
    parsed = parseOcspResponse(der);
  } catch (e) {
    return { kind: 'invalid', detail: e instanceof CertvigilError ? e.message : 'unparsable response' };
  }
  if (parsed.responseStatus !== 0 || !parsed.basic)
    // RFC 6960 §4.2.1: an unsuccessful response carries no signed data; it is no answer.
    return {
      kind: 'error',
      detail: `the responder answered ${OCSP_STATUS_NAMES[parsed.responseStatus] ?? `status ${parsed.responseStatus}`}`,
    };
  const basic = parsed.basic;
  const single = matchingResponse(basic.responses, ctx.cert, ctx.issuer);
  if (!single)
    return { kind: 'invalid', detail: 'the response is not about this certificate (no matching CertID)' };
  const signers = authorisedSigners(basic, ctx.issuer, ctx.now, skewMs);
  if (typeof signers === 'string') return { kind: 'invalid', detail: signers };
  const checks = signers.map((c) =>
    verifySignature(basic.tbs, basic.signatureAlgorithm, basic.signature, c.spki),
  );
  if (!checks.some((c) => c.valid))
    return {
      kind: 'invalid',
      detail: `bad response signature: ${checks.map((c) => (c.valid ? '' : c.reason)).join('; ')}`,
    };
  // RFC 8954 §2.1: a responder that supports nonces echoes ours; one that does not omits it. A
  // different nonce is a replayed (or someone else's) response.
  if (ctx.nonce && basic.nonce && !same(ctx.nonce, basic.nonce))
    return { kind: 'invalid', detail: 'the response nonce is not the one we sent (replayed response?)' };
  const stale = freshness(single.thisUpdate, single.nextUpdate, ctx.now, skewMs);
  if (stale) return { kind: 'stale', detail: stale };
  const s = single.status;
  if (s.kind === 'good')
    return { kind: 'good', thisUpdate: single.thisUpdate, nextUpdate: single.nextUpdate };
  if (s.kind === 'revoked')
    return {
      kind: 'revoked',
      revokedAt: s.revokedAt,
      reason: reasonName(s.reason),
      thisUpdate: single.thisUpdate,
      nextUpdate: single.nextUpdate,
    };
  return { kind: 'unknown', detail: 'the responder does not know the certificate (status unknown)' };
}

/** Judges a DER CRL for `ctx.cert`: issuer name, signature by the issuer, freshness, the serial. */
export function evaluateCrl(der: Uint8Array, ctx: EvaluateContext): Verdict {
  const skewMs = ctx.skewMs ?? DEFAULT_SKEW_MS;
  let crl;
  try {
    crl = parseCrl(der);
  } catch (e) {
    return { kind: 'invalid', detail: e instanceof CertvigilError ? e.message : 'unparsable CRL' };
  }
  // DEVIATION: indirect CRLs (RFC 5280 §5.2.5, cRLIssuer in the distribution point) are not
  // supported; a CRL must be issued by the certificate's issuer and signed with its key.
  if (!same(crl.issuerDer, ctx.issuer.subjectDer) || !same(ctx.cert.issuerDer, ctx.issuer.subjectDer))
    return { kind: 'invalid', detail: 'the CRL is not issued by the certificate’s issuer' };
  const sig = verifySignature(crl.tbs, crl.signatureAlgorithm, crl.signature, ctx.issuer.spki);
  if (!sig.valid) return { kind: 'invalid', detail: `bad CRL signature: ${sig.reason}` };
  const stale = freshness(crl.thisUpdate, crl.nextUpdate, ctx.now, skewMs);
  if (stale) return { kind: 'stale', detail: stale };
  const entry = crl.revoked.get(ctx.cert.serialHex);
  // RFC 5280 §5.3.1: removeFromCRL (8) only appears in delta CRLs and means "no longer revoked".
  if (entry && entry.reason !== 8)
    return {
      kind: 'revoked',
      revokedAt: entry.revokedAt,
      reason: reasonName(entry.reason),
      thisUpdate: crl.thisUpdate,
      nextUpdate: crl.nextUpdate,
    };
  return { kind: 'good', thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate };
}

/** Everything learnt about one certificate's revocation, in the order it was tried. */
export interface RevocationFacts {
  /** Sanitised "subject (serial …)". */
  label: string;
  role: 'leaf' | 'intermediate';
  /** RFC 7633 TLS Feature status_request in the certificate. */
  mustStaple: boolean;
  /** The stapled response's verdict; null when nothing was stapled (never for intermediates). */
  staple: Verdict | null;
  ocsp: { url: string; verdict: Verdict }[];
  crl: { url: string; verdict: Verdict }[];
  /** Why a source was not tried (no URL, no issuer, unsupported scheme …). */
  notes: string[];
  /**
   * The certificate names no OCSP responder and no CRL we can fetch: there is nothing that could be
   * unreachable (a private CA without revocation), so "unknown" is INFO rather than the configured
   * severity.
   */
  noSources?: boolean;
}

const fresh = (v: { thisUpdate: Date; nextUpdate: Date | null }): string =>
  `thisUpdate ${iso(v.thisUpdate)}${v.nextUpdate ? `, nextUpdate ${iso(v.nextUpdate)}` : ''}`;

const shownUrl = (url: string): string => sanitizeText(url, { maxLength: 200 });

/** Findings for one certificate at one address, from what was learnt (pure). */
export function revocationFindings(
  facts: RevocationFacts,
  address: string,
  unreachable: UnreachableSeverity,
): Finding[] {
  const out: Finding[] = [];
  const add = (id: string, severity: FindingSeverity, message: string): void => {
    out.push({ id, severity, message, address });
  };
  const what = `${facts.role === 'leaf' ? 'certificate' : 'intermediate'} ${facts.label}`;
  const revoked = (v: Extract<Verdict, { kind: 'revoked' }>, source: string): void =>
    add(
      'revoked',
      'critical',
      `${what} is REVOKED since ${iso(v.revokedAt)}${v.reason ? `, reason ${v.reason}` : ''} (${source})`,
    );
  const why: string[] = [...facts.notes];
  let answered = false;

  const s = facts.staple;
  if (s) {
    if (s.kind === 'good' || s.kind === 'revoked') {
      answered = true;
      add('ocsp-stapled', 'info', `stapled OCSP response for ${what} verified (${fresh(s)})`);
      if (s.kind === 'good') add('ocsp-good', 'info', `OCSP: ${what} is good (stapled response)`);
      else revoked(s, 'stapled OCSP response');
    } else if (s.kind === 'stale')
      // A must-staple certificate with a stale staple fails in browsers that enforce RFC 7633.
      add(
        'ocsp-stale',
        facts.mustStaple ? 'critical' : 'warning',
        `stapled OCSP response for ${what} is stale: ${s.detail}`,
      );
    else if (s.kind === 'unknown') why.push(`stapled response: ${s.detail}`);
    // A staple that does not verify (or an unsigned error status in its place) is what an attacker
    // holding a revoked certificate's key would serve: critical, not a mere warning.
    else add('ocsp-invalid', 'critical', `stapled OCSP response for ${what} is invalid: ${s.detail}`);
  } else if (facts.mustStaple)
    // RFC 7633 §4.2.3: a client that sees the feature and receives no status_request response
    // "MUST treat this as a fatal error".
    add(
      'must-staple-missing',
      'critical',
      `${what} requires OCSP stapling (RFC 7633 must-staple) but the server stapled nothing`,
    );

  if (!answered)
    for (const { url, verdict: v } of facts.ocsp) {
      const where = `OCSP ${shownUrl(url)}`;
      if (v.kind === 'good') add('ocsp-good', 'info', `${where}: ${what} is good (${fresh(v)})`);
      else if (v.kind === 'revoked') revoked(v, where);
      else if (v.kind === 'invalid')
        add('ocsp-invalid', 'warning', `${where}: invalid response for ${what}: ${v.detail}`);
      else if (v.kind === 'stale')
        add('ocsp-stale', 'warning', `${where}: stale response for ${what}: ${v.detail}`);
      if (v.kind === 'good' || v.kind === 'revoked') {
        answered = true;
        break;
      }
      why.push(`${where}: ${v.detail}`);
    }
  if (!answered)
    for (const { url, verdict: v } of facts.crl) {
      const where = `CRL ${shownUrl(url)}`;
      if (v.kind === 'good') add('crl-good', 'info', `${where}: ${what} is not revoked (${fresh(v)})`);
      else if (v.kind === 'revoked') revoked(v, where);
      else if (v.kind === 'invalid')
        add('crl-invalid', 'warning', `${where}: invalid CRL for ${what}: ${v.detail}`);
      else if (v.kind === 'stale')
        add('crl-stale', 'warning', `${where}: stale CRL for ${what}: ${v.detail}`);
      if (v.kind === 'good' || v.kind === 'revoked') {
        answered = true;
        break;
      }
      why.push(`${where}: ${v.detail}`);
    }
  if (!answered)
    add(
      'revocation-unknown',
      unreachable === 'ok' || (facts.noSources === true && facts.staple === null) ? 'info' : unreachable,
      `revocation status of ${what} unknown: ${why.length > 0 ? why.join('; ') : 'no OCSP responder or CRL answered'}`,
    );
  return out;
}
