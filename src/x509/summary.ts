/**
 * @module x509/summary
 * The public walker entry points: what a CT monitor needs to know about one certificate or
 * precertificate TBS, read straight from the DER with views and offsets (see `der.ts` for why
 * this does not use `crypto.X509Certificate`).
 *
 * Every function throws only `X509Error` (`guarded`); malformed input is an ordinary event.
 */
import { sha256Hex } from '../hash.js';
import { TAG_OCTET_STRING, expectTlv, hex, newTlv } from './der.js';
import { guarded, malformed } from './errors.js';
import { emptyScan, readSanNames, scanExtensions } from './extensions.js';
import type { ExtensionScan } from './extensions.js';
import { keyType } from './key.js';
import { formatIssuer, formatName } from './name.js';
import { buildTbsWithoutCt, hasCtExtensions } from './tbs-rewrite.js';
import { locateCertificate, walkTbs } from './tbs.js';
import type { TbsLayout } from './tbs.js';
import { timeToIso } from './time.js';

/** What a CT monitor keeps about a certificate. */
export interface CertSummary {
  /**
   * Serial number: lower-case hex of the INTEGER content octets with leading 0x00 (sign or padding)
   * octets removed: `03 e8` → `"03e8"`, `00 ff` → `"ff"`, `00` → `"0"`. A negative serial (RFC
   * 5280 §4.1.2.2 forbids them; some exist) is `"-"` and its magnitude, `ff` → `"-01"`, so it cannot
   * collide with a positive one. This is OpenSSL's `BN_bn2hex`, i.e. Node's `serialNumber`, lower-cased.
   */
  serialHex: string;
  /** RFC 4514 string, e.g. `CN=R11,O=Let's Encrypt,C=US`. */
  issuer: string;
  subject: string;
  subjectCommonName: string | null;
  /**
   * SAN dNSNames in order (of every SAN extension, should there be several: RFC 5280 §4.2 forbids
   * it, OpenSSL reads it, see extensions.ts), A–Z lower-cased and every other byte kept as the
   * Latin-1 character of the same code (a raw UTF-8 byte is not decoded, see `latin1AsciiLower`);
   * then the subject CN when it looks like a host name (letter-digit-hyphen labels, optional
   * leading `*.`, at least one dot, last label not all digits; ASCII only, lower-cased in ASCII)
   * and is not already listed. Text from outside: pass through `sanitizeText` before display.
   */
  dnsNames: string[];
  /** SAN iPAddresses: IPv4 dotted, IPv6 RFC 5952. */
  ipAddresses: string[];
  /** ISO 8601 UTC with seconds, e.g. `2025-05-03T17:13:19Z`. */
  notBefore: string;
  notAfter: string;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo. */
  spkiSha256: string;
  /**
   * Hex SHA-256 of `tbsWithoutCtExtensions(tbs)`: equal for a precertificate, the TBS a log stores
   * for it, and the final certificate — unless the precertificate was signed by an RFC 6962 §3.1
   * Precertificate Signing Certificate, whose issuer rewrite is not applied (see tbs-rewrite.ts).
   */
  tbsSha256: string;
  /** `rsa-2048`, `ecdsa-p256`, `ed25519`, … or `unknown:<oid>` (see key.ts). */
  keyType: string;
  /** The RFC 6962 §3.1 poison extension is present. */
  isPrecertificate: boolean;
  /** The RFC 6962 §3.3 SCT list extension is present. */
  hasEmbeddedScts: boolean;
  /** basicConstraints cA is TRUE (in any instance, should a certificate have several). */
  isCa: boolean;
}

/**
 * `serialHex` of the INTEGER content octets `buf[start, end)` (non-empty, checked by walkTbs):
 * hex of the magnitude without leading zero octets, like OpenSSL's `BN_bn2hex` (and so Node's
 * `X509Certificate.serialNumber`, lower-cased).
 */
function serialHex(buf: Uint8Array, start: number, end: number): string {
  if ((buf[start] as number) >= 0x80) return `-${negativeMagnitudeHex(buf, start, end)}`;
  let p = start;
  while (p < end - 1 && buf[p] === 0) p++;
  if (p === end - 1 && buf[p] === 0) return '0';
  return hex(buf, p, end);
}

/** Magnitude of a two's-complement negative INTEGER (X.690 §8.3.3): invert and add one. */
function negativeMagnitudeHex(buf: Uint8Array, start: number, end: number): string {
  const mag = new Uint8Array(end - start);
  let carry = 1;
  for (let i = end - 1; i >= start; i--) {
    const v = ((~(buf[i] as number) & 0xff) + carry) & 0x1ff;
    mag[i - start] = v & 0xff;
    carry = v >> 8;
  }
  let p = 0;
  while (p < mag.length - 1 && mag[p] === 0) p++;
  return hex(mag, p, mag.length);
}

