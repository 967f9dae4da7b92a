/**
 * @module x509
 * A zero-copy DER walker for the Certificate Transparency hot path: names, validity, issuer, key
 * and hashes of a certificate or precertificate TBS, read over the bytes a log entry already holds.
 * Build a full certificate object (`crypto.X509Certificate`) only for the few entries that match.
 *
 * @example
 * import { summarizeCertificate, X509Error } from 'certvigil/x509';
 * try {
 *   const s = summarizeCertificate(der);
 *   if (s.dnsNames.some((n) => n.endsWith('.example.com'))) alert(s);
 * } catch (err) {
 *   if (err instanceof X509Error) recordMalformedEntry(index, err.code, err.message);
 *   else throw err;
 * }
 */
export {
  certificateFacts,
  certificateParts,
  embeddedSctList,
  subjectPublicKeyInfo,
  summarizeCertificate,
  summarizeTbs,
  tbsFacts,
  tbsWithoutCtExtensions,
} from './summary.js';
export type { CertFacts, CertificateParts, CertSummary } from './summary.js';
export { parsePemCertificates } from './pem.js';
export { OID_CT_OCSP_SCT_LIST, sctListsFromOcspResponse } from './ocsp.js';
export type { OcspSctList } from './ocsp.js';
export { X509Error } from './errors.js';
export type { X509ErrorCode } from './errors.js';
