import { describe, expect, it } from 'vitest';
import { TAG_GENERALIZED_TIME, TAG_UTC_TIME } from './der.js';
import { timeToIso } from './time.js';

const iso = (tag: number, s: string): string => {
  const buf = Buffer.from(s, 'latin1');
  return timeToIso(buf, tag, 0, buf.length, 'time');
};

describe('timeToIso (RFC 5280 §4.1.2.5)', () => {
  it.each([
    [TAG_UTC_TIME, '250503171319Z', '2025-05-03T17:13:19Z'],
    // §4.1.2.5.1: YY >= 50 is 19YY, YY < 50 is 20YY.
    [TAG_UTC_TIME, '500101000000Z', '1950-01-01T00:00:00Z'],
    [TAG_UTC_TIME, '491231235959Z', '2049-12-31T23:59:59Z'],
    [TAG_UTC_TIME, '000229120000Z', '2000-02-29T12:00:00Z'],
    // Tolerated like Go/OpenSSL: no seconds, and offsets converted to UTC.
    [TAG_UTC_TIME, '1301011200Z', '2013-01-01T12:00:00Z'],
    [TAG_UTC_TIME, '130101120000+0130', '2013-01-01T10:30:00Z'],
    [TAG_UTC_TIME, '1212312330-0100', '2013-01-01T00:30:00Z'],
    [TAG_GENERALIZED_TIME, '20500101000000Z', '2050-01-01T00:00:00Z'],
    [TAG_GENERALIZED_TIME, '99991231235959Z', '9999-12-31T23:59:59Z'],
    [TAG_GENERALIZED_TIME, '00010101000000Z', '0001-01-01T00:00:00Z'],
    [TAG_GENERALIZED_TIME, '00500101000000+0000', '0050-01-01T00:00:00Z'],
    [TAG_GENERALIZED_TIME, '20240229000000+0100', '2024-02-28T23:00:00Z'],
    // Read like OpenSSL (it reads and prints them; refusing hid the certificate's names): no
    // seconds and fractional seconds in a GeneralizedTime; the fraction is dropped.
    [TAG_GENERALIZED_TIME, '20250503171319.5Z', '2025-05-03T17:13:19Z'],
    [TAG_GENERALIZED_TIME, '20250503171319.999+0100', '2025-05-03T16:13:19Z'],
    [TAG_GENERALIZED_TIME, '202505031713Z', '2025-05-03T17:13:00Z'],
    [TAG_GENERALIZED_TIME, '202505031713-0030', '2025-05-03T17:43:00Z'],
  ])('tag %i %s → %s', (tag, text, expected) => {
    expect(iso(tag, text)).toBe(expected);
  });

  it.each([
    [TAG_UTC_TIME, '2505031713Z9', 'no Z at the end'],
    [TAG_UTC_TIME, '250503171319', 'no zone'],
    [TAG_UTC_TIME, '25050317131Z', 'odd length'],
    [TAG_UTC_TIME, '251303171319Z', 'month 13'],
    [TAG_UTC_TIME, '250229000000Z', 'Feb 29 in a common year'],
    [TAG_UTC_TIME, '210431000000Z', 'April 31'],
    [TAG_UTC_TIME, '250503241319Z', 'hour 24'],
    [TAG_UTC_TIME, '250503171360Z', 'leap second (Go refuses it too)'],
    [TAG_UTC_TIME, '2505031713 9Z', 'space in digits'],
    [TAG_UTC_TIME, '', 'empty'],
    [TAG_GENERALIZED_TIME, '20250503171319.Z', 'no digit after the decimal point'],
    [TAG_GENERALIZED_TIME, '20250503171319,5Z', 'comma fraction (OpenSSL refuses it too)'],
    [TAG_GENERALIZED_TIME, '202505031713.5Z', 'fraction without seconds'],
    [TAG_GENERALIZED_TIME, '20250503171319', 'no zone'],
    [TAG_GENERALIZED_TIME, '20250503171319.5', 'fraction and no zone'],
    [TAG_GENERALIZED_TIME, '20250503171319Z0', 'characters after Z'],
    [TAG_GENERALIZED_TIME, '2025050317', 'too short'],
    [TAG_UTC_TIME, '250503171319.5Z', 'fraction in a UTCTime (OpenSSL refuses it too)'],
    [TAG_UTC_TIME, '2505031713', 'too short'],
    [TAG_UTC_TIME, '250503171319+01', 'short offset'],
    [TAG_GENERALIZED_TIME, '20250503171319+2400', 'offset hour 24'],
    [0x04, '250503171319Z', 'not a time type'],
  ])('rejects tag %i %j (%s)', (tag, text) => {
    expect(() => iso(tag, text)).toThrow(expect.objectContaining({ code: 'X509_MALFORMED' }));
  });
});
