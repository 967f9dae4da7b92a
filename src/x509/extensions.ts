/**
 * @module x509/extensions
 * One pass over a TBSCertificate's extensions (RFC 5280 §4.2) that records where the few a CT
 * monitor needs are: subjectAltName (§4.2.1.6), basicConstraints (§4.2.1.9), the RFC 6962 §3.1
 * precertificate poison and the §3.3 embedded SCT list. Everything else is skipped unread.
 */
import {
  TAG_BOOLEAN,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  bytesEqual,
  expectTlv,
  latin1AsciiLower,
  newTlv,
  oid,
  readTlv,
} from './der.js';
import { malformed } from './errors.js';
import { formatIp } from './ip.js';

const OID_SAN = oid('2.5.29.17');
const OID_BASIC_CONSTRAINTS = oid('2.5.29.19');
/** RFC 6962 §3.1: critical extension with an ASN.1 NULL value marking a precertificate. */
export const OID_CT_POISON = oid('1.3.6.1.4.1.11129.2.4.3');
/** RFC 6962 §3.3: the SignedCertificateTimestampList, doubly wrapped in OCTET STRINGs. */
export const OID_CT_SCT_LIST = oid('1.3.6.1.4.1.11129.2.4.2');

/** Offsets of the extensions found by `scanExtensions`; -1 where absent. */
export interface ExtensionScan {
  /** First content octet of the Extensions SEQUENCE (the first Extension). */
  listStart: number;
  /** Content range of the subjectAltName extnValue OCTET STRING (a GeneralNames SEQUENCE). */
  sanStart: number;
  sanEnd: number;
  /**
   * Content ranges (start, end pairs) of further subjectAltName extensions, which RFC 5280 §4.2
   * forbids but OpenSSL reads; null when there is one SAN or none (every real certificate).
   */
  sanMore: number[] | null;
  /** Whole Extension TLV range of the poison, for removal. */
  poisonStart: number;
  poisonEnd: number;
  /** Whole Extension TLV range of the SCT list, for removal. */
  sctStart: number;
  sctEnd: number;
  /** Content range of the SCT list extnValue OCTET STRING. */
  sctValueStart: number;
  sctValueEnd: number;
  /** basicConstraints cA (RFC 5280 §4.2.1.9), false when the extension is absent. */
  isCa: boolean;
}

export function emptyScan(): ExtensionScan {
  return {
    listStart: -1,
    sanStart: -1,
    sanEnd: -1,
    sanMore: null,
    poisonStart: -1,
    poisonEnd: -1,
    sctStart: -1,
    sctEnd: -1,
    sctValueStart: -1,
    sctValueEnd: -1,
    isCa: false,
  };
}

/**
 * Walks `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension` (the SEQUENCE TLV at `start`, ending
 * at `end`) with `Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue
 * OCTET STRING }`.
 *
 * RFC 5280 §4.2: "A certificate MUST NOT include more than one instance of a particular extension."
 * Certificates that break this exist (cryptography-vectors' custom/two_basic_constraints.pem), and
 * OpenSSL reads them, so refusing one would hide its names from a monitor. Parsers that pick
 * different instances are how names get hidden (Node's `subjectAltName` shows only the first SAN;
 * Go refuses the certificate), so this walker hides none: every SAN instance is kept (`sanMore`)
 * and their names are all listed, and the certificate is a CA when any basicConstraints says so.
 * A second poison or SCT list stays malformed: the RFC 6962 §3.2 TBS rewrite removes exactly one
 * of each, and no log produces such a precertificate. Duplicates of other extensions are not read.
 */
