/**
 * @module ct/sct
 * Signed Certificate Timestamps (RFC 6962 §3.2–3.3): parsing an SCT and an SCT list — the same
 * `SignedCertificateTimestampList` arrives in the certificate extension, in a stapled OCSP
 * response extension and in the TLS extension — and verifying an SCT's signature against the
 * log's key over the entry it claims to have logged.
 */
import type { KeyObject } from 'node:crypto';
import { readDigitallySigned, SignatureError, verifyDigitallySigned } from './signature.js';
import { TlsReader, writeU64 } from './tls.js';
import type { DigitallySigned } from './types.js';

export interface Sct {
  /** RFC 6962 §3.2: v1 = 0. Other versions are kept so callers can report them, never verified. */
  version: number;
  logId: Uint8Array;
  /** Milliseconds since the epoch. */
  timestamp: number;
  extensions: Uint8Array;
  signature: DigitallySigned;
  /** The serialized SCT as received. */
  raw: Uint8Array;
}

/** What the log signed: the certificate itself, or the precertificate's issuer key hash and TBS. */
export type SignedEntry =
  | { type: 'x509'; certificate: Uint8Array }
  | { type: 'precert'; issuerKeyHash: Uint8Array; tbsCertificate: Uint8Array };

/** Parses one serialized SCT; strict: bytes left over are an error (certspotter `cttypes/sct.go`). */
export function parseSct(bytes: Uint8Array): Sct {
  const r = new TlsReader(bytes, 'SignedCertificateTimestamp');
  const version = r.u8('sct_version');
  if (version !== 0) {
    // RFC 6962 §3.2 defines only v1; the rest of the structure is unknown for other versions.
    return {
      version,
      logId: new Uint8Array(0),
      timestamp: 0,
      extensions: new Uint8Array(0),
      signature: { hashAlgorithm: 0, signatureAlgorithm: 0, signature: new Uint8Array(0) },
      raw: bytes,
    };
  }
  const logId = r.fixed(32, 'log_id');
  const timestamp = r.u64('timestamp');
  const extensions = r.opaque(2, 'extensions');
  const signature = readDigitallySigned(r);
  r.end();
  return { version, logId, timestamp, extensions, signature, raw: bytes };
}

/** RFC 6962 §3.3: `SignedCertificateTimestampList` = SerializedSCT sct_list<1..2^16-1>. */
export function parseSctList(bytes: Uint8Array): Sct[] {
  const r = new TlsReader(bytes, 'SignedCertificateTimestampList');
  const list = r.vector(2, 'sct_list', 1);
  r.end();
  const out: Sct[] = [];
  while (list.remaining > 0) out.push(parseSct(list.opaque(2, 'SerializedSCT', 1)));
  return out;
}

/**
 * RFC 6962 §3.2 `digitally-signed struct { Version sct_version; SignatureType signature_type =
 * certificate_timestamp; uint64 timestamp; LogEntryType entry_type; select(entry_type) {…};
 * CtExtensions extensions; }` — the exact bytes the log's signature covers.
 */
export function sctSignatureInput(sct: Sct, entry: SignedEntry): Uint8Array {
  const body = entry.type === 'x509' ? entry.certificate : entry.tbsCertificate;
  const entryLength = (entry.type === 'precert' ? 32 : 0) + 3 + body.length;
  const out = new Uint8Array(1 + 1 + 8 + 2 + entryLength + 2 + sct.extensions.length);
  let p = 0;
  out[p++] = sct.version;
  out[p++] = 0; // signature_type certificate_timestamp
  writeU64(out, p, sct.timestamp);
  p += 8;
  out[p++] = 0;
  out[p++] = entry.type === 'x509' ? 0 : 1;
  if (entry.type === 'precert') {
    out.set(entry.issuerKeyHash, p);
    p += 32;
  }
  out[p++] = (body.length >>> 16) & 0xff;
  out[p++] = (body.length >>> 8) & 0xff;
  out[p++] = body.length & 0xff;
  out.set(body, p);
  p += body.length;
  out[p++] = (sct.extensions.length >>> 8) & 0xff;
  out[p++] = sct.extensions.length & 0xff;
  out.set(sct.extensions, p);
  return out;
}

/** Throws (a `SignatureError`) unless the log's key signed this SCT over this entry. */
export function verifySct(sct: Sct, logKey: KeyObject, entry: SignedEntry): void {
  // RFC 6962 §3.2: v1 (0) is the only version; another cannot be verified, so it is not signed by us.
  if (sct.version !== 0) throw new SignatureError('SIG_MALFORMED', `unsupported SCT version ${sct.version}`);
  verifyDigitallySigned(logKey, sctSignatureInput(sct, entry), sct.signature);
}
