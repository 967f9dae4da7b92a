/**
 * @module x509/tbs
 * Locates the parts of a Certificate and the fields of a TBSCertificate (RFC 5280 §4.1) as byte
 * offsets, checking the outer structure strictly: every field present in order with the right tag,
 * nothing after the last one. Field contents are read later, only for what a summary needs.
 */
import {
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_SEQUENCE,
  contextConstructed,
  contextPrimitive,
  expectTlv,
  newTlv,
  readTlv,
} from './der.js';
import { malformed } from './errors.js';

/** Offsets of a TBSCertificate's fields in the input. Ranges are [start, end). */
export interface TbsLayout {
  /** The TBSCertificate SEQUENCE element. */
  start: number;
  contentStart: number;
  end: number;
  /** Content octets of serialNumber. */
  serialStart: number;
  serialEnd: number;
  /** Whole issuer Name element. */
  issuerStart: number;
  issuerEnd: number;
  /** notBefore/notAfter: tag and content octets. */
  notBeforeTag: number;
  notBeforeStart: number;
  notBeforeEnd: number;
  notAfterTag: number;
  notAfterStart: number;
  notAfterEnd: number;
  /** Whole subject Name element. */
  subjectStart: number;
  subjectEnd: number;
  /** Whole SubjectPublicKeyInfo element. */
  spkiStart: number;
  spkiEnd: number;
  /** The `[3]` extensions element and the SEQUENCE inside it; -1 when absent (e.g. v1). */
  extsStart: number;
  extsSeqStart: number;
  extsEnd: number;
}

/**
 * Walks the TBSCertificate element at `start`, which must end exactly at `limit`.
 *
 *     TBSCertificate ::= SEQUENCE {
 *       version [0] EXPLICIT Version DEFAULT v1, serialNumber INTEGER, signature AlgorithmIdentifier,
 *       issuer Name, validity Validity, subject Name, subjectPublicKeyInfo SubjectPublicKeyInfo,
 *       issuerUniqueID [1] IMPLICIT UniqueIdentifier OPTIONAL,
 *       subjectUniqueID [2] IMPLICIT UniqueIdentifier OPTIONAL,
 *       extensions [3] EXPLICIT Extensions OPTIONAL }
 *
 * The version value is not checked: an explicit v1 (a DER DEFAULT violation) and extensions in a
 * v1/v2 certificate occur in old CT entries and change nothing in a summary.
 */
export function walkTbs(buf: Uint8Array, start: number, limit: number): TbsLayout {
  const what = 'TBSCertificate';
  const t = newTlv();
  const tbs = expectTlv(buf, start, limit, TAG_SEQUENCE, newTlv(), what);
  if (tbs.end !== limit) malformed(what, tbs.end, 'extra data after TBSCertificate');
  let p = tbs.contentStart;
  readTlv(buf, p, tbs.end, t, 'version or serialNumber');
  if (t.tag === contextConstructed(0)) {
    const version = expectTlv(buf, t.contentStart, t.end, TAG_INTEGER, newTlv(), 'version');
    if (version.end !== t.end) malformed('version', version.end, 'extra data in [0]');
    p = t.end;
  }
  expectTlv(buf, p, tbs.end, TAG_INTEGER, t, 'serialNumber');
  // X.690 §8.3.1: an INTEGER has at least one content octet. (Non-minimal encodings are accepted:
  // CT logs hold certificates with padded serials, and the value is only displayed.)
  if (t.contentStart === t.end) malformed('serialNumber', t.start, 'empty INTEGER');
  const serialStart = t.contentStart;
  const serialEnd = t.end;
  expectTlv(buf, t.end, tbs.end, TAG_SEQUENCE, t, 'signature');
  expectTlv(buf, t.end, tbs.end, TAG_SEQUENCE, t, 'issuer');
  const issuerStart = t.start;
  const issuerEnd = t.end;
  expectTlv(buf, t.end, tbs.end, TAG_SEQUENCE, t, 'validity');
  const validityEnd = t.end;
  const time = newTlv();
  readTlv(buf, t.contentStart, validityEnd, time, 'notBefore');
  const notBeforeTag = time.tag;
  const notBeforeStart = time.contentStart;
  const notBeforeEnd = time.end;
  readTlv(buf, time.end, validityEnd, time, 'notAfter');
  if (time.end !== validityEnd) malformed('validity', time.end, 'extra data after notAfter');
  const notAfterTag = time.tag;
  const notAfterStart = time.contentStart;
  const notAfterEnd = time.end;
  expectTlv(buf, validityEnd, tbs.end, TAG_SEQUENCE, t, 'subject');
  const subjectStart = t.start;
  const subjectEnd = t.end;
  expectTlv(buf, t.end, tbs.end, TAG_SEQUENCE, t, 'subjectPublicKeyInfo');
  const spkiStart = t.start;
  const spkiEnd = t.end;
  p = t.end;
  if (p < tbs.end) {
    readTlv(buf, p, tbs.end, t, 'field after subjectPublicKeyInfo');
    if (t.tag === contextPrimitive(1)) p = t.end;
  }
  if (p < tbs.end) {
    readTlv(buf, p, tbs.end, t, 'field after issuerUniqueID');
    if (t.tag === contextPrimitive(2)) p = t.end;
  }
  let extsStart = -1;
  let extsSeqStart = -1;
  let extsEnd = -1;
  if (p < tbs.end) {
    expectTlv(buf, p, tbs.end, contextConstructed(3), t, 'extensions');
    extsStart = t.start;
    extsSeqStart = t.contentStart;
    extsEnd = t.end;
    if (t.end !== tbs.end) malformed(what, t.end, 'extra data after extensions');
  }
  return {
    start: tbs.start,
    contentStart: tbs.contentStart,
    end: tbs.end,
    serialStart,
    serialEnd,
    issuerStart,
    issuerEnd,
    notBeforeTag,
    notBeforeStart,
    notBeforeEnd,
    notAfterTag,
    notAfterStart,
    notAfterEnd,
    subjectStart,
    subjectEnd,
    spkiStart,
    spkiEnd,
    extsStart,
    extsSeqStart,
    extsEnd,
  };
}

