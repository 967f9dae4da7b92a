import { describe, expect, it } from 'vitest';
import { headerLength, newTlv, oid, oidToString, readTlv, writeHeader } from './der.js';
import { X509Error } from './errors.js';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));

describe('readTlv (X.690 DER headers)', () => {
  it.each([
    ['short length', '30 03 020100', 0x30, 2, 5],
    ['empty content', '05 00', 0x05, 2, 2],
    ['long form, 1 octet', `04 81 80 ${'00'.repeat(128)}`, 0x04, 3, 131],
    ['long form, 2 octets', `04 82 0100 ${'00'.repeat(256)}`, 0x04, 4, 260],
    ['context [3] constructed', 'a3 02 0500', 0xa3, 2, 4],
    ['high tag number 31', '1f 1f 00', 0x1f * 256 + 0x1f, 3, 3],
    ['high tag number 200', '9f 81 48 00', 200 * 256 + 0x9f, 4, 4],
  ])('%s', (_, hex, tag, contentStart, end) => {
    const t = readTlv(bytes(hex), 0, bytes(hex).length, newTlv(), 'test');
    expect(t).toEqual({ tag, start: 0, contentStart, end });
  });

  it.each([
    ['nothing', '', 'missing element'],
    ['tag only', '30', 'no length octets'],
    ['indefinite length (BER)', '30 80 0000', 'indefinite length'],
    ['long form for a short length', '04 81 05 0102030405', 'non-minimal length'],
    ['leading zero length octet', `04 82 0080 ${'00'.repeat(128)}`, 'non-minimal length'],
    ['five length octets', '04 85 0100000000', 'too long'],
    ['reserved 0xff length', '04 ff', 'too long'],
    ['length past the end', '30 05 0201', 'exceeds the 2 bytes available'],
    ['truncated long length', '04 82 01', 'truncated length octets'],
    ['high tag for a low number', '1f 05 00', 'high-tag-number form'],
    ['non-minimal high tag', '1f 80 1f 00', 'non-minimal tag number'],
    ['truncated high tag', '1f 81', 'truncated identifier octets'],
  ])('rejects %s', (_, hex, message) => {
    const buf = bytes(hex);
    let caught: unknown;
    try {
      readTlv(buf, 0, buf.length, newTlv(), 'test');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(X509Error);
    expect(caught).toMatchObject({ code: 'X509_MALFORMED' });
    expect((caught as Error).message).toContain(message);
    expect((caught as Error).message).toMatch(/at offset \d+/);
  });

  it('never reads past the limit it is given, even when the buffer continues', () => {
    // A valid element in the buffer, but the enclosing element ends one byte earlier.
    expect(() => readTlv(bytes('30 03 020100'), 0, 4, newTlv(), 'inner')).toThrow(/exceeds/);
  });
});

describe('writeHeader / headerLength', () => {
  it.each([0, 1, 127, 128, 255, 256, 65535, 65536, 0xffffff, 0x1000000])('round-trips length %i', (len) => {
    const out = new Uint8Array(headerLength(len) + len);
    const p = writeHeader(out, 0, 0x04, len);
    expect(p).toBe(headerLength(len));
    const t = readTlv(out, 0, out.length, newTlv(), 'test');
    expect(t.end - t.contentStart).toBe(len);
  });
});

describe('oidToString (X.690 §8.19)', () => {
  it.each([
    ['2a864886f70d010101', '1.2.840.113549.1.1.1'],
    ['550403', '2.5.4.3'],
    ['2b0601040183e30c', '1.3.6.1.4.1.61836'],
    ['0992268993f22c640119', '0.9.2342.19200300.100.1.25'],
    ['8837', '2.999'],
  ])('%s → %s', (hex, dotted) => {
    const buf = bytes(hex);
    expect(oidToString(buf, 0, buf.length, 'oid')).toBe(dotted);
  });

  it.each([
    '2.5.4.3',
    '1.2.840.10045.3.1.7',
    '1.3.6.1.4.1.11129.2.4.3',
    '2.999.1',
    // 2.25.<UUID as a 128-bit integer> (X.667) needs more than 53 bits per arc.
    '2.25.329800735698586629295641978511506172918',
    '2.100000000000000000000.3',
  ])('oid(%s) round-trips', (d) => {
    const enc = oid(d);
    expect(oidToString(enc, 0, enc.length, 'oid')).toBe(d);
  });

  it.each([
    ['', 'empty'],
    ['2a86', 'truncated'],
    ['2a8001', 'non-minimal'],
  ])('rejects %j (%s)', (hex, message) => {
    const buf = bytes(hex);
    expect(() => oidToString(buf, 0, buf.length, 'oid')).toThrow(message);
  });
});
