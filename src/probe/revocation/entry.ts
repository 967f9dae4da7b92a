/**
 * @module probe/revocation/entry
 * The light door to the revocation check, for `probe/endpoint`: it decides without pkijs whether
 * the heavy checker (`check.ts`, pkijs ≈ 0.1 s of start-up) is needed at all. A leaf that names no
 * OCSP responder, no CRL distribution point and no TLS Feature, served without a staple, has
 * nothing to check: most private-CA endpoints, which then pay nothing for revocation.
 */
import { sanitizeText } from '../../sanitize.js';
import { summarizeCertificate } from '../../x509/index.js';
import type { Finding } from '../types.js';
import type { RevocationInput } from './check.js';

/**
 * DER encodings (tag 06, length, content) of the extension OIDs that make a certificate worth
 * parsing: authorityInfoAccess 1.3.6.1.5.5.7.1.1 (RFC 5280 §4.2.2.1), cRLDistributionPoints
 * 2.5.29.31 (§4.2.1.13), id-pe-tlsfeature 1.3.6.1.5.5.7.1.24 (RFC 7633 §6). DER has one encoding
 * per OID, so an extension that is present always shows these bytes; a chance match elsewhere
 * only costs the full parse.
 */
const MARKERS = [
  Buffer.from('06082b06010505070101', 'hex'),
  Buffer.from('0603551d1f', 'hex'),
  Buffer.from('06082b06010505070118', 'hex'),
];

/** True when `der` may carry revocation information (see MARKERS). */
export function mayCarryRevocationInfo(der: Uint8Array): boolean {
  const b = Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  return MARKERS.some((m) => b.includes(m));
}

/**
 * Revocation findings for one connection (as `checkRevocation` in check.ts), loading the checker
 * only when there is something to check. Never throws.
 */
export async function revocationFindingsFor(input: RevocationInput): Promise<Finding[]> {
  const leaf = input.chain[0];
  if (input.settings.mode === 'off' || !leaf) return [];
  if (input.settings.mode === 'leaf' && input.staple === null && !mayCarryRevocationInfo(leaf)) {
    let label = '';
    try {
      const s = summarizeCertificate(leaf);
      label = ` ${sanitizeText(s.subject, { maxLength: 200 })} (serial ${s.serialHex})`;
    } catch {
      // the full checker reports an unparsable certificate; here the label is only decoration
    }
    return [
      {
        id: 'revocation-unknown',
        severity: 'info',
        message: `revocation status of certificate${label} unknown: it names no OCSP responder and no CRL distribution point`,
        address: input.address,
      },
    ];
  }
  const { checkRevocation } = await import('./check.js');
  return checkRevocation(input);
}