/** Offsets of the three parts of a Certificate (whole elements; the signature as its bits). */
export interface CertificateLayout {
  tbsStart: number;
  tbsEnd: number;
  sigAlgStart: number;
  sigAlgEnd: number;
  /** The signature octets: BIT STRING content after the unused-bits octet. */
  signatureStart: number;
  signatureEnd: number;
  /** The BIT STRING's unused-bits count (0–7); 0 for every signature algorithm in use. */
  signatureUnusedBits: number;
}

/**
 * Checks the content octets `buf[start, end)` of a primitive BIT STRING and returns its
 * unused-bits count.
 *
 * - X.690 §8.6.2.2: the initial octet is the number of unused bits in the final octet, 0 to 7;
 *   any of 1–7 is valid. RFC 5280 signatures are octet strings in practice, but nothing in §4.1.1.3
 *   or X.690 makes a certificate with another count malformed, and OpenSSL, Go and Python
 *   `cryptography` read it; refusing it would hide the certificate's names from a monitor.
 * - §8.6.2.3: an empty bit string is the initial octet 0 alone; a non-zero count needs a final
 *   octet to apply to (Go's encoding/asn1 and rust-asn1 refuse it too; OpenSSL does not check).
 * - §11.2.1 (DER): "each unused bit in the final octet of the encoding of a bit string value shall
 *   be set to zero". Refused like Go and rust-asn1 do (OpenSSL clears them silently), since a
 *   non-zero padding bit makes two encodings of one value, i.e. not DER.
 */
export function readBitStringUnusedBits(buf: Uint8Array, start: number, end: number, what: string): number {
  if (start === end) malformed(what, start, 'BIT STRING without its unused-bits octet (X.690 §8.6.2.1)');
  const unused = buf[start] as number;
  if (unused > 7)
    malformed(what, start, `BIT STRING unused-bits count ${unused} is above 7 (X.690 §8.6.2.2)`);
  if (unused !== 0) {
    if (start + 1 === end) {
      malformed(what, start, 'empty BIT STRING with a non-zero unused-bits count (X.690 §8.6.2.3)');
    }
    if (((buf[end - 1] as number) & ((1 << unused) - 1)) !== 0) {
      malformed(what, end - 1, 'BIT STRING unused bits are not zero (DER, X.690 §11.2.1)');
    }
  }
  return unused;
}

/**
 * `Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier,
 * signatureValue BIT STRING }` (RFC 5280 §4.1.1), filling the whole input.
 */
export function locateCertificate(buf: Uint8Array): CertificateLayout {
  const what = 'Certificate';
  const cert = expectTlv(buf, 0, buf.length, TAG_SEQUENCE, newTlv(), what);
  if (cert.end !== buf.length) malformed(what, cert.end, 'extra data after Certificate');
  const t = expectTlv(buf, cert.contentStart, cert.end, TAG_SEQUENCE, newTlv(), 'tbsCertificate');
  const tbsStart = t.start;
  const tbsEnd = t.end;
  expectTlv(buf, t.end, cert.end, TAG_SEQUENCE, t, 'signatureAlgorithm');
  const sigAlgStart = t.start;
  const sigAlgEnd = t.end;
  expectTlv(buf, t.end, cert.end, TAG_BIT_STRING, t, 'signatureValue');
  if (t.end !== cert.end) malformed(what, t.end, 'extra data after signatureValue');
  const unusedBits = readBitStringUnusedBits(buf, t.contentStart, t.end, 'signatureValue');
  return {
    tbsStart,
    tbsEnd,
    sigAlgStart,
    sigAlgEnd,
    signatureStart: t.contentStart + 1,
    signatureEnd: t.end,
    signatureUnusedBits: unusedBits,
  };
}
