/**
 * @module x509/der
 * A minimal DER (ITU-T X.690) reader over bytes the caller already holds.
 *
 * Why hand-written instead of a library: the Certificate Transparency hot path must summarise
 * ≥ 50,000 certificates per second on one core, and Node's `crypto.X509Certificate` (+ its
 * `subjectAltName`) manages about 9,000 per CPU second against this walker's 180,000
 * (`bench/x509.ts`: 2-vCPU AMD EPYC VM, Node 20.20; the ratio, ~20×, is what carries to other
 * machines). General ASN.1 libraries build an object per element and copy every value; this
 * reader fills a caller-owned `Tlv` in place and returns offsets, so walking a certificate allocates
 * nothing per element and every value stays a view (subarray) of the input. It reads only the few
 * universal types a certificate summary needs.
 *
 * Strictness where safety needs it: definite lengths only (X.690 §10.1), minimal length octets
 * (§10.1, §8.1.3.5 note), no read past the enclosing element, tags checked by the callers. Every
 * failure is an `X509Error` `X509_MALFORMED` naming the element and the byte offset.
 */
import { malformed } from './errors.js';

/** Universal tags (X.690 §8.1.2, X.680 §8.4) as single identifier octets. */
export const TAG_BOOLEAN = 0x01;
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_UTF8_STRING = 0x0c;
export const TAG_NUMERIC_STRING = 0x12;
export const TAG_PRINTABLE_STRING = 0x13;
export const TAG_TELETEX_STRING = 0x14;
export const TAG_IA5_STRING = 0x16;
export const TAG_UTC_TIME = 0x17;
export const TAG_GENERALIZED_TIME = 0x18;
export const TAG_VISIBLE_STRING = 0x1a;
export const TAG_UNIVERSAL_STRING = 0x1c;
export const TAG_BMP_STRING = 0x1e;
export const TAG_SEQUENCE = 0x30;
export const TAG_SET = 0x31;

/** Context-specific tag `[n]`, constructed (X.690 §8.1.2.5): what EXPLICIT tagging produces. */
export function contextConstructed(n: number): number {
  return 0xa0 | n;
}

/** Context-specific tag `[n]`, primitive: what IMPLICIT tagging of a primitive type produces. */
export function contextPrimitive(n: number): number {
  return 0x80 | n;
}

/** One element's header, filled in place by `readTlv`. */
export interface Tlv {
  /**
   * The identifier octet for tag numbers below 31 (all X.509 uses). A high-tag-number form
   * (§8.1.2.4) is folded into `number * 256 + first octet`, which is above 0xff and so can never
   * equal an expected low tag.
   */
  tag: number;
  /** Offset of the identifier octet (the element's first byte). */
  start: number;
  /** Offset of the first content octet. */
  contentStart: number;
  /** Offset just past the last content octet (the element's end). */
  end: number;
}

export function newTlv(): Tlv {
  return { tag: 0, start: 0, contentStart: 0, end: 0 };
}

/** High-tag-number values beyond 3 base-128 octets do not occur in certificates. */
const MAX_HIGH_TAG = 0x1fffff;

/**
 * Reads the element starting at `pos`, which must end at or before `limit`, into `out`.
 * `what` names the element for the error message.
 */
export function readTlv(buf: Uint8Array, pos: number, limit: number, out: Tlv, what: string): Tlv {
  if (pos >= limit) malformed(what, pos, 'missing element');
  let p = pos;
  let tag = buf[p++] as number;
  if ((tag & 0x1f) === 0x1f) {
    // X.690 §8.1.2.4: tag number in base-128 octets, bit 8 set on all but the last.
    let n = 0;
    let b: number;
    do {
      if (p >= limit) malformed(what, p, 'truncated identifier octets');
      b = buf[p++] as number;
      // §8.1.2.4.2 c): the first subsequent octet shall not be 0x80 (non-minimal).
      if (n === 0 && b === 0x80) malformed(what, p - 1, 'non-minimal tag number');
      n = n * 128 + (b & 0x7f);
      if (n > MAX_HIGH_TAG) malformed(what, p - 1, 'tag number too large');
    } while ((b & 0x80) !== 0);
    // DER (§8.1.2.2): numbers 0–30 must use the single-octet form.
    if (n < 31) malformed(what, pos, `tag number ${n} in high-tag-number form`);
    tag = n * 256 + tag;
  }
  if (p >= limit) malformed(what, p, 'truncated: no length octets');
  let len = buf[p++] as number;
  if (len >= 0x80) {
    const count = len & 0x7f;
    // X.690 §10.1: DER uses the definite form only; 0x80 is the BER indefinite form.
    if (count === 0) malformed(what, p - 1, 'indefinite length (BER) is not allowed in DER');
    // Four octets already describe 4 GiB, far more than any input; 0xff is reserved (§8.1.3.5 c).
    if (count > 4) malformed(what, p - 1, `length of ${count} octets is too long`);
    if (count > limit - p) malformed(what, p, 'truncated length octets');
    // X.690 §10.1: "the length shall be encoded in the minimum number of octets".
    if (buf[p] === 0) malformed(what, p, 'non-minimal length (leading zero octet)');
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + (buf[p++] as number);
    if (len < 0x80) malformed(what, pos, 'non-minimal length (long form for a length below 128)');
  }
  if (len > limit - p) {
    malformed(what, pos, `length ${len} exceeds the ${limit - p} bytes available`);
  }
  out.tag = tag;
  out.start = pos;
  out.contentStart = p;
  out.end = p + len;
  return out;
}

