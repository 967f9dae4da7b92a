/**
 * @module probe/revocation/signature
 * Verifies the signature of an OCSP response, a CRL or a certificate with node:crypto: the signed
 * DER, the AlgorithmIdentifier, the signature value and the signer's SubjectPublicKeyInfo. An
 * algorithm we do not know is a failed verification (fail closed), with the reason.
 */
import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { AlgorithmId } from './asn1.js';

/** Signature algorithm OID → (hash for node:crypto, key family). RFC 4055, RFC 5758, RFC 8410. */
const ALGORITHMS: Record<string, { hash: string | null; family: 'rsa' | 'ec' | 'eddsa' }> = {
  '1.2.840.113549.1.1.5': { hash: 'sha1', family: 'rsa' },
  '1.2.840.113549.1.1.11': { hash: 'sha256', family: 'rsa' },
  '1.2.840.113549.1.1.12': { hash: 'sha384', family: 'rsa' },
  '1.2.840.113549.1.1.13': { hash: 'sha512', family: 'rsa' },
  '1.2.840.10045.4.1': { hash: 'sha1', family: 'ec' },
  '1.2.840.10045.4.3.2': { hash: 'sha256', family: 'ec' },
  '1.2.840.10045.4.3.3': { hash: 'sha384', family: 'ec' },
  '1.2.840.10045.4.3.4': { hash: 'sha512', family: 'ec' },
  '1.3.101.112': { hash: null, family: 'eddsa' },
  '1.3.101.113': { hash: null, family: 'eddsa' },
};

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

function keyFamily(key: KeyObject): 'rsa' | 'ec' | 'eddsa' | null {
  const t = key.asymmetricKeyType;
  if (t === 'rsa') return 'rsa';
  if (t === 'ec') return 'ec';
  if (t === 'ed25519' || t === 'ed448') return 'eddsa';
  return null;
}

/** True only when `signature` over `signed` verifies with `spki` under `algorithm`. Never throws. */
export function verifySignature(
  signed: Uint8Array,
  algorithm: AlgorithmId,
  signature: Uint8Array,
  spki: Uint8Array,
): SignatureCheck {
  const alg = ALGORITHMS[algorithm.oid];
  // DEVIATION: RSASSA-PSS (1.2.840.113549.1.1.10) is not verified; no public CA signs OCSP or
  // CRLs with it (CA/B Forum BR §7.1.3.2 permits it, nobody uses it) and refusing is fail-closed.
  if (!alg) return { valid: false, reason: `unsupported signature algorithm ${algorithm.oid}` };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  } catch (e) {
    return { valid: false, reason: `unusable public key: ${(e as Error).message}` };
  }
  if (keyFamily(key) !== alg.family)
    return {
      valid: false,
      reason: `a ${key.asymmetricKeyType ?? 'unknown'} key cannot make a ${algorithm.oid} signature`,
    };
  try {
    const ok = verify(alg.hash, signed, alg.family === 'ec' ? { key, dsaEncoding: 'der' } : key, signature);
    return ok ? { valid: true } : { valid: false, reason: 'the signature does not verify' };
  } catch (e) {
    return { valid: false, reason: `the signature cannot be verified: ${(e as Error).message}` };
  }
}