/** Host-name shape for the CN fallback (RFC 1123 §2.1 labels; RFC 3696 §2: TLD not all-numeric). */
const HOSTNAME_RE =
  /^(?:\*\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?=[a-z0-9-]*[a-z-])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

const NON_ASCII_RE = /[\u0080-\uffff]/;

/** Reused by `summarizeLayout` for the rebuilt TBS it only hashes; grown on demand. */
let scratch = new Uint8Array(4096);

function hashTbs(buf: Uint8Array, layout: TbsLayout, scan: ExtensionScan): string {
  if (!hasCtExtensions(scan)) return sha256Hex(buf.subarray(layout.start, layout.end));
  if (scratch.length < layout.end - layout.start) scratch = new Uint8Array(2 * (layout.end - layout.start));
  return sha256Hex(buildTbsWithoutCt(buf, layout, scan, scratch));
}

/**
 * `CertSummary` without its digests: everything the walker checks and reads, the same errors for
 * the same input, but no SHA-256. A CT monitor decides with it whether an entry is watched at all
 * (99 % are not) and hashes only the entries it keeps: the two digests (plus the certificate's
 * own) were 3 of the 6 SHA-256 computations per entry in a profile of `monitor --once`.
 */
export type CertFacts = Omit<CertSummary, 'spkiSha256' | 'tbsSha256'>;

function summarizeLayout(buf: Uint8Array, layout: TbsLayout): CertSummary {
  const { facts: f, scan } = factsOfLayout(buf, layout);
  // Spelled out to keep CertSummary's key order (JSON output) as it always was.
  return {
    serialHex: f.serialHex,
    issuer: f.issuer,
    subject: f.subject,
    subjectCommonName: f.subjectCommonName,
    dnsNames: f.dnsNames,
    ipAddresses: f.ipAddresses,
    notBefore: f.notBefore,
    notAfter: f.notAfter,
    spkiSha256: sha256Hex(buf.subarray(layout.spkiStart, layout.spkiEnd)),
    tbsSha256: hashTbs(buf, layout, scan),
    keyType: f.keyType,
    isPrecertificate: f.isPrecertificate,
    hasEmbeddedScts: f.hasEmbeddedScts,
    isCa: f.isCa,
  };
}

function factsOfLayout(buf: Uint8Array, layout: TbsLayout): { facts: CertFacts; scan: ExtensionScan } {
  const issuer = formatIssuer(buf, layout.issuerStart, layout.issuerEnd, 'issuer');
  const subject = formatName(buf, layout.subjectStart, layout.subjectEnd, 'subject');
  const notBefore = timeToIso(
    buf,
    layout.notBeforeTag,
    layout.notBeforeStart,
    layout.notBeforeEnd,
    'notBefore',
  );
  const notAfter = timeToIso(buf, layout.notAfterTag, layout.notAfterStart, layout.notAfterEnd, 'notAfter');
  const scan = emptyScan();
  if (layout.extsStart >= 0) scanExtensions(buf, layout.extsSeqStart, layout.extsEnd, scan);
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  if (scan.sanStart >= 0) readSanNames(buf, scan.sanStart, scan.sanEnd, dnsNames, ipAddresses);
  if (scan.sanMore !== null) {
    for (let i = 0; i < scan.sanMore.length; i += 2) {
      readSanNames(buf, scan.sanMore[i] as number, scan.sanMore[i + 1] as number, dnsNames, ipAddresses);
    }
  }
  const cn = subject.commonName;
  // The CN fallback takes only all-ASCII CNs, lower-cased in ASCII: Unicode toLowerCase() maps
  // U+212A KELVIN SIGN to "k", so a CN "\u212Aey.example" would become the different, legitimate
  // name "key.example" (and U+0130 to "i" + U+0307). RFC 4343 §3: DNS case-folding is ASCII-only.
  if (cn !== null && NON_ASCII_RE.test(cn) === false) {
    const lower = cn.toLowerCase();
    if (lower.length <= 253 && HOSTNAME_RE.test(lower) && !dnsNames.includes(lower)) dnsNames.push(lower);
  }
  const facts: CertFacts = {
    serialHex: serialHex(buf, layout.serialStart, layout.serialEnd),
    issuer,
    subject: subject.dn,
    subjectCommonName: cn,
    dnsNames,
    ipAddresses,
    notBefore,
    notAfter,
    keyType: keyType(buf, layout.spkiStart, layout.spkiEnd),
    isPrecertificate: scan.poisonStart >= 0,
    hasEmbeddedScts: scan.sctStart >= 0,
    isCa: scan.isCa,
  };
  return { facts, scan };
}

/** Summarises a DER Certificate (RFC 5280 §4.1), e.g. an x509_entry or a pre_certificate. */
export function summarizeCertificate(der: Uint8Array): CertSummary {
  return guarded('certificate', () => {
    const cert = locateCertificate(der);
    return summarizeLayout(der, walkTbs(der, cert.tbsStart, cert.tbsEnd));
  });
}