/** `readTlv` plus a check of the tag. */
export function expectTlv(
  buf: Uint8Array,
  pos: number,
  limit: number,
  tag: number,
  out: Tlv,
  what: string,
): Tlv {
  readTlv(buf, pos, limit, out, what);
  if (out.tag !== tag) malformed(what, pos, `expected tag ${tagName(tag)}, found ${tagName(out.tag)}`);
  return out;
}

/** Tag as printed in messages: hex of the identifier octet, e.g. `0x30`. */
export function tagName(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

/** Length of the DER header (identifier + length octets) for a low-numbered tag and a content length. */
export function headerLength(contentLength: number): number {
  if (contentLength < 0x80) return 2;
  if (contentLength < 0x100) return 3;
  if (contentLength < 0x10000) return 4;
  if (contentLength < 0x1000000) return 5;
  return 6;
}

/** Writes a DER header (low tag, minimal definite length) at `pos`; returns the offset after it. */
export function writeHeader(out: Uint8Array, pos: number, tag: number, contentLength: number): number {
  out[pos++] = tag;
  const n = headerLength(contentLength) - 2;
  if (n === 0) {
    out[pos++] = contentLength;
    return pos;
  }
  out[pos++] = 0x80 | n;
  for (let shift = (n - 1) * 8; shift >= 0; shift -= 8)
    out[pos++] = Math.floor(contentLength / 2 ** shift) & 0xff;
  return pos;
}

/** True when `buf[start, end)` equals `expected` byte for byte. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/** Lower-case hex of `buf[start, end)` (Node's hex encoder, no copy). */
export function hex(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('hex');
}

/** Latin-1 decoding of `buf[start, end)`: one char per byte, what ASCII-only types need. */
export function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/**
 * Latin-1 decoding of `buf[start, end)` with ASCII letters lower-cased (A–Z → a–z) and every other
 * byte kept as the character of the same code (one char per byte), for dNSNames (RFC 5280
 * §4.2.1.6: IA5String, compared case-insensitively in ASCII only, RFC 4343 §3). Unicode
 * `toLowerCase()` would turn a stray byte 0xC0 ("À") into 0xE0 ("à"), i.e. into another name; here
 * distinct byte strings stay distinct strings up to ASCII case, so a raw UTF-8 or control byte can
 * never produce a name equal to a different, legitimate (all-ASCII) one.
 */
export function latin1AsciiLower(buf: Uint8Array, start: number, end: number): string {
  const text = latin1(buf, start, end);
  // All-ASCII (every real dNSName): the native lower-caser only touches A–Z there.
  if (!NON_ASCII_RE.test(text)) return text.toLowerCase();
  return text.replace(ASCII_UPPER_RE, (m) => m.toLowerCase());
}

const NON_ASCII_RE = /[\u0080-\uffff]/;
const ASCII_UPPER_RE = /[A-Z]+/g;

/**
 * Dotted-decimal form of an OBJECT IDENTIFIER's content octets (X.690 §8.19). Arcs are base-128;
 * the first octet group encodes 40·X + Y (§8.19.4). Arcs beyond 2^53 (e.g. 2.25 UUID arcs) are
 * computed with BigInt. Rejects an empty OID, a non-minimal arc and a truncated last arc.
 */
export function oidToString(buf: Uint8Array, start: number, end: number, what: string): string {
  if (start >= end) malformed(what, start, 'empty OBJECT IDENTIFIER');
  if (((buf[end - 1] as number) & 0x80) !== 0) malformed(what, end - 1, 'truncated OBJECT IDENTIFIER arc');
  const arcs: string[] = [];
  let p = start;
  while (p < end) {
    // §8.19.2: "the leading octet of the subidentifier shall not have the value 0x80".
    if (buf[p] === 0x80) malformed(what, p, 'non-minimal OBJECT IDENTIFIER arc');
    let value = 0;
    let big: bigint | null = null;
    let b: number;
    do {
      b = buf[p++] as number;
      if (big === null && value > 2 ** 45) big = BigInt(value);
      if (big === null) value = value * 128 + (b & 0x7f);
      else big = big * 128n + BigInt(b & 0x7f);
    } while ((b & 0x80) !== 0);
    if (arcs.length === 0) {
      // §8.19.4: the first subidentifier is 40·X + Y with X ∈ {0, 1, 2}; X = 2 takes any Y.
      if (big !== null) arcs.push('2', (big - 80n).toString());
      else if (value < 40) arcs.push('0', String(value));
      else if (value < 80) arcs.push('1', String(value - 40));
      else arcs.push('2', String(value - 80));
    } else arcs.push(big !== null ? big.toString() : String(value));
  }
  return arcs.join('.');
}

/** Encodes a dotted OID's content octets; for constants, so they read as text in the source. */
export function oid(dotted: string): Uint8Array {
  const parts = dotted.split('.').map((s) => BigInt(s));
  const [x = 0n, y = 0n, ...rest] = parts;
  const out: number[] = [];
  for (const arc of [x * 40n + y, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) groups.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...groups);
  }
  return Uint8Array.from(out);
}
