/**
 * @module inventory/certs
 * Bytes of a certificate file → the leaf certificates in it, as inventory records. Pure: no file
 * access. PEM (RFC 7468) or a single DER certificate; CA certificates are dropped, so a fullchain
 * file or a Traefik chain contributes its end-entity certificate only.
 */
import crypto from 'node:crypto';
import { parsePemCertificates, summarizeCertificate, X509Error } from '../x509/index.js';
import { InventoryFault } from './files.js';
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

function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/**
 * Summarises each DER certificate and keeps the leaves. A certificate is skipped as a CA when
 * basicConstraints says cA (RFC 5280 §4.2.1.9), and also when it is self-issued and names no host
 * or address: old v1 roots (still in system stores) carry no basicConstraints at all.
 */
export function leavesFromDer(
  ders: Uint8Array[],
  source: InventorySource,
  path: string,
): { leaves: LeafRecord[]; blockErrors: string[] } {
  const leaves: LeafRecord[] = [];
  const blockErrors: string[] = [];
  ders.forEach((der, i) => {
    let s;
    try {
      s = summarizeCertificate(der);
    } catch (err) {
      const msg = err instanceof X509Error ? `${err.code}: ${err.message}` : String(err);
      blockErrors.push(ders.length > 1 ? `certificate #${i + 1}: ${msg}` : msg);
      return;
    }
    if (s.isCa) return;
    if (s.subject === s.issuer && s.dnsNames.length === 0 && s.ipAddresses.length === 0) return;
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
export function leavesFromBytes(bytes: Uint8Array, source: InventorySource, path: string): LeafParse | null {
  const ders = certificatesInBytes(bytes);
  if (ders === null) return null;
  return { ...leavesFromDer(ders, source, path), certificateCount: ders.length };
}