export function scanExtensions(
  buf: Uint8Array,
  start: number,
  end: number,
  out: ExtensionScan,
): ExtensionScan {
  const what = 'extensions';
  const seq = expectTlv(buf, start, end, TAG_SEQUENCE, newTlv(), what);
  if (seq.end !== end) malformed(what, seq.end, 'extra data after the Extensions SEQUENCE');
  // DEVIATION: RFC 5280 §4.1 says SIZE (1..MAX), but an empty list means exactly what an absent
  // one means (no ambiguity to exploit), and OpenSSL reads it: refusing it hid the names.
  out.listStart = seq.contentStart;
  const ext = newTlv();
  const id = newTlv();
  const field = newTlv();
  for (let p = seq.contentStart; p < seq.end; p = ext.end) {
    expectTlv(buf, p, seq.end, TAG_SEQUENCE, ext, 'Extension');
    expectTlv(buf, ext.contentStart, ext.end, TAG_OID, id, 'extnID');
    readTlv(buf, id.end, ext.end, field, 'Extension');
    if (field.tag === TAG_BOOLEAN) {
      if (field.end - field.contentStart !== 1)
        malformed('critical', field.start, 'BOOLEAN must be one octet');
      readTlv(buf, field.end, ext.end, field, 'extnValue');
    }
    if (field.tag !== TAG_OCTET_STRING) malformed('extnValue', field.start, 'expected OCTET STRING');
    if (field.end !== ext.end) malformed('Extension', field.end, 'extra data after extnValue');
    const o0 = id.contentStart;
    const o1 = id.end;
    if (bytesEqual(buf, o0, o1, OID_SAN)) {
      const names = expectTlv(buf, field.contentStart, field.end, TAG_SEQUENCE, newTlv(), 'subjectAltName');
      if (names.end !== field.end) malformed('subjectAltName', names.end, 'extra data after GeneralNames');
      if (out.sanStart < 0) {
        out.sanStart = names.contentStart;
        out.sanEnd = names.end;
      } else (out.sanMore ??= []).push(names.contentStart, names.end);
    } else if (bytesEqual(buf, o0, o1, OID_BASIC_CONSTRAINTS)) {
      if (readCa(buf, field.contentStart, field.end)) out.isCa = true;
    } else if (bytesEqual(buf, o0, o1, OID_CT_POISON)) {
      if (out.poisonStart >= 0) malformed('CT poison', ext.start, 'duplicate extension (RFC 5280 §4.2)');
      out.poisonStart = ext.start;
      out.poisonEnd = ext.end;
    } else if (bytesEqual(buf, o0, o1, OID_CT_SCT_LIST)) {
      if (out.sctStart >= 0) malformed('SCT list', ext.start, 'duplicate extension (RFC 5280 §4.2)');
      out.sctStart = ext.start;
      out.sctEnd = ext.end;
      out.sctValueStart = field.contentStart;
      out.sctValueEnd = field.end;
    }
  }
  return out;
}

/**
 * RFC 5280 §4.2.1.9 `BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint
 * INTEGER (0..MAX) OPTIONAL }`. Any non-zero BOOLEAN octet counts as TRUE (BER, X.690 §8.2.2):
 * DER demands 0xff, but reading a sloppy TRUE as FALSE would hide a CA certificate.
 */
function readCa(buf: Uint8Array, start: number, end: number): boolean {
  const seq = expectTlv(buf, start, end, TAG_SEQUENCE, newTlv(), 'basicConstraints');
  if (seq.end !== end) malformed('basicConstraints', seq.end, 'extra data after BasicConstraints');
  if (seq.contentStart === seq.end) return false;
  const first = readTlv(buf, seq.contentStart, seq.end, newTlv(), 'basicConstraints');
  if (first.tag !== TAG_BOOLEAN) return false;
  if (first.end - first.contentStart !== 1)
    malformed('basicConstraints', first.start, 'BOOLEAN must be one octet');
  return buf[first.contentStart] !== 0;
}

/** GeneralName tags (RFC 5280 §4.2.1.6, IMPLICIT context-specific). */
const GN_DNS_NAME = 0x82;
const GN_IP_ADDRESS = 0x87;

/**
 * Collects the dNSName (ASCII lower-cased, one char per byte) and iPAddress entries of a
 * GeneralNames content range, in order. The other alternatives (otherName, rfc822Name, x400Address, directoryName, ediPartyName,
 * URI, registeredID) are skipped; every element must still be a well-formed context-specific TLV.
 * An iPAddress that is neither 4 nor 16 octets is skipped (it names no host).
 */
export function readSanNames(
  buf: Uint8Array,
  start: number,
  end: number,
  dnsNames: string[],
  ipAddresses: string[],
): void {
  const gn = newTlv();
  for (let p = start; p < end; p = gn.end) {
    readTlv(buf, p, end, gn, 'GeneralName');
    if ((gn.tag & 0xc0) !== 0x80 || gn.tag > 0xff) {
      malformed('GeneralName', p, `expected a context-specific tag, found 0x${gn.tag.toString(16)}`);
    }
    if (gn.tag === GN_DNS_NAME) {
      // IA5String; a stray high byte (raw UTF-8) is kept as its Latin-1 character instead of
      // failing the certificate, and only A–Z are lower-cased (see latin1AsciiLower).
      dnsNames.push(latin1AsciiLower(buf, gn.contentStart, gn.end));
    } else if (gn.tag === GN_IP_ADDRESS) {
      const ip = formatIp(buf, gn.contentStart, gn.end);
      if (ip !== null) ipAddresses.push(ip);
    }
  }
}
