/**
 * @module x509/key
 * A short label for a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): `rsa-2048`, `ecdsa-p256`,
 * `ed25519`, … or `unknown:<algorithm OID>`, so that a monitor can flag weak or unexpected keys
 * without a crypto library.
 */
import {
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_OID,
  TAG_SEQUENCE,
  bytesEqual,
  expectTlv,
  newTlv,
  oid,
  oidToString,
  readTlv,
} from './der.js';
import { X509Error } from './errors.js';

const OID_RSA = oid('1.2.840.113549.1.1.1'); // RFC 8017 rsaEncryption
const OID_RSA_PSS = oid('1.2.840.113549.1.1.10'); // RFC 4055 §3.1 id-RSASSA-PSS
const OID_EC = oid('1.2.840.10045.2.1'); // RFC 5480 §2.1.1 id-ecPublicKey
const OID_ED25519 = oid('1.3.101.112'); // RFC 8410 §3
const OID_ED448 = oid('1.3.101.113'); // RFC 8410 §3

/** RFC 5480 §2.1.1.1 namedCurve OIDs. */
const CURVES: [Uint8Array, string][] = [
  [oid('1.2.840.10045.3.1.7'), 'ecdsa-p256'],
  [oid('1.3.132.0.34'), 'ecdsa-p384'],
  [oid('1.3.132.0.35'), 'ecdsa-p521'],
];

/**
 * Bit length of the RSA modulus in the subjectPublicKey BIT STRING content `buf[start, end)`
 * (RFC 8017 §A.1.1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`),
 * or -1 when that structure does not parse or the modulus is not positive.
 */
function rsaModulusBits(buf: Uint8Array, start: number, end: number): number {
  // The first BIT STRING content octet counts unused bits; a DER key has none.
  if (start >= end || buf[start] !== 0) return -1;
  try {
    const seq = expectTlv(buf, start + 1, end, TAG_SEQUENCE, newTlv(), 'RSAPublicKey');
    if (seq.end !== end) return -1;
    const n = expectTlv(buf, seq.contentStart, seq.end, TAG_INTEGER, newTlv(), 'RSA modulus');
    let p = n.contentStart;
    if (p >= n.end || (buf[p] as number) >= 0x80) return -1; // empty or negative
    while (p < n.end && buf[p] === 0) p++;
    if (p === n.end) return -1; // zero
    const top = buf[p] as number;
    return (n.end - p - 1) * 8 + (32 - Math.clz32(top));
  } catch (err) {
    if (err instanceof X509Error) return -1;
    throw err;
  }
}

/**
 * Labels the SPKI element `buf[start, end)` (the whole SEQUENCE TLV). The algorithm structure must
 * parse (it is part of the certificate); a key whose inner encoding is broken is labelled
 * `rsa-invalid` rather than failing the whole certificate, since the summary only describes it.
 * An EC key with a curve outside P-256/384/521 is `ecdsa-<curve OID>`, with explicit parameters
 * (forbidden by RFC 5480 §2.1.1) `ecdsa-explicit`, and without parameters `ecdsa-unknown`.
 */
export function keyType(buf: Uint8Array, start: number, end: number): string {
  const what = 'SubjectPublicKeyInfo';
  const spki = expectTlv(buf, start, end, TAG_SEQUENCE, newTlv(), what);
  const alg = expectTlv(buf, spki.contentStart, spki.end, TAG_SEQUENCE, newTlv(), what);
  const algOid = expectTlv(buf, alg.contentStart, alg.end, TAG_OID, newTlv(), what);
  const key = expectTlv(buf, alg.end, spki.end, TAG_BIT_STRING, newTlv(), what);
  const o0 = algOid.contentStart;
  const o1 = algOid.end;
  if (bytesEqual(buf, o0, o1, OID_RSA) || bytesEqual(buf, o0, o1, OID_RSA_PSS)) {
    const bits = rsaModulusBits(buf, key.contentStart, key.end);
    const prefix = bytesEqual(buf, o0, o1, OID_RSA) ? 'rsa' : 'rsa-pss';
    return bits < 0 ? `${prefix}-invalid` : `${prefix}-${bits}`;
  }
  if (bytesEqual(buf, o0, o1, OID_EC)) {
    if (algOid.end === alg.end) return 'ecdsa-unknown';
    const params = readTlv(buf, algOid.end, alg.end, newTlv(), what);
    if (params.tag === TAG_SEQUENCE) return 'ecdsa-explicit';
    if (params.tag !== TAG_OID) return 'ecdsa-unknown';
    for (const [curve, label] of CURVES) {
      if (bytesEqual(buf, params.contentStart, params.end, curve)) return label;
    }
    return `ecdsa-${oidToString(buf, params.contentStart, params.end, what)}`;
  }
  if (bytesEqual(buf, o0, o1, OID_ED25519)) return 'ed25519';
  if (bytesEqual(buf, o0, o1, OID_ED448)) return 'ed448';
  return `unknown:${oidToString(buf, o0, o1, what)}`;
}
