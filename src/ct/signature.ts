/**
 * @module ct/signature
 * RFC 6962 §2.1.4 signatures: the TLS `DigitallySigned` wrapper (RFC 5246 §4.7), log public keys
 * and log IDs (§3.2), and verification with `node:crypto`. RFC 6962 allows exactly two algorithms:
 * ECDSA over NIST P-256 and RSA (≥ 2048 bits) PKCS#1 v1.5, both with SHA-256; anything else is
 * refused, as is a signature whose declared algorithm does not match the key.
 */
import { CtError } from './errors.js';
import crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { DigitallySigned } from './types.js';
import { TlsDecodeError, TlsReader } from './tls.js';
import type { SignatureErrorCode } from './errors.js';

/** RFC 5246 §7.4.1.4.1 `HashAlgorithm.sha256`. */
export const HASH_SHA256 = 4;
/** RFC 5246 §7.4.1.4.1 `SignatureAlgorithm.rsa`. */
export const SIG_RSA = 1;
/** RFC 5246 §7.4.1.4.1 `SignatureAlgorithm.ecdsa`. */
export const SIG_ECDSA = 3;

export class SignatureError extends CtError<SignatureErrorCode> {}

/**
 * Reads a `DigitallySigned` embedded in a larger structure (RFC 5246 §4.7 as profiled by RFC 6962
 * §2.1.4): `HashAlgorithm hash (u8); SignatureAlgorithm signature (u8); opaque signature<0..2^16-1>`.
 * The algorithms are returned as read; `verifyDigitallySigned` decides whether they are allowed.
 */
export function readDigitallySigned(r: TlsReader): DigitallySigned {
  const hashAlgorithm = r.u8('hash algorithm');
  const signatureAlgorithm = r.u8('signature algorithm');
  const signature = r.opaque(2, 'signature');
  return { hashAlgorithm, signatureAlgorithm, signature };
}

/** Parses a stand-alone `DigitallySigned`, refusing trailing bytes. Throws `SIG_MALFORMED`. */
export function parseDigitallySigned(bytes: Uint8Array): DigitallySigned {
  try {
    const r = new TlsReader(bytes, 'DigitallySigned');
    const ds = readDigitallySigned(r);
    r.end();
    return ds;
  } catch (err) {
    if (err instanceof TlsDecodeError) throw new SignatureError('SIG_MALFORMED', err.message, { cause: err });
    throw err;
  }
}

/** TLS encoding of a `DigitallySigned` (the inverse of `parseDigitallySigned`). */
export function encodeDigitallySigned(ds: DigitallySigned): Uint8Array {
  if (ds.signature.length > 0xffff) throw new RangeError('signature longer than 2^16-1 bytes');
  const out = new Uint8Array(4 + ds.signature.length);
  out[0] = ds.hashAlgorithm;
  out[1] = ds.signatureAlgorithm;
  out[2] = ds.signature.length >> 8;
  out[3] = ds.signature.length & 0xff;
  out.set(ds.signature, 4);
  return out;
}

/**
 * Imports a log key from its DER SubjectPublicKeyInfo, as log lists carry it. Throws `SIG_BAD_KEY`
 * for bytes that are not a key (the Racketeer entry of `loglist3.json`), `SIG_UNSUPPORTED_KEY` for
 * a key RFC 6962 §2.1.4 does not allow ("NIST P-256 … or RSA … at least 2048 bits").
 */
export function publicKeyFromSpki(der: Uint8Array): KeyObject {
  let key: KeyObject;
  try {
    key = crypto.createPublicKey({
      key: Buffer.from(der.buffer, der.byteOffset, der.length),
      format: 'der',
      type: 'spki',
    });
  } catch (err) {
    throw new SignatureError('SIG_BAD_KEY', 'not a DER SubjectPublicKeyInfo', { cause: err });
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec' && details.namedCurve === 'prime256v1') return key;
  if (key.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= 2048) return key;
  throw new SignatureError(
    'SIG_UNSUPPORTED_KEY',
    `RFC 6962 logs use P-256 or RSA >= 2048, not ${key.asymmetricKeyType ?? '?'} ${details.namedCurve ?? details.modulusLength ?? ''}`,
  );
}

/** RFC 6962 §3.2: a log's ID is the SHA-256 of its DER SubjectPublicKeyInfo. */
export function logIdOf(spkiDer: Uint8Array): Uint8Array {
  return crypto.createHash('sha256').update(spkiDer).digest();
}

/**
 * Verifies `ds` over `data` (the exact TLS bytes of the signed structure) with a log key from
 * `publicKeyFromSpki`. Returns nothing on success and throws `SignatureError` otherwise:
 * `SIG_UNSUPPORTED_ALGORITHM`, `SIG_KEY_MISMATCH` or `SIG_INVALID`.
 */
export function verifyDigitallySigned(key: KeyObject, data: Uint8Array, ds: DigitallySigned): void {
  if (
    ds.hashAlgorithm !== HASH_SHA256 ||
    (ds.signatureAlgorithm !== SIG_ECDSA && ds.signatureAlgorithm !== SIG_RSA)
  ) {
    throw new SignatureError(
      'SIG_UNSUPPORTED_ALGORITHM',
      `hash ${ds.hashAlgorithm} / signature ${ds.signatureAlgorithm} is not sha256 with ecdsa or rsa (RFC 6962 §2.1.4)`,
    );
  }
  const keyType = key.asymmetricKeyType;
  const wanted = ds.signatureAlgorithm === SIG_ECDSA ? 'ec' : 'rsa';
  if (keyType !== wanted) {
    throw new SignatureError(
      'SIG_KEY_MISMATCH',
      `signature algorithm ${wanted} but the key is ${keyType ?? '?'}`,
    );
  }
  let ok: boolean;
  try {
    ok =
      wanted === 'ec'
        ? // RFC 6962 §2.1.4: the ECDSA signature is the DER `Ecdsa-Sig-Value`, not r||s.
          crypto.verify('sha256', data, { key, dsaEncoding: 'der' }, ds.signature)
        : crypto.verify('sha256', data, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, ds.signature);
  } catch (err) {
    // OpenSSL throws for some garbage signatures (bad DER); that is still just an invalid signature.
    throw new SignatureError('SIG_INVALID', 'signature does not verify', { cause: err });
  }
  if (!ok) throw new SignatureError('SIG_INVALID', 'signature does not verify');
}
