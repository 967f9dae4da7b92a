/**
 * @module x509/name
 * Distinguished names (RFC 5280 §4.1.2.4) to RFC 4514 strings, e.g. `CN=R11,O=Let's Encrypt,C=US`,
 * and the subject common name.
 *
 * RFC 4514 §2.1: RDNs are written last-to-first (the DER order is C, O, CN), joined by ",";
 * the attributes of a multi-valued RDN are joined by "+" in their DER order. §2.3: known types by
 * short name, others as the dotted OID. §2.4: a value is its string with the special characters
 * escaped, or "#" and the hex of its whole DER encoding when the type is given as an OID or the
 * value has no string form (non-string tag, invalid UTF-8/BMP/UniversalString).
 */
import { isUtf8 } from 'node:buffer';
import {
  TAG_BMP_STRING,
  TAG_IA5_STRING,
  TAG_NUMERIC_STRING,
  TAG_OID,
  TAG_PRINTABLE_STRING,
  TAG_SEQUENCE,
  TAG_SET,
  TAG_TELETEX_STRING,
  TAG_UNIVERSAL_STRING,
  TAG_UTF8_STRING,
  TAG_VISIBLE_STRING,
  bytesEqual,
  expectTlv,
  hex,
  latin1,
  newTlv,
  oid,
  oidToString,
  readTlv,
} from './der.js';
import { malformed } from './errors.js';

/**
 * X.520 attributes under id-at (2.5.4.n, content octets 55 04 n), keyed by n. CN, L, ST, O, OU, C,
 * STREET are RFC 4514 §3's table; the others use their RFC 4519 / OpenSSL names.
 */
const ID_AT_NAMES = new Map<number, string>([
  [3, 'CN'],
  [4, 'SN'], // surname (RFC 4519 §2.32), not serialNumber
  [5, 'serialNumber'],
  [6, 'C'],
  [7, 'L'],
  [8, 'ST'],
  [9, 'STREET'],
  [10, 'O'],
  [11, 'OU'],
  [12, 'title'],
  [15, 'businessCategory'],
  [17, 'postalCode'],
  [42, 'givenName'],
]);

const OID_DC = oid('0.9.2342.19200300.100.1.25'); // RFC 4514 §3
const OID_UID = oid('0.9.2342.19200300.100.1.1'); // RFC 4514 §3
const OID_EMAIL = oid('1.2.840.113549.1.9.1'); // PKCS #9 emailAddress (RFC 5280 §4.1.2.6 legacy)

/** Short name of an attribute type, or null to print the dotted OID (and a "#" value). */
function attributeName(buf: Uint8Array, start: number, end: number): string | null {
  if (end - start === 3 && buf[start] === 0x55 && buf[start + 1] === 0x04) {
    return ID_AT_NAMES.get(buf[start + 2] as number) ?? null;
  }
  if (bytesEqual(buf, start, end, OID_DC)) return 'DC';
  if (bytesEqual(buf, start, end, OID_UID)) return 'UID';
  if (bytesEqual(buf, start, end, OID_EMAIL)) return 'emailAddress';
  return null;
}

function allAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((buf[i] as number) >= 0x80) return false;
  return true;
}

/**
 * The string a directory string value stands for, or null when it has none (then RFC 4514 §2.4
 * prints "#hex"). TeletexString is read as Latin-1, as OpenSSL and browsers do in practice (its
 * T.61 repertoire is never used faithfully); PrintableString/IA5String bytes above 0x7f are kept as
 * Latin-1 characters rather than rejecting the whole certificate.
 */
export function decodeDirectoryString(
  buf: Uint8Array,
  tag: number,
  start: number,
  end: number,
): string | null {
  switch (tag) {
    case TAG_PRINTABLE_STRING:
    case TAG_IA5_STRING:
    case TAG_TELETEX_STRING:
    case TAG_VISIBLE_STRING:
    case TAG_NUMERIC_STRING:
      return latin1(buf, start, end);
    case TAG_UTF8_STRING: {
      if (allAscii(buf, start, end)) return latin1(buf, start, end);
      const view = Buffer.from(buf.buffer, buf.byteOffset + start, end - start);
      return isUtf8(view) ? view.toString('utf8') : null;
    }
    case TAG_BMP_STRING: {
      // X.680 §41: UCS-2 big-endian; read as UTF-16BE (surrogate pairs combine). A lone surrogate
      // is no character (and has no UTF-8 form for RFC 4514 §2.4): no string form, so "#hex".
      if ((end - start) % 2 !== 0) return null;
      let s = '';
      for (let i = start; i < end; i += 2) {
        const unit = ((buf[i] as number) << 8) | (buf[i + 1] as number);
        if (unit >= 0xd800 && unit <= 0xdfff) {
          const next = i + 3 < end ? ((buf[i + 2] as number) << 8) | (buf[i + 3] as number) : -1;
          if (unit > 0xdbff || next < 0xdc00 || next > 0xdfff) return null;
          s += String.fromCharCode(unit, next);
          i += 2;
        } else s += String.fromCharCode(unit);
      }
      return s;
    }
    case TAG_UNIVERSAL_STRING: {
      // X.680 §41: UCS-4 big-endian.
      if ((end - start) % 4 !== 0) return null;
      let s = '';
      for (let i = start; i < end; i += 4) {
        const cp =
          (buf[i] as number) * 0x1000000 +
          (((buf[i + 1] as number) << 16) | ((buf[i + 2] as number) << 8) | (buf[i + 3] as number));
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
        s += String.fromCodePoint(cp);
      }
      return s;
    }
    default:
      return null;
  }
}

