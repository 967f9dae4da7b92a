/**
 * @module inventory/certs
 * Bytes of a certificate file → the leaf certificates in it, as inventory records. Pure: no file
 * access. PEM (RFC 7468) or a single DER certificate; the issuers of a chain are dropped, so a
 * fullchain file or a Traefik chain contributes its end-entity certificate only (see `leavesFromDer`).
 */
import { sha256Hex } from '../hash.js';
import { parsePemCertificates, summarizeCertificate, X509Error } from '../x509/index.js';
import { InventoryFault } from './errors.js';
import type { InventoryCertificate, InventorySource } from './types.js';

const PEM_CERT = '-----BEGIN CERTIFICATE-----';
const PEM_ANY = '-----BEGIN ';

/** One leaf certificate found in a file, with the block index for messages. */
export type LeafRecord = InventoryCertificate;

/** What `leavesFromBytes` found: the leaves, and per-block failures that did not stop the rest. */
export interface LeafParse {
  leaves: LeafRecord[];
  /** Messages for blocks that did not parse (the other blocks of the file were still used). */
  blockErrors: string[];
  /** Number of certificates (leaf or CA) in the file. */
  certificateCount: number;
}

/**
 * Certificates in `bytes`: every PEM CERTIFICATE block when there is one; else, when the bytes
 * start like a DER SEQUENCE, the whole input as one DER certificate; else none (a key, a CSR,
 * DH parameters: other PEM labels are not certificates and not an error). Returns null when the
 * bytes are neither PEM nor DER at all (text, a placeholder): whether that is an error depends on
 * whether the caller expected a certificate there.
 *
 * Throws `InventoryFault` `INVENTORY_BAD_CERTIFICATE` when a PEM CERTIFICATE block is damaged
 * (RFC 7468 framing or base64), so that the caller records the file.
 */
export function certificatesInBytes(bytes: Uint8Array): Uint8Array[] | null {
  // latin1 keeps every byte as one char, so offsets in messages match the file.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes(PEM_CERT)) {
    try {
      return parsePemCertificates(text);
    } catch (err) {
      const msg = err instanceof X509Error ? `${err.code}: ${err.message}` : String(err);
      throw new InventoryFault('INVENTORY_BAD_CERTIFICATE', msg, { cause: err });
    }
  }
  if (text.includes(PEM_ANY)) return [];
  // X.690 §8.9: a DER Certificate is a constructed SEQUENCE, tag 0x30.
  if (bytes.length > 0 && bytes[0] === 0x30) return [bytes];
  return null;
}

/** How a file's certificates are to be read. */
export interface LeafOptions {
  /**
   * The file holds only a chain (certbot `chain.pem`, acme.sh `ca.cer`, lego `.issuer.crt`, a loose
   * `chain.pem`/`ca.pem`): every certificate in it is an issuer, none is kept.
   */
  chainOnly?: boolean;
  /** Told why each certificate was not kept (for debug logs). */
  onSkip?: (path: string, reason: string) => void;
}

/**
 * Summarises each DER certificate and keeps the ones this file holds *for a name*:
 *
 * - The first certificate of a file is the certificate the file is for (certbot `cert.pem`,
 *   `fullchain.pem`, a PEM folder's single certificate; RFC 8555 §7.4.2: the PEM chain starts with
 *   the end-entity certificate). It is kept even with basicConstraints cA=TRUE: `openssl req
 *   -x509` sets that on a self-signed server certificate (OpenSSL's default `v3_ca` section), and
 *   dropping it made the owner's own certificate look foreign. It is skipped only when it is a CA
 *   (or self-issued) *and* names no host: a root or intermediate saved on its own.
 * - A later certificate is an issuer of the chain when it is a CA (RFC 5280 §4.2.1.9) or
 *   self-issued without names (old v1 roots carry no basicConstraints); other later certificates
 *   are kept (a bundle of several leaves).
 * - Nothing of a chain-only file is kept.
 */
export function leavesFromDer(
  ders: Uint8Array[],
  source: InventorySource,
  path: string,
  options: LeafOptions = {},
): { leaves: LeafRecord[]; blockErrors: string[] } {
  const leaves: LeafRecord[] = [];
  const blockErrors: string[] = [];
  const skip = (i: number, why: string): void =>
    options.onSkip?.(path, ders.length > 1 ? `certificate #${i + 1}: ${why}` : why);
  ders.forEach((der, i) => {
    let s;
    try {
      s = summarizeCertificate(der);
    } catch (err) {
      const msg = err instanceof X509Error ? `${err.code}: ${err.message}` : String(err);
      blockErrors.push(ders.length > 1 ? `certificate #${i + 1}: ${msg}` : msg);
      return;
    }
    const namesHost = s.dnsNames.length > 0 || s.ipAddresses.length > 0;
    const selfIssued = s.subject === s.issuer;
    if (options.chainOnly) {
      skip(i, 'in a chain file: an issuer, not a certificate for a name');
      return;
    }
    if (i === 0 && (s.isCa || selfIssued) && !namesHost) {
      skip(
        i,
        `${s.isCa ? 'a CA certificate' : 'a self-issued certificate'} that names no host: an issuer, not a certificate for a name`,
      );
      return;
    }
    if (i > 0 && (s.isCa || (selfIssued && !namesHost))) {
      skip(i, 'an issuer in the chain after the leaf');
      return;
    }
    leaves.push({
      source,
      path,
      certSha256: sha256Hex(der),
      tbsSha256: s.tbsSha256,
      spkiSha256: s.spkiSha256,
      dnsNames: s.dnsNames,
      issuer: s.issuer,
      serial: s.serialHex,
      notBefore: s.notBefore,
      notAfter: s.notAfter,
    });
  });
  return { leaves, blockErrors };
}

/** `certificatesInBytes` then `leavesFromDer`; null and throws like `certificatesInBytes`. */
export function leavesFromBytes(
  bytes: Uint8Array,
  source: InventorySource,
  path: string,
  options: LeafOptions = {},
): LeafParse | null {
  const ders = certificatesInBytes(bytes);
  if (ders === null) return null;
  return { ...leavesFromDer(ders, source, path, options), certificateCount: ders.length };
}
