/**
 * @module x509/time
 * Certificate validity times (RFC 5280 §4.1.2.5) to ISO 8601 UTC strings such as
 * `2025-05-03T17:13:19Z`, built straight from the digits without a `Date` in the common case.
 *
 * RFC 5280 requires `YYMMDDHHMMSSZ` (UTCTime, §4.1.2.5.1) and `YYYYMMDDHHMMSSZ` (GeneralizedTime,
 * §4.1.2.5.2). DEVIATION: like OpenSSL (`ossl_asn1_time_to_tm`, non-strict) the seconds may be
 * absent and a `+hhmm`/`-hhmm` offset may replace the `Z` (converted to UTC) in both types, and a
 * GeneralizedTime may carry fractional seconds (`.` and at least one digit, X.680 §46; X.690 §11.7
 * DER allows them, RFC 5280 forbids them). OpenSSL reads such certificates and gives them a
 * validity, old CT entries use them, and refusing one would hide its names from a monitor. The
 * fraction is dropped: the summary is to the second. Anything else (no zone, a comma fraction,
 * a fraction in a UTCTime, a leap second, OpenSSL refuses all of them too) is malformed.
 */
import { TAG_GENERALIZED_TIME, TAG_UTC_TIME } from './der.js';
import { malformed } from './errors.js';

const DIGIT_0 = 0x30;

function twoDigits(buf: Uint8Array, p: number, what: string): number {
  const a = (buf[p] as number) - DIGIT_0;
  const b = (buf[p + 1] as number) - DIGIT_0;
  if (!(a >= 0 && a <= 9 && b >= 0 && b <= 9)) malformed(what, p, 'expected two digits in time');
  return a * 10 + b;
}

function isDigit(b: number | undefined): boolean {
  return b !== undefined && b >= DIGIT_0 && b <= DIGIT_0 + 9;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Two-digit strings made once: every CT entry has two validity times, and padding each field
// afresh was ~7 % of the bytes the CT hot path allocates (sampling allocation profile).
const TWO_DIGITS: readonly string[] = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : String(n)));

function pad2(n: number): string {
  return TWO_DIGITS[n] as string; // 0 <= n <= 99 at every call site (checked ranges)
}

function pad4(n: number): string {
  return n >= 0 && n <= 9999 ? pad2(Math.floor(n / 100)) + pad2(n % 100) : String(n).padStart(4, '0');
}

/**
 * Converts the content octets `buf[start, end)` of a UTCTime or GeneralizedTime (`tag`) to ISO 8601
 * UTC with seconds and a `Z`, e.g. `2049-12-31T23:59:59Z`.
 */
export function timeToIso(buf: Uint8Array, tag: number, start: number, end: number, what: string): string {
  let p = start;
  let year: number;
  if (tag === TAG_UTC_TIME) {
    // YYMMDDHHMM[SS](Z|±hhmm): at least 11 characters.
    if (end - start < 11) malformed(what, start, `UTCTime of ${end - start} characters is too short`);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, YY < 50 is 20YY.
    const yy = twoDigits(buf, p, what);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p += 2;
  } else if (tag === TAG_GENERALIZED_TIME) {
    // YYYYMMDDHHMM[SS[.f+]](Z|±hhmm): at least 13 characters.
    if (end - start < 13) malformed(what, start, `GeneralizedTime of ${end - start} characters is too short`);
    year = twoDigits(buf, p, what) * 100 + twoDigits(buf, p + 2, what);
    p += 4;
  } else {
    malformed(what, start, `expected UTCTime or GeneralizedTime, found tag 0x${tag.toString(16)}`);
  }
  // MMDDHHMM (length checked above), then optional SS and fraction, then Z or ±hhmm.
  const month = twoDigits(buf, p, what);
  const day = twoDigits(buf, p + 2, what);
  const hour = twoDigits(buf, p + 4, what);
  const minute = twoDigits(buf, p + 6, what);
  p += 8;
  let second = 0;
  if (p + 2 <= end && isDigit(buf[p]) && isDigit(buf[p + 1])) {
    second = twoDigits(buf, p, what);
    p += 2;
    if (tag === TAG_GENERALIZED_TIME && buf[p] === 0x2e /* . */) {
      const fraction = ++p;
      while (p < end && isDigit(buf[p])) p++;
      if (p === fraction) malformed(what, p, 'no digit after the decimal point');
    }
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    malformed(what, start, 'date out of range');
  }
  // Go's time.Parse refuses a leap second (60), and so do we.
  if (hour > 23 || minute > 59 || second > 59) malformed(what, start, 'time of day out of range');
  if (p >= end) malformed(what, p, 'expected Z or a ±hhmm offset');
  const zone = buf[p];
  if (zone === 0x5a /* Z */) {
    if (p + 1 !== end) malformed(what, p, 'characters after Z');
    return `${pad4(year)}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}Z`;
  }
  if (zone !== 0x2b /* + */ && zone !== 0x2d /* - */) malformed(what, p, 'expected Z or a ±hhmm offset');
  if (p + 5 !== end) malformed(what, p, 'malformed ±hhmm offset');
  const offH = twoDigits(buf, p + 1, what);
  const offM = twoDigits(buf, p + 3, what);
  if (offH > 23 || offM > 59) malformed(what, p, 'offset out of range');
  const sign = zone === 0x2b ? 1 : -1;
  // Local time minus the offset is UTC. setUTCFullYear avoids Date.UTC's 0–99 → 1900s mapping.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour - sign * offH, minute - sign * offM, second, 0);
  const y = date.getUTCFullYear();
  const ys = y >= 0 && y <= 9999 ? pad4(y) : String(y);
  return (
    `${ys}-${pad2(date.getUTCMonth() + 1)}-${pad2(date.getUTCDate())}T` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}Z`
  );
}