/** `summarizeCertificate` without the digests (see `CertFacts`). */
export function certificateFacts(der: Uint8Array): CertFacts {
  return guarded('certificate', () => {
    const cert = locateCertificate(der);
    return factsOfLayout(der, walkTbs(der, cert.tbsStart, cert.tbsEnd)).facts;
  });
}

/** `summarizeTbs` without the digests (see `CertFacts`). */
export function tbsFacts(tbs: Uint8Array): CertFacts {
  return guarded('TBSCertificate', () => factsOfLayout(tbs, walkTbs(tbs, 0, tbs.length)).facts);
}

/**
 * Summarises a bare DER TBSCertificate, as a CT precert_entry carries it (RFC 6962 §3.4). That TBS
 * has the poison already removed, so `isPrecertificate` is false for it.
 */
export function summarizeTbs(tbs: Uint8Array): CertSummary {
  return guarded('TBSCertificate', () => summarizeLayout(tbs, walkTbs(tbs, 0, tbs.length)));
}

/** The three parts of a DER Certificate as views of the input (RFC 5280 §4.1.1). */
export interface CertificateParts {
  /** The whole TBSCertificate element. */
  tbs: Uint8Array;
  /** The whole signatureAlgorithm AlgorithmIdentifier element. */
  signatureAlgorithm: Uint8Array;
  /** The signature octets (the BIT STRING's content after its unused-bits octet). */
  signature: Uint8Array;
  /**
   * Unused bits in the last signature octet (X.690 §8.6.2.2), 0 for every signature algorithm in
   * use; a verifier should refuse a non-zero count (OpenSSL's ASN1_item_verify does).
   */
  signatureUnusedBits: number;
}

export function certificateParts(der: Uint8Array): CertificateParts {
  return guarded('certificate', () => {
    const c = locateCertificate(der);
    return {
      tbs: der.subarray(c.tbsStart, c.tbsEnd),
      signatureAlgorithm: der.subarray(c.sigAlgStart, c.sigAlgEnd),
      signature: der.subarray(c.signatureStart, c.signatureEnd),
      signatureUnusedBits: c.signatureUnusedBits,
    };
  });
}

function layoutOf(certOrTbs: Uint8Array, isTbs: boolean): TbsLayout {
  if (isTbs) return walkTbs(certOrTbs, 0, certOrTbs.length);
  const cert = locateCertificate(certOrTbs);
  return walkTbs(certOrTbs, cert.tbsStart, cert.tbsEnd);
}

/** The DER SubjectPublicKeyInfo element (a view) of a Certificate, or of a bare TBS with `isTbs`. */
export function subjectPublicKeyInfo(certOrTbs: Uint8Array, isTbs = false): Uint8Array {
  return guarded('SubjectPublicKeyInfo', () => {
    const layout = layoutOf(certOrTbs, isTbs);
    return certOrTbs.subarray(layout.spkiStart, layout.spkiEnd);
  });
}

function scanOf(buf: Uint8Array, layout: TbsLayout): ExtensionScan {
  const scan = emptyScan();
  if (layout.extsStart >= 0) scanExtensions(buf, layout.extsSeqStart, layout.extsEnd, scan);
  return scan;
}

/**
 * A bare TBSCertificate without the CT poison and SCT-list extensions, re-encoded (see
 * tbs-rewrite.ts for the choices). Returns the input itself when neither extension is present.
 */
export function tbsWithoutCtExtensions(tbs: Uint8Array): Uint8Array {
  return guarded('TBSCertificate', () => {
    const layout = walkTbs(tbs, 0, tbs.length);
    const scan = scanOf(tbs, layout);
    return hasCtExtensions(scan) ? buildTbsWithoutCt(tbs, layout, scan) : tbs;
  });
}

/**
 * The TLS-encoded SignedCertificateTimestampList embedded in a Certificate (or a bare TBS with
 * `isTbs`), as a view, or null when the extension is absent. RFC 6962 §3.3: the extnValue OCTET
 * STRING holds a DER OCTET STRING whose content is the list; this returns that content.
 */
export function embeddedSctList(certDer: Uint8Array, isTbs = false): Uint8Array | null {
  return guarded('SCT list', () => {
    const layout = layoutOf(certDer, isTbs);
    const scan = scanOf(certDer, layout);
    if (scan.sctStart < 0) return null;
    const inner = expectTlv(
      certDer,
      scan.sctValueStart,
      scan.sctValueEnd,
      TAG_OCTET_STRING,
      newTlv(),
      'SCT list',
    );
    if (inner.end !== scan.sctValueEnd) malformed('SCT list', inner.end, 'extra data after the OCTET STRING');
    return certDer.subarray(inner.contentStart, inner.end);
  });
}
