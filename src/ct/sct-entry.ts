/**
 * @module ct/sct-entry
 * Rebuilding the entry an SCT was issued for, from the certificate chain a client sees (RFC 6962
 * §3.2): a final certificate is its own `x509_entry`; a precertificate, or a certificate with
 * embedded SCTs, is a `precert_entry` of the issuer's key hash and the TBSCertificate without the
 * poison / SCT-list extension. This is the one place `ct` reads certificates, through `x509`.
 */
import { createHash } from 'node:crypto';
import {
  certificateParts,
  embeddedSctList,
  subjectPublicKeyInfo,
  tbsWithoutCtExtensions,
} from '../x509/index.js';
import { leafHash } from './merkle.js';
import { parseSctList, sctSignatureInput } from './sct.js';
import type { SignedEntry, Sct } from './sct.js';
import { writeU64 } from './tls.js';

const sha256 = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

/** RFC 6962 §3.1: the poison extension marks a precertificate. */
const POISON_OID_DER = Buffer.from('060a2b06010401d679020403', 'hex');

function hasPoison(certDer: Uint8Array): boolean {
  // The DER walker removes both CT extensions; comparing lengths tells whether one was there,
  // and the OID search tells which (a certificate never carries both).
  const tbs = certificateParts(certDer).tbs;
  return tbsWithoutCtExtensions(tbs).length !== tbs.length && Buffer.from(tbs).includes(POISON_OID_DER);
}

/**
 * The entry an SCT for `leaf` (issued by `issuer`) signs. `embedded`: the SCT came from the
 * certificate's own SCT-list extension, so the log saw the precertificate form.
 */
export function signedEntryForChain(leaf: Uint8Array, issuer: Uint8Array, embedded: boolean): SignedEntry {
  if (!embedded && !hasPoison(leaf)) return { type: 'x509', certificate: leaf };
  return {
    type: 'precert',
    issuerKeyHash: sha256(subjectPublicKeyInfo(issuer)),
    tbsCertificate: tbsWithoutCtExtensions(certificateParts(leaf).tbs),
  };
}

/** The SCTs embedded in a certificate (RFC 6962 §3.3), or an empty list. */
export function embeddedScts(certDer: Uint8Array): Sct[] {
  const list = embeddedSctList(certDer);
  return list ? parseSctList(list) : [];
}

/**
 * The MerkleTreeLeaf the log promised to add for this SCT (RFC 6962 §3.4): version, leaf type,
 * then the same timestamped entry the SCT signature covers. Its hash is what get-proof-by-hash
 * and a static-ct-api inclusion check look for.
 */
export function merkleTreeLeafForSct(sct: Sct, entry: SignedEntry): Uint8Array {
  const signed = sctSignatureInput(sct, entry);
  // signature input = version(1) signature_type(1) timestamp(8) entry_type(2) entry extensions;
  // MerkleTreeLeaf   = version(1) leaf_type(1)      timestamp(8) entry_type(2) entry extensions.
  const leaf = new Uint8Array(signed);
  leaf[0] = 0;
  leaf[1] = 0;
  writeU64(leaf, 2, sct.timestamp);
  return leaf;
}

export function leafHashForSct(sct: Sct, entry: SignedEntry): Uint8Array {
  return leafHash(merkleTreeLeafForSct(sct, entry));
}
