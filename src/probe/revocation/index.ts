/**
 * @module probe/revocation
 * Revocation of the certificates an endpoint presents (`check endpoint --revocation leaf|chain|off`):
 * the stapled OCSP response first (verified: signature, responder authorisation, CertID, freshness),
 * RFC 7633 must-staple, the AIA OCSP responder, then the CRL distribution points.
 *
 * Finding ids: `revoked`, `ocsp-good`, `crl-good`, `ocsp-stapled`, `must-staple-missing`,
 * `ocsp-invalid`, `ocsp-stale`, `crl-invalid`, `crl-stale`, `revocation-unknown` (decide.ts).
 *
 * @example
 * const cache = new RevocationCache();
 * const findings = await revocationFindingsFor({ chain, staple, address, cache,
 *   settings: { mode: 'leaf', unreachable: 'warning' }, deadline: Date.now() + 10_000, now: new Date() });
 */
export { CRL_MAX_BYTES, OCSP_MAX_BYTES, checkRevocation } from './check.js';
export type { RevocationInput } from './check.js';
export { mayCarryRevocationInfo, revocationFindingsFor } from './entry.js';
export { DEFAULT_SKEW_MS, evaluateCrl, evaluateOcsp, revocationFindings } from './decide.js';
export type { RevocationFacts, Verdict } from './decide.js';
export { buildOcspRequest, parseCrl, parseOcspResponse, parseRevocationCert } from './asn1.js';
export type { RevocationCert } from './asn1.js';
export { fetchableUrl, httpRevocationFetch } from './http.js';
export type { RevocationFetch, RevocationRequest } from './http.js';
export { DEFAULT_REVOCATION, REVOCATION_MODES, RevocationCache, UNREACHABLE_SEVERITIES } from './settings.js';
export type { RevocationMode, RevocationSettings, UnreachableSeverity } from './settings.js';