/**
 * Characters RFC 4514 §2.4 requires escaping anywhere, plus the ones we escape as hex pairs: C0
 * and C1 controls, DEL, format characters (Cf: bidi overrides and isolates, zero-width
 * characters, soft hyphen) and U+2028/2029 — the set `sanitizeText` (src/sanitize.ts) neutralises.
 */
// A superset (every non-ASCII value takes the slow path, which decides per character): a
// non-`u` pattern keeps the common all-ASCII value on V8's fastest regex path.
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[,+"\\<>;\u0000-\u001f\u007f-\uffff]|^[ #]| $/;
// eslint-disable-next-line no-control-regex
const HEX_ESCAPED = /^[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]$/u;

/**
 * RFC 4514 §2.4 escaping: `,` `+` `"` `\` `<` `>` `;` get a backslash; so do a leading space or
 * `#` and a trailing space; NUL becomes `\00`. Controls (C0, DEL, C1), format characters and
 * U+2028/2029 are also written as the hex pairs of their UTF-8 octets (§2.4: "other characters
 * may be escaped", `\e2\80\ae` for U+202E), so a DN can never carry a raw control, bidi override
 * or line separator into logs, terminals or pages, and the escaping stays reversible: two
 * different names never render alike.
 */
export function escapeValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  let out = '';
  let i = 0;
  const last = value.length - 1;
  for (const ch of value) {
    if (ch < ' ' || (ch >= '\u007f' && HEX_ESCAPED.test(ch))) {
      for (const b of Buffer.from(ch, 'utf8')) out += `\\${b.toString(16).padStart(2, '0')}`;
    } else if (',+"\\<>;'.includes(ch)) out += `\\${ch}`;
    else if ((i === 0 && (ch === ' ' || ch === '#')) || (i === last && ch === ' ')) out += `\\${ch}`;
    else out += ch;
    i += ch.length;
  }
  return out;
}

/** A formatted Name and the subject common name, as `formatName` returns them. */
export interface FormattedName {
  dn: string;
  /** The CN value; with several CN attributes the last in DER order (Go's pkix.Name does the same). */
  commonName: string | null;
}

/**
 * Formats the Name element `buf[start, end)` (the whole SEQUENCE TLV) per RFC 4514.
 * `Name ::= SEQUENCE OF RelativeDistinguishedName`, `RDN ::= SET SIZE (1..MAX) OF
 * AttributeTypeAndValue`, `AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY }`.
 */
export function formatName(buf: Uint8Array, start: number, end: number, what: string): FormattedName {
  const name = expectTlv(buf, start, end, TAG_SEQUENCE, newTlv(), what);
  const rdn = newTlv();
  const atv = newTlv();
  const type = newTlv();
  const value = newTlv();
  const rdns: string[] = [];
  let commonName: string | null = null;
  for (let p = name.contentStart; p < name.end; p = rdn.end) {
    expectTlv(buf, p, name.end, TAG_SET, rdn, what);
    // RFC 5280 §4.1.2.4 / X.501: a RelativeDistinguishedName has at least one attribute.
    if (rdn.contentStart === rdn.end) malformed(what, rdn.start, 'empty RelativeDistinguishedName');
    let text = '';
    for (let q = rdn.contentStart; q < rdn.end; q = atv.end) {
      expectTlv(buf, q, rdn.end, TAG_SEQUENCE, atv, what);
      expectTlv(buf, atv.contentStart, atv.end, TAG_OID, type, what);
      readTlv(buf, type.end, atv.end, value, what);
      if (value.end !== atv.end) malformed(what, value.end, 'extra data in AttributeTypeAndValue');
      const short = attributeName(buf, type.contentStart, type.end);
      const str =
        short === null ? null : decodeDirectoryString(buf, value.tag, value.contentStart, value.end);
      const typeText = short ?? oidToString(buf, type.contentStart, type.end, what);
      const valueText = str === null ? `#${hex(buf, value.start, value.end)}` : escapeValue(str);
      if (short === 'CN') commonName = str;
      text += text === '' ? `${typeText}=${valueText}` : `+${typeText}=${valueText}`;
    }
    rdns.push(text);
  }
  return { dn: rdns.reverse().join(','), commonName };
}

/** Issuer names repeat across a log (a handful of CAs), so their strings are memoised by DER. */
const issuerCache = new Map<string, string>();
const ISSUER_CACHE_MAX = 512;

/**
 * `formatName(...).dn` memoised by the Name's DER bytes. The cache is bounded: when full it is
 * cleared, which keeps memory flat on a log with unusually many issuers at the cost of re-formatting.
 */
export function formatIssuer(buf: Uint8Array, start: number, end: number, what: string): string {
  const key = latin1(buf, start, end);
  const hit = issuerCache.get(key);
  if (hit !== undefined) return hit;
  const dn = formatName(buf, start, end, what).dn;
  if (issuerCache.size >= ISSUER_CACHE_MAX) issuerCache.clear();
  issuerCache.set(key, dn);
  return dn;
}
